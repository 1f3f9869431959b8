import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerQuestion, endpointLabel, type ClusterDnsModel } from '../../src/emulation/cluster-dns.js';

const SVC = 'myapp-headless.default.svc.cluster.local';
const model = (endpointPodNames: boolean): ClusterDnsModel => ({
  endpointPodNames,
  podsMode: 'insecure',
  services: [
    {
      name: 'myapp-headless',
      namespace: 'default',
      ports: [{ name: 'epmd', port: 4369 }, { port: 9100 }],
      endpoints: [
        { ip: '10.99.0.11', podName: 'myapp-7d9f8b6c5-abcde' },
        { ip: '10.99.0.12', podName: 'myapp-7d9f8b6c5-fghij' },
        { ip: '10.99.0.13', podName: 'myapp-7d9f8b6c5-klmno', ready: false },
        { ip: 'fd00:10:99::11', podName: 'myapp-7d9f8b6c5-abcde' },
      ],
    },
    { name: 'sts', namespace: 'default', ports: [{ name: 'epmd', port: 4369 }], endpoints: [{ ip: '10.99.1.1', hostname: 'sts-0', podName: 'sts-0' }] },
    { name: 'portless', namespace: 'default', endpoints: [{ ip: '10.99.2.1' }] },
    { name: 'empty', namespace: 'default', ports: [{ name: 'epmd', port: 4369 }], endpoints: [{ ip: '10.99.3.1', ready: false }] },
    { name: 'plain', namespace: 'default', headless: false, clusterIP: '10.96.14.7', ports: [{ name: 'epmd', port: 4369 }], endpoints: [{ ip: '10.99.4.1' }] },
  ],
});

test('endpoint labels: hostname, else pod name with endpoint_pod_names (≤ 63), else dashed IP', () => {
  assert.equal(endpointLabel({ ip: '10.1.2.3', hostname: 'h', podName: 'p' }, false), 'h');
  assert.equal(endpointLabel({ ip: '10.1.2.3', podName: 'p' }, false), '10-1-2-3');
  assert.equal(endpointLabel({ ip: '10.1.2.3', podName: 'p' }, true), 'p');
  assert.equal(endpointLabel({ ip: '10.1.2.3', podName: 'x'.repeat(64) }, true), '10-1-2-3');
  assert.equal(endpointLabel({ ip: '2001:db8:3333:4444:5555:6666::' }, true), '2001-db8-3333-4444-5555-6666--0');
});

test('bare-name SRV: every port × ready endpoint, weight floor(100/N), targets in ADDITIONAL', () => {
  const a = answerQuestion(model(false), SVC, 'SRV');
  assert.equal(a.rcode, 'NOERROR');
  assert.equal(a.answers.length, 6, '3 ready endpoints × 2 ports (the unnamed one too)');
  for (const r of a.answers) assert.ok(r.type === 'SRV' && r.weight === 16 && r.priority === 0);
  const targets = new Set(a.answers.map((r) => (r.type === 'SRV' ? r.target : '')));
  assert.deepEqual([...targets].sort(), [`10-99-0-11.${SVC}`, `10-99-0-12.${SVC}`, `fd00-10-99--11.${SVC}`]);
  assert.deepEqual(a.additionals.map((r) => `${r.type} ${r.name}`).sort(), [`A 10-99-0-11.${SVC}`, `A 10-99-0-12.${SVC}`, `AAAA fd00-10-99--11.${SVC}`]);
  const b = answerQuestion(model(true), `_epmd._tcp.${SVC}`, 'SRV');
  assert.equal(b.answers.length, 3);
  assert.ok(b.answers.every((r) => r.type === 'SRV' && r.weight === 33 && r.port === 4369 && r.target.startsWith('myapp-7d9f8b6c5-')));
});

test('NXDOMAIN vs NODATA as CoreDNS', () => {
  const m = model(false);
  const rc = (n: string, t: string) => {
    const a = answerQuestion(m, n, t);
    return a.rcode === 'NOERROR' && a.answers.length === 0 ? 'NODATA' : a.rcode;
  };
  assert.equal(rc(`nosuch.default.svc.cluster.local`, 'A'), 'NXDOMAIN');
  assert.equal(rc(`nosuch.${SVC}`, 'A'), 'NXDOMAIN');
  assert.equal(rc(`_http._tcp.${SVC}`, 'SRV'), 'NXDOMAIN', 'no port named http');
  assert.equal(rc(`_epmd._udp.${SVC}`, 'SRV'), 'NXDOMAIN');
  assert.equal(rc(SVC, 'TXT'), 'NODATA');
  assert.equal(rc('portless.default.svc.cluster.local', 'SRV'), 'NODATA', 'no ports: A records but no SRV');
  assert.equal(rc('portless.default.svc.cluster.local', 'A'), 'NOERROR');
  assert.equal(rc('portless.default.svc.cluster.local', 'AAAA'), 'NODATA');
  assert.equal(rc('empty.default.svc.cluster.local', 'A'), 'NXDOMAIN', 'no ready endpoints');
  assert.equal(rc('default.svc.cluster.local', 'A'), 'NODATA');
  assert.equal(rc('nons.svc.cluster.local', 'A'), 'NXDOMAIN');
  assert.equal(rc('example.com', 'A'), 'REFUSED');
  assert.equal(rc('10-99-0-11.default.pod.cluster.local', 'A'), 'NOERROR');
  assert.equal(rc('10-99-0-11.default.pod.cluster.local', 'AAAA'), 'NODATA');
  assert.equal(answerQuestion({ ...m, podsMode: 'disabled' }, '10-99-0-11.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.ok(answerQuestion(m, 'nosuch.default.svc.cluster.local', 'A').authorities.some((r) => r.type === 'SOA'));
});

test('per-endpoint names, StatefulSet hostnames, non-headless service, PTR, publishNotReadyAddresses', () => {
  const m = model(true);
  const a = answerQuestion(m, `myapp-7d9f8b6c5-abcde.${SVC}`, 'AAAA');
  assert.deepEqual(a.answers.map((r) => (r.type === 'AAAA' ? r.address : '')), ['fd00:10:99::11']);
  assert.equal(answerQuestion(m, `10-99-0-11.${SVC}`, 'A').rcode, 'NXDOMAIN', 'with endpoint_pod_names the dashed name is gone');
  assert.equal(answerQuestion(model(false), `10-99-0-11.${SVC}`, 'A').answers.length, 1);
  const sts = answerQuestion(m, 'sts.default.svc.cluster.local', 'SRV');
  assert.equal(sts.answers[0].type === 'SRV' && sts.answers[0].target, 'sts-0.sts.default.svc.cluster.local');
  const plain = answerQuestion(m, 'plain.default.svc.cluster.local', 'SRV');
  assert.equal(plain.answers[0].type === 'SRV' && plain.answers[0].target, 'plain.default.svc.cluster.local', 'the service itself');
  assert.deepEqual(plain.additionals.map((r) => (r.type === 'A' ? r.address : '')), ['10.96.14.7']);
  const ptr = answerQuestion(m, '12.0.99.10.in-addr.arpa', 'PTR');
  assert.equal(ptr.answers[0].type === 'PTR' && ptr.answers[0].target, `myapp-7d9f8b6c5-fghij.${SVC}`);
  assert.equal(answerQuestion(m, '13.0.99.10.in-addr.arpa', 'PTR').rcode, 'NXDOMAIN', 'not ready');
  assert.equal(answerQuestion(m, '7.14.96.10.in-addr.arpa', 'PTR').answers.length, 1);
  const pnra = { ...m, services: m.services.map((s) => (s.name === 'myapp-headless' ? { ...s, publishNotReadyAddresses: true } : s)) };
  assert.equal(answerQuestion(pnra, SVC, 'A').answers.length, 3);
});
