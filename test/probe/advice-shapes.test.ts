/** The advice for the shapes of issue 16 (IPv6, TLS, sidecars, readiness, StatefulSet services, hostNetwork, partial meshes), from crafted findings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advise, judge } from '../../src/probe/advice.js';
import { mergeDualStack } from '../../src/probe/probe.js';
import type { KubernetesFacts, NodeReport } from '../../src/probe/types.js';
import { attempt, host, podNamesNode, report, SVC } from './fixtures.js';

const codes = (r: ReturnType<typeof report>) => advise(r).map((a) => a.code);
const text = (r: ReturnType<typeof report>, code: string) => advise(r).find((a) => a.code === code)?.text ?? '';

function ipNamed(ip: string, dnsName: string, o: Partial<NodeReport> = {}): NodeReport {
  const name = `myapp@${ip}`;
  return {
    name, nameKnown: true, alive: 'myapp', host: ip, dnsName, port: 9100, longNames: true,
    attempts: [attempt('ip', name, { forms: ['ip', 'fqdn'], accepted: true }), attempt('dns', `myapp@${dnsName}`, { reason: 'mismatch', actual: name })],
    ...o,
  };
}

test('IPv6 names: ip-name-mismatch says inet6_tcp and AAAA; ipv6 advice when only AAAA hosts and a node is not reachable by discovery', () => {
  const n = ipNamed('fd00::11', `myapp-0.${SVC}`);
  const r = report({ nodes: [n] });
  r.hosts = [host('fd00::11', n.dnsName)];
  assert.ok(codes(r).includes('ip-name-mismatch'));
  assert.match(text(r, 'ip-name-mismatch'), /inet6_tcp/);
  assert.match(text(r, 'ip-name-mismatch'), /AAAA/);
  assert.ok(codes(r).includes('ipv6'));
  // The same findings over IPv4: no IPv6 wording.
  const v4 = report({ nodes: [ipNamed('10.0.0.11', `myapp-0.${SVC}`)] });
  assert.doesNotMatch(text(v4, 'ip-name-mismatch'), /inet6_tcp/);
  assert.ok(!codes(v4).includes('ipv6'));
});

test('dual stack: IPv4 discovered, IPv6 named → ip-family; the same node at both addresses is merged, not a duplicate', () => {
  const v4 = ipNamed('fd00::11', '10.0.0.11', { host: '10.0.0.11' });
  v4.attempts = [attempt('ip', 'myapp@10.0.0.11', { forms: ['ip', 'dns'], reason: 'mismatch', actual: 'myapp@fd00::11' }), attempt('fqdn', 'myapp@fd00::11', { accepted: true })];
  const v6 = ipNamed('fd00::11', 'fd00::11');
  v6.attempts = [attempt('ip', 'myapp@fd00::11', { forms: ['ip', 'dns', 'fqdn'], accepted: true })];
  const merged = mergeDualStack([v4, v6]);
  assert.equal(merged.length, 1);
  assert.deepEqual(merged[0].alsoAt, ['fd00::11']);
  assert.deepEqual(merged[0].attempts.map((a) => a.dialed), ['myapp@10.0.0.11', 'myapp@fd00::11']);
  const r = report({ nodes: merged });
  r.hosts = [host('10.0.0.11', '10.0.0.11'), host('fd00::11', 'fd00::11')];
  assert.ok(codes(r).includes('ip-family'));
  assert.ok(!codes(r).includes('duplicate-name') && !codes(r).includes('no-nodes'), codes(r).join());
  // Two nodes of the same family with one name stay two (a real duplicate).
  assert.equal(mergeDualStack([ipNamed('fd00::11', 'x', { host: 'fd00::12' }), ipNamed('fd00::11', 'x')]).length, 2);
});

test('TLS: a TLS peer gets the flags to use; a failed TLS dial of ours gets the certificate advice', () => {
  const n = podNamesNode('myapp-0', '10.0.0.11');
  n.nameKnown = false;
  n.firstContactReason = 'tls';
  n.attempts = n.attempts.map((a) => ({ ...a, accepted: false, reason: 'tls' as const, detail: 'the port speaks TLS: …' }));
  const r = report({ nodes: [n] });
  assert.equal(judge(r), 'broken');
  assert.match(text(r, 'tls'), /-proto_dist inet_tls.*--tls-cert/s);
  n.attempts[0] = { ...n.attempts[0], detail: 'TLS with myapp@… failed: ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' };
  assert.match(text(r, 'tls'), /CERTIFICATE_REQUIRED.*--tls-ca/s);
});

test('sidecar: EPMD answered by a proxy, or a distribution port that resets: the exclusions for Istio and Linkerd, and not EPMD/dist-port advice', () => {
  const n = podNamesNode('myapp-1', '10.0.0.12');
  n.nameKnown = false;
  n.firstContactReason = 'reset';
  n.firstContact = 'the port accepted the connection, then reset it without a byte of handshake';
  const r = report({ nodes: [n] });
  r.hosts = [host('10.0.0.11', 'a', { epmd: 'foreign', error: 'port 4369 accepted and answered NAMES with HTTP/1.1 400 Bad Request' }), host('10.0.0.12', n.dnsName)];
  const t = text(r, 'sidecar');
  assert.match(t, /HTTP\/1\.1 400/);
  assert.match(t, /traffic\.sidecar\.istio\.io\/excludeInboundPorts/);
  assert.match(t, /config\.linkerd\.io\/skip-inbound-ports/);
  assert.match(t, /inet_dist_listen_min/);
  assert.ok(!codes(r).includes('epmd-unreachable') && !codes(r).includes('dist-port'), codes(r).join());
});

const k8s = (o: Partial<KubernetesFacts>): KubernetesFacts => ({ namespace: 'default', headless: true, publishNotReadyAddresses: false, endpoints: [], pods: [], ...o });

test('not ready: publishNotReadyAddresses only for pods with a readiness probe; not-ready for the others', () => {
  const r = report({ nodes: [podNamesNode('myapp-0', '10.0.0.11')] });
  r.discovery.kubernetes = k8s({
    endpoints: [{ ip: '10.0.0.12', pod: 'myapp-1', ready: false }, { ip: '10.0.0.13', pod: 'myapp-2', ready: false }],
    pods: [{ name: 'myapp-1', readinessProbe: true, ready: false, problems: [] }, { name: 'myapp-2', readinessProbe: false, ready: false, problems: [] }],
  });
  assert.match(text(r, 'publish-not-ready'), /myapp-1/);
  assert.doesNotMatch(text(r, 'publish-not-ready'), /myapp-2/);
  assert.match(text(r, 'not-ready'), /myapp-2/);
  // Only probe-less pods not ready: no publishNotReadyAddresses advice at all.
  r.discovery.kubernetes.endpoints = r.discovery.kubernetes.endpoints.slice(1);
  assert.ok(!codes(r).includes('publish-not-ready'));
});

test('StatefulSet on a ClusterIP service; hostNetwork pods', () => {
  const r = report({ nodes: [podNamesNode('myapp-0', '10.0.0.11')] });
  r.discovery.kubernetes = k8s({
    headless: false,
    pods: [
      { name: 'myapp-0', owner: 'StatefulSet', subdomain: 'myapp-headless', selfFqdn: `myapp-0.${SVC}`, problems: [] },
      { name: 'myapp-1', owner: 'StatefulSet', hostNetwork: true, nodeName: 'kind-worker', ip: '10.0.0.11', problems: [] },
    ],
  });
  assert.match(text(r, 'statefulset-service'), /serviceName: myapp-headless.*--cascade=orphan/s);
  assert.match(text(r, 'host-network'), /myapp-1.*kind-worker.*myapp@myapp-0/s);
  r.discovery.kubernetes.headless = true;
  assert.ok(!codes(r).includes('statefulset-service'));
});

test('mesh: pang pairs with why; a pair cut after pong is global-partition and broken', () => {
  const a = podNamesNode('myapp-0', '10.0.0.11');
  const b = podNamesNode('myapp-1', '10.0.0.12');
  const r = report({ nodes: [a, b] });
  r.mesh = {
    matrix: [
      { from: a.name, to: b.name, result: 'pang', why: `${a.name} cannot connect to the distribution port 10.0.0.12:9100: econnrefused` },
      { from: b.name, to: a.name, result: 'pong', dropped: true, why: 'pong, then disconnected' },
    ],
    skipped: [],
    nodes: [{ name: a.name, preventOverlappingPartitions: true }],
  };
  assert.equal(judge(r), 'broken');
  assert.match(text(r, 'mesh'), /econnrefused/);
  assert.match(text(r, 'global-partition'), /prevent_overlapping_partitions/);
  r.mesh.matrix = [{ from: b.name, to: a.name, result: 'pong', dropped: true }];
  assert.equal(judge(r), 'broken', 'a dropped pair alone is still broken');
  assert.doesNotMatch(text(r, 'global-partition'), /prevent_overlapping/, 'no pang pair: not blamed on global');
});
