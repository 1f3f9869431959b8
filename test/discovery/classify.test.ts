import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateNames, classifyName, dashedIp, dashedIpv6 } from '../../src/discovery/classify.js';

const SVC = 'myapp-headless.default.svc.cluster.local';

test('classification table of SRV targets and host names', () => {
  const table: [string, string, Record<string, unknown>][] = [
    [`10-99-0-11.${SVC}`, 'dashed-ipv4', { ip: '10.99.0.11' }],
    [`192-168-4-107.${SVC}.`, 'dashed-ipv4', { ip: '192.168.4.107' }],
    [`fd00-10-99--11.${SVC}`, 'dashed-ipv6', { ip: 'fd00:10:99::11' }],
    [`2001-db8-3333-4444-5555-6666--0.${SVC}`, 'dashed-ipv6', { ip: '2001:db8:3333:4444:5555:6666::' }],
    [`5678-abcd--1.${SVC}`, 'dashed-ipv6', { ip: '5678:abcd::1' }],
    [`2001-db8-0-0-0-0-0-1.${SVC}`, 'dashed-ipv6', { ip: '2001:db8::1' }],
    [`3763656465393934.${SVC}`, 'kube-dns-hash', { hash: '3763656465393934' }],
    [`myapp-7d9f8b6c5-abcde.${SVC}`, 'pod-name', { owner: 'replicaset', workload: 'myapp', podTemplateHash: '7d9f8b6c5' }],
    [`pause-65bb4c479f-qv84p.pause.default.svc.cluster.local`, 'pod-name', { owner: 'replicaset', workload: 'pause' }],
    [`my-app-web-7b77bc47b4-qtwlq.${SVC}`, 'pod-name', { owner: 'replicaset', workload: 'my-app-web' }],
    [`myapp-0.${SVC}`, 'pod-name', { owner: 'statefulset', workload: 'myapp', ordinal: 0 }],
    [`rabbitmq-server-12.rabbitmq-nodes.default.svc.cluster.local`, 'pod-name', { owner: 'statefulset', workload: 'rabbitmq-server', ordinal: 12 }],
    [SVC, 'service-itself', {}],
    [`${SVC.toUpperCase()}.`, 'service-itself', {}],
    ['10.99.0.11', 'ip', { ip: '10.99.0.11' }],
    ['FD00:0:0::11', 'ip', { ip: 'fd00::11' }],
    ['settings', 'other', {}],
    [`300-1-2-3.${SVC}`, 'other', {}],
    [`dead-beef.${SVC}`, 'other', {}],
    [`web.${SVC}`, 'other', {}],
  ];
  for (const [name, kind, fields] of table) {
    const c = classifyName(name, { service: SVC });
    assert.equal(c.kind, kind, name);
    for (const [k, v] of Object.entries(fields)) assert.equal((c as unknown as Record<string, unknown>)[k], v, `${name} ${k}`);
    assert.ok(c.note.length > 0);
  }
});

test('label and domain split', () => {
  const c = classifyName(`10-99-0-11.${SVC}.`);
  assert.equal(c.label, '10-99-0-11');
  assert.equal(c.domain, SVC);
  assert.equal(classifyName('localhost').domain, '');
});

test('dashedIp is the inverse of the dashed-IP parse, CoreDNS style', () => {
  assert.equal(dashedIp('10.1.2.3'), '10-1-2-3');
  assert.equal(dashedIp('fd00:10:99::11'), 'fd00-10-99--11');
  assert.equal(dashedIp('2001:db8:3333:4444:5555:6666::'), '2001-db8-3333-4444-5555-6666--0');
  for (const ip of ['fd00:10:99::11', '2001:db8:3333:4444:5555:6666::', 'fe80::1:2'])
    assert.equal(dashedIpv6(dashedIp(ip)), ip);
  assert.equal(dashedIpv6('abcde-1'), undefined);
  assert.equal(dashedIpv6('--1'), undefined, 'not a DNS label (CoreDNS would emit it for ::1)');
});

test('candidate names: all five forms, in order', () => {
  const c = candidateNames({
    alive: 'myapp',
    ip: '10.99.0.11',
    dnsName: `10-99-0-11.${SVC}`,
    trueName: `myapp@myapp-7d9f8b6c5-abcde.${SVC}`,
  });
  assert.deepEqual(
    c.map((x) => [x.form, x.node, x.long]),
    [
      ['ip', 'myapp@10.99.0.11', true],
      ['localhost', 'myapp@localhost', false],
      ['short', 'myapp@myapp-7d9f8b6c5-abcde', false],
      ['dns', `myapp@10-99-0-11.${SVC}`, true],
      ['fqdn', `myapp@myapp-7d9f8b6c5-abcde.${SVC}`, true],
    ],
  );
});

test('candidate names are deduplicated and keep every form that produced them', () => {
  const c = candidateNames({ alive: 'myapp', ip: '10.99.0.11', dnsName: `myapp-0.${SVC}.`, trueName: `myapp-0.${SVC}`, localhost: false });
  assert.deepEqual(
    c.map((x) => [x.node, x.forms]),
    [
      ['myapp@10.99.0.11', ['ip']],
      ['myapp@myapp-0', ['short']],
      [`myapp@myapp-0.${SVC}`, ['dns', 'fqdn']],
    ],
  );
  // a node that calls itself by its IP: ip and fqdn collapse
  const d = candidateNames({ alive: 'a', ip: 'fd00::11', trueName: 'a@FD00:0::11', localhost: false });
  assert.deepEqual(d.map((x) => [x.node, x.forms]), [['a@fd00::11', ['ip', 'fqdn']]]);
  // a short-names node: the true host has no dot
  const s = candidateNames({ alive: 'a', trueName: 'a@web1', localhost: false });
  assert.deepEqual(s.map((x) => [x.node, x.forms, x.long]), [['a@web1', ['short', 'fqdn'], false]]);
});
