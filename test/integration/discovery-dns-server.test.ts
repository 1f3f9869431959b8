/**
 * The DNS client against the in-process CoreDNS-like server (both endpoint_pod_names modes) and
 * against misbehaving servers on loopback (silent, wrong IDs, garbage, TCP fallback).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';
import { DnsClient } from '../../src/discovery/dns-client.js';
import { DnsError } from '../../src/discovery/errors.js';
import { startClusterDns, type ClusterDns } from '../../src/emulation/dns-server.js';
import type { ClusterDnsModel } from '../../src/emulation/cluster-dns.js';
import { parseResolvConf } from '../../src/discovery/resolv-conf.js';
import { classifyName } from '../../src/discovery/classify.js';

const SVC = 'myapp-headless.default.svc.cluster.local';
const POD_RESOLV = parseResolvConf('search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n');

const model = (endpointPodNames: boolean): ClusterDnsModel => ({
  endpointPodNames,
  podsMode: 'insecure',
  services: [
    {
      name: 'myapp-headless',
      namespace: 'default',
      ports: [{ name: 'epmd', port: 4369 }],
      endpoints: [
        { ip: '10.99.0.11', podName: 'myapp-7d9f8b6c5-abcde' },
        { ip: '10.99.0.12', podName: 'myapp-7d9f8b6c5-fghij' },
        { ip: '10.99.0.13', podName: 'myapp-7d9f8b6c5-klmno', ready: false },
      ],
    },
    { name: 'portless', namespace: 'default', endpoints: [{ ip: '10.99.2.1' }] },
    { name: 'plain', namespace: 'default', headless: false, clusterIP: '10.96.14.7', ports: [{ name: 'epmd', port: 4369 }] },
    {
      name: 'big',
      namespace: 'default',
      ports: [{ name: 'epmd', port: 4369 }],
      endpoints: Array.from({ length: 40 }, (_, i) => ({ ip: `10.98.0.${i + 1}`, podName: `big-6c9f7d8b5-p${String(i).padStart(4, '0')}` })),
    },
  ],
});

describe('DNS client ↔ in-process cluster DNS', () => {
  let dns: ClusterDns;
  let client: DnsClient;
  before(async () => {
    dns = await startClusterDns({ ...model(false) });
    client = new DnsClient({ nameserver: dns.nameserver, resolvConf: POD_RESOLV });
  });
  after(() => dns.close());

  test('default CoreDNS: bare-name SRV via the search list gives dashed-IP targets and additional A records', async () => {
    dns.setModel(model(false));
    const s = await client.srv('myapp-headless');
    assert.equal(s.name, SVC);
    assert.deepEqual(s.lookup.tried.map((t) => t.name), [SVC]);
    assert.deepEqual(s.records.map((r) => [r.priority, r.weight, r.port, r.target]).sort(), [
      [0, 50, 4369, `10-99-0-11.${SVC}`],
      [0, 50, 4369, `10-99-0-12.${SVC}`],
    ]);
    assert.deepEqual([...s.additional.entries()].sort(), [
      [`10-99-0-11.${SVC}`, ['10.99.0.11']],
      [`10-99-0-12.${SVC}`, ['10.99.0.12']],
    ]);
    assert.ok(s.records.every((r) => classifyName(r.target, { service: SVC }).kind === 'dashed-ipv4'));
    assert.equal(s.lookup.response?.authoritative, true);
    const e = await client.epmdSrv(SVC);
    assert.equal(e.records.length, 2);
  });

  test('endpoint_pod_names: the same query gives pod-name targets; setModel applies without restart', async () => {
    dns.setModel(model(true));
    const s = await client.srv(`${SVC}.`);
    assert.deepEqual(s.records.map((r) => r.target).sort(), [`myapp-7d9f8b6c5-abcde.${SVC}`, `myapp-7d9f8b6c5-fghij.${SVC}`]);
    assert.ok(s.records.every((r) => classifyName(r.target).kind === 'pod-name'));
    assert.deepEqual(await client.a(`myapp-7d9f8b6c5-fghij.${SVC}`), ['10.99.0.12']);
    assert.deepEqual(await client.ptr('10.99.0.11'), [`myapp-7d9f8b6c5-abcde.${SVC}`]);
    dns.setModel(model(false));
    assert.deepEqual(await client.ptr('10.99.0.11'), [`10-99-0-11.${SVC}`]);
  });

  test('NXDOMAIN, NODATA and REFUSED are told apart, as results and as DnsError codes', async () => {
    dns.setModel(model(false));
    const nx = await client.lookup('nosuch', 'SRV');
    assert.equal(nx.status, 'nxdomain');
    assert.equal(nx.tried.length, 4, 'three search domains and the name itself');
    const nodata = await client.lookup('portless', 'SRV');
    assert.equal(nodata.status, 'nodata', 'a service without ports has A records but no SRV');
    assert.equal(nodata.name, 'portless.default.svc.cluster.local');
    assert.deepEqual(await client.a('portless'), ['10.99.2.1']);
    await assert.rejects(client.srv('portless'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_NODATA');
    await assert.rejects(client.aaaa(SVC + '.'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_NODATA');
    await assert.rejects(client.a(`nosuch.${SVC}.`), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_NXDOMAIN');
    const refused = await new DnsClient({ nameserver: dns.nameserver }).lookup('example.com', 'A');
    assert.equal(refused.status, 'refused');
  });

  test('a ClusterIP service: the SRV target is the service itself', async () => {
    const s = await client.srv('plain');
    assert.equal(s.records[0].target, 'plain.default.svc.cluster.local');
    assert.equal(classifyName(s.records[0].target, { service: s.name }).kind, 'service-itself');
    assert.deepEqual(s.additional.get('plain.default.svc.cluster.local'), ['10.96.14.7']);
  });

  test('40 SRV records do not fit in 512 bytes: TC over UDP, the answer comes over TCP', async () => {
    const before = dns.queries.length;
    const s = await client.srv('big.default.svc.cluster.local.');
    assert.equal(s.records.length, 40);
    assert.equal(s.lookup.response?.transport, 'tcp');
    assert.equal(s.lookup.response?.truncatedUdp, true);
    assert.equal(s.additional.size, 40);
    const log = dns.queries.slice(before).map((q) => `${q.transport}${q.truncated ? '+TC' : ''}`);
    assert.deepEqual(log, ['udp+TC', 'tcp']);
    // with a large EDNS buffer the whole answer fits in one UDP reply (dns-packet does not compress names: ~7 KB)
    const edns = await new DnsClient({ nameserver: dns.nameserver, ednsUdpSize: 16384 }).srv('big.default.svc.cluster.local');
    assert.equal(edns.lookup.response?.transport, 'udp');
    assert.equal(edns.records.length, 40);
    // TCP only
    const tcp = await new DnsClient({ nameserver: dns.nameserver, transport: 'tcp' }).srv('big.default.svc.cluster.local');
    assert.equal(tcp.records.length, 40);
  });

  test('garbage queries get FORMERR or nothing, and the server keeps answering', async () => {
    const sock = createSocket('udp4');
    try {
      sock.connect(dns.port, '127.0.0.1');
      await once(sock, 'connect');
      const bad = Buffer.alloc(30, 0xff);
      bad.writeUInt16BE(0x1234, 0);
      bad.writeUInt16BE(0x0100, 2); // a query (QR clear) claiming 65535 questions
      sock.send(bad);
      const [reply] = (await once(sock, 'message')) as [Buffer];
      assert.equal(reply.readUInt16BE(0), 0x1234);
      assert.equal(reply[3] & 0x0f, 1, 'FORMERR');
      sock.send(Buffer.from([1, 2, 3])); // shorter than a header: dropped
    } finally {
      sock.close();
    }
    assert.deepEqual(await client.a(`${SVC}.`).then((a) => a.sort()), ['10.99.0.11', '10.99.0.12']);
  });

  test('a reply larger than maxResponseBytes is refused before it is used', async () => {
    const small = new DnsClient({ nameserver: dns.nameserver, ednsUdpSize: 16384, maxResponseBytes: 1024 });
    await assert.rejects(small.srv('big.default.svc.cluster.local.'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_BAD_RESPONSE');
  });

  test('pods insecure: a-b-c-d.<ns>.pod.<zone>', async () => {
    assert.deepEqual(await client.a('10-99-0-11.default.pod.cluster.local.'), ['10.99.0.11']);
  });
});

describe('DNS client ↔ misbehaving servers', () => {
  test('a server that never answers: timeout after the bounded attempts, and abort', async () => {
    const silent = createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    let received = 0;
    silent.on('message', () => received++);
    try {
      const c = new DnsClient({ nameserver: `127.0.0.1:${silent.address().port}`, timeout: 150, attempts: 2 });
      const l = await c.lookup('x.example.', 'A');
      assert.equal(l.status, 'timeout');
      assert.equal(received, 2, 'two attempts, no more');
      await assert.rejects(c.a('x.example.'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_TIMEOUT');
      const ac = new AbortController();
      const p = c.lookup('x.example.', 'A', { signal: ac.signal });
      ac.abort(new Error('stop'));
      await assert.rejects(p, /stop/);
    } finally {
      silent.close();
    }
  });

  test('replies with a wrong ID are ignored; garbage with our ID is a BAD_RESPONSE', async () => {
    const srv = createSocket('udp4');
    srv.bind(0, '127.0.0.1');
    await once(srv, 'listening');
    let mode: 'wrong-id-then-right' | 'garbage' | 'other-question' = 'wrong-id-then-right';
    srv.on('message', (msg, r) => {
      const q = dnsPacket.decode(msg);
      const id = q.id ?? 0;
      if (mode === 'garbage') {
        const g = Buffer.alloc(40, 0xff);
        g.writeUInt16BE(id, 0);
        g.writeUInt16BE(0x8000, 2); // QR, no TC: 65535 questions that are not there
        srv.send(g, r.port, r.address);
        return;
      }
      const reply = (rid: number, name: string) =>
        dnsPacket.encode({ type: 'response', id: rid, flags: 0, questions: [{ type: 'A', name }], answers: [{ type: 'A', name, ttl: 1, data: '192.0.2.1' }] });
      if (mode === 'other-question') {
        srv.send(reply(id, 'evil.example'), r.port, r.address);
        return;
      }
      srv.send(reply((id + 1) & 0xffff, 'x.example'), r.port, r.address);
      srv.send(reply(id, 'x.example'), r.port, r.address);
    });
    try {
      const c = new DnsClient({ nameserver: `127.0.0.1:${srv.address().port}`, timeoutMs: 300, attempts: 1 });
      assert.deepEqual(await c.a('x.example.'), ['192.0.2.1']);
      mode = 'garbage';
      await assert.rejects(c.exchange('x.example', 'A'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_BAD_RESPONSE');
      mode = 'other-question';
      await assert.rejects(c.exchange('x.example', 'A'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_BAD_RESPONSE');
    } finally {
      srv.close();
    }
  });

  test('SERVFAIL moves on to the next nameserver; SERVFAIL everywhere is reported as such', async () => {
    const failing = createSocket('udp4');
    failing.bind(0, '127.0.0.1');
    await once(failing, 'listening');
    let asked = 0;
    failing.on('message', (msg, r) => {
      asked++;
      const q = dnsPacket.decode(msg);
      srvfail(q.id ?? 0, q.questions ?? [], (b) => failing.send(b, r.port, r.address));
    });
    const dns = await startClusterDns({ services: [{ name: 'a', namespace: 'default', endpoints: [{ ip: '10.0.0.1' }] }] });
    try {
      const both = new DnsClient({ nameserver: [`127.0.0.1:${failing.address().port}`, dns.nameserver], timeoutMs: 500, attempts: 1 });
      assert.deepEqual(await both.a('a.default.svc.cluster.local.'), ['10.0.0.1']);
      assert.equal(asked, 1);
      const only = new DnsClient({ nameserver: `127.0.0.1:${failing.address().port}`, timeoutMs: 500, attempts: 2 });
      const l = await only.lookup('a.default.svc.cluster.local.', 'A');
      assert.equal(l.status, 'servfail');
      assert.equal(asked, 3, 'two attempts');
      await assert.rejects(only.a('a.default.svc.cluster.local.'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_SERVFAIL');
    } finally {
      failing.close();
      await dns.close();
    }
  });

  test('bad names and nameservers are usage errors', async () => {
    assert.throws(() => new DnsClient({ nameserver: 'dns.example' }), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_USAGE');
    assert.throws(() => new DnsClient({}), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_USAGE');
    const c = new DnsClient({ nameserver: '127.0.0.1:9' });
    await assert.rejects(c.exchange(`${'a'.repeat(64)}.example`, 'A'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_USAGE');
    await assert.rejects(c.ptr('not-an-ip'), (e: unknown) => e instanceof DnsError && e.code === 'BEAM_ERR_DNS_USAGE');
  });
});

function srvfail(id: number, questions: dnsPacket.Question[], send: (b: Buffer) => void): void {
  send(dnsPacket.encode({ type: 'response', id, flags: 2 /* SERVFAIL */, questions }));
}
