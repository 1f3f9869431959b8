// The rig's Kubernetes model (pure: no root, no processes). Facts: k8s-discovery-facts.md §0.5, §3, §5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dashedIp, dnsmasqConfig, endpointFqdn, endpointLabel, kubeletHostname, kubeletHostsFile, podResolvConf,
  podSelfFqdn, publishedPods, reverseZoneOf24, type PlacedPod, type ServiceModel,
} from './k8s-model.js';

const svc: ServiceModel = { namespace: 'default', service: 'myapp-headless' };
const SVC = 'myapp-headless.default.svc.cluster.local';
const deploy: PlacedPod = { podName: 'myapp-7d9f8b6c5-abcde', subdomain: 'myapp-headless', ip: '10.99.0.11' };
const sts: PlacedPod = { podName: 'myapp-0', hostname: 'myapp-0', subdomain: 'myapp-headless', ip: '10.99.0.12' };

test('kubelet hosts file: FQDN line only with a subdomain (kubelet "%s\\t%s.%s\\t%s")', () => {
  assert.match(kubeletHostsFile(deploy, svc), /\n10\.99\.0\.11\tmyapp-7d9f8b6c5-abcde\.myapp-headless\.default\.svc\.cluster\.local\tmyapp-7d9f8b6c5-abcde\n$/);
  assert.match(kubeletHostsFile({ podName: 'web-1', ip: '10.99.0.13' }, svc), /\n10\.99\.0\.13\tweb-1\n$/);
  assert.match(kubeletHostsFile(deploy, svc), /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
});

test('kubelet hostname: spec.hostname first, cut to 63 characters without a trailing dash', () => {
  assert.equal(kubeletHostname(sts), 'myapp-0');
  assert.equal(kubeletHostname({ podName: `${'a'.repeat(62)}-bcd` }), 'a'.repeat(62));
  assert.equal(podSelfFqdn({ podName: 'x', hostname: 'h', subdomain: 'other' }, svc), 'h.other.default.svc.cluster.local');
  assert.equal(podSelfFqdn({ podName: 'x' }, svc), undefined);
});

test('resolv.conf: cluster DNS, the namespace search list, ndots:5', () => {
  assert.equal(podResolvConf('10.96.0.10', svc),
    'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
});

test('endpoint names follow CoreDNS endpointHostname', () => {
  assert.equal(endpointLabel(deploy, svc, 'default'), '10-99-0-11');
  assert.equal(endpointLabel(deploy, svc, 'endpoint_pod_names'), 'myapp-7d9f8b6c5-abcde');
  for (const mode of ['default', 'endpoint_pod_names'] as const) assert.equal(endpointLabel(sts, svc, mode), 'myapp-0');
  // ShouldSetHostname needs subdomain == service: else the hostname is not the endpoint's.
  const wrongSub: PlacedPod = { podName: 'db-0', hostname: 'db-0', subdomain: 'db', ip: '10.99.0.14' };
  assert.equal(endpointLabel(wrongSub, svc, 'default'), '10-99-0-14');
  assert.equal(endpointLabel(wrongSub, svc, 'endpoint_pod_names'), 'db-0');
  const long: PlacedPod = { podName: 'p'.repeat(64), ip: '10.99.0.15' };
  assert.equal(endpointLabel(long, svc, 'endpoint_pod_names'), '10-99-0-15');
  assert.equal(endpointFqdn(deploy, svc, 'default'), `10-99-0-11.${SVC}`);
  assert.equal(dashedIp('10.1.2.3'), '10-1-2-3');
});

test('readiness: not-ready pods are published only with publishNotReadyAddresses', () => {
  const notReady: PlacedPod = { ...deploy, podName: 'nr', ip: '10.99.0.16', ready: false };
  assert.deepEqual(publishedPods([deploy, notReady], svc).map((p) => p.podName), [deploy.podName]);
  assert.equal(publishedPods([deploy, notReady], { ...svc, publishNotReadyAddresses: true }).length, 2);
});

test('dnsmasq config: endpoint records before service records (PTR), SRV 0 floor(100/N) 4369, pods insecure without PTR', () => {
  const text = dnsmasqConfig({ svc, pods: [deploy, sts], mode: 'default', listenIp: '10.99.0.2', reverseZone: '0.99.10.in-addr.arpa' });
  const lines = text.trim().split('\n');
  const firstSvc = lines.indexOf(`host-record=${SVC},10.99.0.11,5`);
  const ep = lines.indexOf(`host-record=10-99-0-11.${SVC},10.99.0.11,5`);
  assert.ok(ep >= 0 && firstSvc > ep, text);
  assert.ok(lines.includes(`srv-host=${SVC},10-99-0-11.${SVC},4369,0,50`), text);
  assert.ok(lines.includes(`srv-host=_epmd._tcp.${SVC},myapp-0.${SVC},4369,0,50`), text);
  assert.ok(lines.includes('address=/10-99-0-12.default.pod.cluster.local/10.99.0.12'), text);
  assert.ok(lines.includes('local=/cluster.local/') && lines.includes('local=/0.99.10.in-addr.arpa/') && lines.includes('no-resolv'));
  const three = dnsmasqConfig({ svc, pods: [deploy, sts, { ...deploy, podName: 'c', ip: '10.99.0.17' }], mode: 'endpoint_pod_names', listenIp: '10.99.0.2', reverseZone: 'x' });
  assert.ok(three.includes(`srv-host=${SVC},myapp-7d9f8b6c5-abcde.${SVC},4369,0,33`), three);
  const none = dnsmasqConfig({ svc, pods: [{ ...deploy, ready: false }], mode: 'default', listenIp: '10.99.0.2', reverseZone: 'x' });
  assert.ok(!/srv-host|host-record/.test(none), none);
});

test('dnsmasq config: several ports, no ports (no SRV), and a ClusterIP service', () => {
  const base = { pods: [deploy, sts], mode: 'default' as const, listenIp: '10.99.0.2', reverseZone: 'x' };
  const two = dnsmasqConfig({ ...base, svc: { ...svc, ports: [{ name: 'epmd', port: 4369 }, { port: 9100 }] } });
  // The bare name answers every port (N = 2 endpoints x 2 ports); only named ports get `_name._tcp`.
  assert.ok(two.includes(`srv-host=${SVC},myapp-0.${SVC},9100,0,25`), two);
  assert.ok(two.includes(`srv-host=_epmd._tcp.${SVC},myapp-0.${SVC},4369,0,50`), two);
  assert.ok(!/srv-host=_[^,]*,[^,]*,9100/.test(two), two);
  const none = dnsmasqConfig({ ...base, svc: { ...svc, ports: [] } });
  assert.ok(!none.includes('srv-host') && none.includes(`host-record=${SVC},10.99.0.11,5`), none);
  const cip = dnsmasqConfig({ ...base, svc: { ...svc, headless: false, clusterIP: '10.99.0.4' } });
  assert.ok(cip.includes(`host-record=${SVC},10.99.0.4,5`) && cip.includes(`srv-host=${SVC},${SVC},4369,0,100`), cip);
  assert.ok(!cip.includes('10-99-0-11.myapp') && !cip.includes(`,10.99.0.11,`), cip);
  assert.throws(() => dnsmasqConfig({ ...base, svc: { ...svc, headless: false } }), /clusterIP/);
});

test('reverse zone of a /24, and nothing else', () => {
  assert.equal(reverseZoneOf24('10.231.7.0/24'), '7.231.10.in-addr.arpa');
  assert.throws(() => reverseZoneOf24('10.231.0.0/16'), /a\.b\.c\.0\/24/);
});
