/**
 * The DNS client against a real dnsmasq (config A: CoreDNS without endpoint_pod_names;
 * config B: with it, IPv6, hostsdir), and the same checks against the
 * in-process cluster DNS serving the equivalent model: both servers must give the same answers.
 * dnsmasq runs on a free loopback port and is stopped by its pid.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DnsClient } from '../../src/discovery/dns-client.js';
import { startClusterDns, type ClusterDns } from '../../src/emulation/dns-server.js';
import type { ClusterDnsModel } from '../../src/emulation/cluster-dns.js';
import { parseResolvConf } from '../../src/discovery/resolv-conf.js';
import { startDnsmasq, type Dnsmasq } from '../support/dnsmasq.js';
import { sleep } from '../support/otp.js';

const SVC = 'myapp-headless.default.svc.cluster.local';
const BIG = 'big.default.svc.cluster.local';
const POD_RESOLV = parseResolvConf('search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:2\n');

const bigNames = Array.from({ length: 40 }, (_, i) => ({ host: `big-${i}`, ip: `10.98.0.${i + 1}` }));

// §5.2 config A, endpoint names listed before the service name (dnsmasq's PTR is the first host-record).
const CONFIG_A = (port: number) =>
  [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'local=/cluster.local/',
    'local-ttl=5',
    `host-record=10-99-0-11.${SVC},10.99.0.11,5`,
    `host-record=10-99-0-12.${SVC},10.99.0.12,5`,
    `host-record=${SVC},10.99.0.11,5`,
    `host-record=${SVC},10.99.0.12,5`,
    'host-record=10-99-0-11.default.pod.cluster.local,10.99.0.11,5',
    'host-record=10-99-0-12.default.pod.cluster.local,10.99.0.12,5',
    `srv-host=${SVC},10-99-0-11.${SVC},4369,0,50`,
    `srv-host=${SVC},10-99-0-12.${SVC},4369,0,50`,
    `srv-host=_epmd._tcp.${SVC},10-99-0-11.${SVC},4369,0,50`,
    `srv-host=_epmd._tcp.${SVC},10-99-0-12.${SVC},4369,0,50`,
    ...bigNames.map((b) => `host-record=${b.host}.${BIG},${b.ip},5`),
    ...bigNames.map((b) => `srv-host=${BIG},${b.host}.${BIG},4369,0,2`),
    '',
  ].join('\n');

const MODEL_A: ClusterDnsModel = {
  endpointPodNames: false,
  podsMode: 'insecure',
  services: [
    {
      name: 'myapp-headless',
      namespace: 'default',
      ports: [{ name: 'epmd', port: 4369 }],
      endpoints: [
        { ip: '10.99.0.11', podName: 'myapp-7d9f8b6c5-abcde' },
        { ip: '10.99.0.12', podName: 'myapp-7d9f8b6c5-fghij' },
      ],
    },
    { name: 'big', namespace: 'default', ports: [{ name: 'epmd', port: 4369 }], endpoints: bigNames.map((b) => ({ ip: b.ip, hostname: b.host })) },
  ],
};

const PODS_B = [
  ['10.99.0.11', 'myapp-7d9f8b6c5-abcde'],
  ['10.99.0.12', 'myapp-7d9f8b6c5-fghij'],
  ['fd00:10:99::11', 'myapp-7d9f8b6c5-abcde'],
] as const;

// §5.3 config B: endpoint_pod_names, IPv6, endpoints in a watched hosts directory.
const CONFIG_B = (port: number, dir: string) =>
  [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'local=/cluster.local/',
    'local-ttl=5',
    `hostsdir=${join(dir, 'hosts.d')}`,
    `srv-host=${SVC},myapp-7d9f8b6c5-abcde.${SVC},4369,0,50`,
    `srv-host=${SVC},myapp-7d9f8b6c5-fghij.${SVC},4369,0,50`,
    `srv-host=_epmd._tcp.${SVC},myapp-7d9f8b6c5-abcde.${SVC},4369,0,50`,
    `srv-host=_epmd._tcp.${SVC},myapp-7d9f8b6c5-fghij.${SVC},4369,0,50`,
    '',
  ].join('\n');
const hostsLine = (ip: string, pod: string) => `${ip} ${pod}.${SVC} ${SVC}\n`;

const MODEL_B: ClusterDnsModel = {
  endpointPodNames: true,
  podsMode: 'insecure',
  services: [
    { name: 'myapp-headless', namespace: 'default', ports: [{ name: 'epmd', port: 4369 }], endpoints: PODS_B.map(([ip, podName]) => ({ ip, podName })) },
  ],
};

/** What a diagnosis reads from one server, normalised for comparison (order-free). */
async function observe(nameserver: string) {
  const c = new DnsClient({ nameserver, timeoutMs: 1000, attempts: 2 });
  const pod = new DnsClient({ nameserver, resolvConf: POD_RESOLV });
  const srv = await pod.srv('myapp-headless');
  const epmd = await c.epmdSrv(SVC);
  const targets = [...new Set(srv.records.map((r) => `${r.port} ${r.target}`))].sort();
  const additional = [...srv.additional.entries()].map(([t, ips]) => `${t} ${[...ips].sort().join(',')}`).sort();
  return {
    srvName: srv.name,
    targets,
    epmdTargets: [...new Set(epmd.records.map((r) => `${r.port} ${r.target}`))].sort(),
    additional,
    serviceA: (await c.a(SVC)).sort(),
    serviceAAAA: (await c.lookup(`${SVC}.`, 'AAAA')).status,
    nosuch: (await c.lookup(`nosuch.${SVC}.`, 'A')).status,
    httpSrv: (await c.lookup(`_http._tcp.${SVC}.`, 'SRV')).status,
    ptr12: await c.ptr('10.99.0.12'),
  };
}

describe('dnsmasq config A (CoreDNS without endpoint_pod_names) and the in-process server agree', () => {
  let dm: Dnsmasq;
  let ours: ClusterDns;
  before(async () => {
    dm = await startDnsmasq(SVC, CONFIG_A);
    ours = await startClusterDns({ ...MODEL_A });
  });
  after(async () => {
    await dm?.stop();
    await ours?.close();
  });

  test('SRV (bare and _epmd._tcp), additional A, NXDOMAIN vs NODATA, PTR: same from both', async () => {
    const a = await observe(dm.nameserver);
    const b = await observe(ours.nameserver);
    assert.deepEqual(a.targets, [`4369 10-99-0-11.${SVC}`, `4369 10-99-0-12.${SVC}`]);
    assert.deepEqual(a.additional, [`10-99-0-11.${SVC} 10.99.0.11`, `10-99-0-12.${SVC} 10.99.0.12`]);
    assert.equal(a.serviceAAAA, 'nodata');
    assert.equal(a.nosuch, 'nxdomain');
    assert.equal(a.httpSrv, 'nxdomain');
    assert.deepEqual(a.ptr12, [`10-99-0-12.${SVC}`]);
    assert.deepEqual(b, a);
  });

  test('pods insecure name resolves on both', async () => {
    for (const ns of [dm.nameserver, ours.nameserver])
      assert.deepEqual(await new DnsClient({ nameserver: ns }).a('10-99-0-11.default.pod.cluster.local.'), ['10.99.0.11']);
  });

  test('40 SRV records: truncated over UDP, complete over TCP, on both', async () => {
    for (const ns of [dm.nameserver, ours.nameserver]) {
      const s = await new DnsClient({ nameserver: ns }).srv(`${BIG}.`);
      assert.equal(s.records.length, 40, ns);
      assert.equal(s.lookup.response?.truncatedUdp, true, ns);
      assert.equal(s.lookup.response?.transport, 'tcp', ns);
      assert.deepEqual(new Set(s.records.map((r) => r.target)), new Set(bigNames.map((b) => `${b.host}.${BIG}`)));
    }
    assert.match(readFileSync(join(dm.dir, 'dnsmasq.log'), 'utf8'), /query\[SRV\] big\.default\.svc\.cluster\.local/);
  });
});

describe('dnsmasq config B (CoreDNS with endpoint_pod_names, IPv6) and the in-process server agree', () => {
  let dm: Dnsmasq;
  let ours: ClusterDns;
  before(async () => {
    dm = await startDnsmasq(SVC, CONFIG_B, (dir) => {
      mkdirSync(join(dir, 'hosts.d'));
      writeFileSync(join(dir, 'hosts.d', 'endpoints'), PODS_B.map(([ip, pod]) => hostsLine(ip, pod)).join(''));
    });
    ours = await startClusterDns({ ...MODEL_B });
  });
  after(async () => {
    await dm?.stop();
    await ours?.close();
  });

  test('pod-name SRV targets with A and AAAA in ADDITIONAL, PTR to the pod name: same from both', async () => {
    const a = await observe(dm.nameserver);
    const b = await observe(ours.nameserver);
    assert.deepEqual(a.targets, [`4369 myapp-7d9f8b6c5-abcde.${SVC}`, `4369 myapp-7d9f8b6c5-fghij.${SVC}`]);
    assert.deepEqual(a.additional, [`myapp-7d9f8b6c5-abcde.${SVC} 10.99.0.11,fd00:10:99::11`, `myapp-7d9f8b6c5-fghij.${SVC} 10.99.0.12`]);
    assert.equal(a.serviceAAAA, 'ok', 'the IPv6 endpoint gives the service an AAAA record');
    assert.deepEqual(a.ptr12, [`myapp-7d9f8b6c5-fghij.${SVC}`]);
    assert.deepEqual(b, a);
    for (const ns of [dm.nameserver, ours.nameserver])
      assert.deepEqual(await new DnsClient({ nameserver: ns }).ptr('fd00:10:99::11'), [`myapp-7d9f8b6c5-abcde.${SVC}`]);
  });

  test('a new pod appears without restart (dnsmasq hostsdir inotify; setModel)', async () => {
    const name = `myapp-7d9f8b6c5-pqrst.${SVC}.`;
    appendFileSync(join(dm.dir, 'hosts.d', 'endpoints'), hostsLine('10.99.0.14', 'myapp-7d9f8b6c5-pqrst'));
    ours.setModel({ ...MODEL_B, services: [{ ...MODEL_B.services[0], endpoints: [...MODEL_B.services[0].endpoints!, { ip: '10.99.0.14', podName: 'myapp-7d9f8b6c5-pqrst' }] }] });
    const c = new DnsClient({ nameserver: dm.nameserver, timeoutMs: 500, attempts: 1 });
    let seen: string[] = [];
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      const l = await c.lookup(name, 'A');
      if (l.status === 'ok') seen = l.records.map((r) => (r.type === 'A' ? r.address : ''));
      else await sleep(100);
    }
    assert.deepEqual(seen, ['10.99.0.14']);
    assert.deepEqual(await new DnsClient({ nameserver: ours.nameserver }).a(name), ['10.99.0.14']);
    assert.ok(existsSync(join(dm.dir, 'dnsmasq.pid')));
  });
});
