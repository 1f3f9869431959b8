import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { podOf, serviceOf, type PodInfo, type ServiceInfo } from '../../src/discovery/k8s-model.js';
import { kubeletHostname, predictNames } from '../../src/discovery/predict.js';

const load = (f: string) => JSON.parse(readFileSync(new URL(`../fixtures/k8s/${f}`, import.meta.url), 'utf8'));
const service = serviceOf(load('service-myapp-headless.json'));
const pods = load('podlist-myapp.json').items.map(podOf) as PodInfo[];
const SVC = 'myapp-headless.default.svc.cluster.local';

const pod = (over: Partial<PodInfo>): PodInfo => ({
  name: 'p', namespace: 'default', hostname: undefined, subdomain: undefined, setHostnameAsFQDN: false, podIPs: ['10.0.0.1'],
  ready: true, phase: 'Running', owner: undefined, labels: {}, nodeName: undefined, deleting: false, ...over,
});

test('fixtures convert: headless service with a named port, pods with subdomain and owner', () => {
  assert.equal(service.headless, true);
  assert.deepEqual(service.ports, [{ name: 'epmd', port: 4369, protocol: 'TCP', targetPort: 4369 }]);
  assert.deepEqual(service.selector, { app: 'myapp' });
  assert.equal(pods.length, 3);
  assert.deepEqual(pods[0].owner, { kind: 'ReplicaSet', name: 'myapp-7d9f8b6c5' });
  assert.equal(pods[0].subdomain, 'myapp-headless');
  assert.deepEqual(pods.map((p) => p.ready), [true, true, false]);
});

test('Deployment + subdomain: self FQDN is served only with endpoint_pod_names', () => {
  const [p] = predictNames(pods, service, {});
  assert.equal(p.selfFqdn, `myapp-7d9f8b6c5-abcde.${SVC}`);
  assert.equal(p.endpointHostname, undefined);
  assert.equal(p.dnsName.withoutEndpointPodNames, `10-244-1-11.${SVC}`);
  assert.equal(p.dnsName.withEndpointPodNames, `myapp-7d9f8b6c5-abcde.${SVC}`);
  assert.equal(p.dnsName.actual, undefined, 'Corefile unknown');
  assert.deepEqual(p.matches, { withoutEndpointPodNames: false, withEndpointPodNames: true, actual: undefined });
  assert.deepEqual(p.problems.map((x) => x.code), ['needs-endpoint-pod-names']);
  const known = predictNames(pods, service, { endpointPodNames: true });
  assert.equal(known[0].matches.actual, true);
  assert.deepEqual(known[0].problems, []);
  assert.equal(predictNames(pods, service, { endpointPodNames: false })[0].matches.actual, false);
  // the not-ready pod is absent from DNS
  assert.deepEqual(predictNames(pods, service, { endpointPodNames: true })[2].problems.map((x) => x.code), ['not-in-dns']);
  assert.equal(predictNames(pods, { ...service, publishNotReadyAddresses: true }, { endpointPodNames: true })[2].inDns, true);
});

test('StatefulSet pod: hostname + subdomain == service → same name in both modes', () => {
  const [p] = predictNames([pod({ name: 'myapp-0', hostname: 'myapp-0', subdomain: 'myapp-headless' })], service, { endpointPodNames: false });
  assert.equal(p.endpointHostname, 'myapp-0');
  assert.equal(p.selfFqdn, `myapp-0.${SVC}`);
  assert.equal(p.dnsName.withoutEndpointPodNames, p.selfFqdn);
  assert.equal(p.dnsName.withEndpointPodNames, p.selfFqdn);
  assert.deepEqual(p.problems, []);
});

test('StatefulSet serviceName ≠ the headless service: no endpoint hostname, FQDN under another name', () => {
  const [p] = predictNames([pod({ name: 'myapp-0', hostname: 'myapp-0', subdomain: 'myapp' })], service, {});
  assert.equal(p.endpointHostname, undefined);
  assert.equal(p.selfFqdn, 'myapp-0.myapp.default.svc.cluster.local');
  assert.deepEqual(p.problems.map((x) => x.code), ['subdomain-mismatch']);
});

test('no subdomain, custom zone, not headless, long names', () => {
  const [a] = predictNames([pod({ name: 'web-1' })], service, { clusterDomain: 'k8s.example.com' });
  assert.equal(a.selfFqdn, undefined);
  assert.equal(a.dnsName.withoutEndpointPodNames, '10-0-0-1.myapp-headless.default.svc.k8s.example.com');
  assert.deepEqual(a.problems.map((x) => x.code), ['no-subdomain']);

  const clusterIp: ServiceInfo = { ...service, clusterIP: '10.96.14.7', headless: false };
  const [b] = predictNames([pod({ name: 'web-1', subdomain: 'myapp-headless' })], clusterIp, {});
  assert.equal(b.dnsName.withEndpointPodNames, undefined);
  assert.ok(b.problems.some((x) => x.code === 'not-headless'));

  const long = `${'a'.repeat(60)}-7d9f8b6c5-abcde`;
  assert.equal(kubeletHostname({ name: long, hostname: undefined }), `${'a'.repeat(60)}-7d`);
  const [c] = predictNames([pod({ name: long, subdomain: 'myapp-headless', setHostnameAsFQDN: true })], service, {});
  assert.equal(c.dnsName.withEndpointPodNames, `10-0-0-1.${SVC}`, 'CoreDNS falls back to the dashed IP');
  assert.deepEqual(c.problems.map((x) => x.code).sort(), ['fqdn-too-long', 'name-mismatch', 'pod-name-too-long']);
  // a cut that ends in '-' is trimmed like the kubelet does
  assert.equal(kubeletHostname({ name: `${'b'.repeat(62)}-xyz`, hostname: undefined }), 'b'.repeat(62));
});
