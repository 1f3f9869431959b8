/**
 * The probe against real servers only: OTP's epmd and dnsmasq as the cluster DNS (CoreDNS with
 * endpoint_pod_names: SRV targets are pod names), and a real erl "pod" named
 * myapp@<pod>.<service>…, listening on its own loopback address. (probe-loopback.test.ts runs
 * several pods through DemoCluster, whose per-pod EPMDs are ours: OTP's epmd always listens on
 * 127.0.0.1 too, so only one can hold a port on loopback; test/cluster runs many real ones in
 * network namespaces, as root.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient } from '../../src/discovery/index.js';
import { runProbe, type ProbeOptions } from '../../src/probe/probe.js';
import type { NodeReport, ProbeReport } from '../../src/probe/types.js';
import { renderJson, renderTable } from '../../src/probe/render.js';
import { startDnsmasq, type Dnsmasq } from '../support/dnsmasq.js';
import { ErlNode, freePort, hostOtp, startEpmd, type Epmd } from '../support/otp.js';

const otp = hostOtp();
const IP = '127.84.0.11';
const POD = 'myapp-7d9f8b6c5-abcde'; // a Deployment's pod: SRV names it only with endpoint_pod_names
const SVC = 'myapp-headless.default.svc.cluster.local';
const NODE = `myapp@${POD}.${SVC}`;
const COOKIE = 'probe_real_peers_cookie';
const byForm = (n: NodeReport) => Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));

describe(`probe against OTP's epmd, dnsmasq and erl (${otp.label})`, () => {
  let epmd: Epmd;
  let dns: Dnsmasq;
  let erl: ErlNode;
  before(async () => {
    epmd = await startEpmd({ address: IP });
    const port = epmd.port;
    dns = await startDnsmasq(SVC, (dnsPort) =>
      [
        `port=${dnsPort}`, 'listen-address=127.0.0.1', 'bind-interfaces', 'no-resolv', 'no-hosts', 'no-poll',
        'local=/cluster.local/', 'local-ttl=5',
        `host-record=${POD}.${SVC},${IP},5`,
        `host-record=${SVC},${IP},5`,
        `srv-host=${SVC},${POD}.${SVC},${port},0,100`,
        `srv-host=_epmd._tcp.${SVC},${POD}.${SVC},${port},0,100`,
        '',
      ].join('\n'),
    );
    const distPort = await freePort();
    erl = await ErlNode.start(otp, {
      name: NODE,
      cookie: COOKIE,
      epmdPort: port, // erl registers through 127.0.0.1: the same epmd, which also listens on IP
      args: ['-kernel', 'inet_dist_use_interface', `{${IP.replace(/\./g, ',')}}`, 'inet_dist_listen_min', String(distPort), 'inet_dist_listen_max', String(distPort)],
    });
  });
  after(async () => {
    await erl?.stop();
    await dns?.stop();
    await epmd?.stop();
  });

  const probe = (o: Partial<ProbeOptions> = {}): Promise<ProbeReport> =>
    runProbe({
      service: 'myapp-headless',
      dns: new DnsClient({ nameserver: dns.nameserver, resolvConf: { nameservers: [], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5, timeout: 2, attempts: 1, useVc: false } }),
      cookie: COOKIE,
      epmdPort: epmd.port,
      timeoutMs: 5000,
      probeName: { longHost: '127.0.0.1' },
      ...o,
    });

  test(`the node is found through SRV and epmd, and accepted under the name SRV gives: ok (${otp.label})`, async () => {
    const r = await probe();
    assert.equal(r.verdict, 'ok', JSON.stringify(r, null, 1));
    assert.equal(r.dnsMode, 'endpoint_pod_names');
    assert.equal(r.service, SVC);
    assert.equal(r.nodes.length, 1);
    const n = r.nodes[0];
    assert.equal(n.host, IP);
    assert.equal(n.name, NODE, 'learnt from the challenge');
    const f = byForm(n);
    assert.equal(f['dns=fqdn']?.dialed, NODE);
    assert.equal(f['dns=fqdn']?.accepted, true);
    assert.equal(f.ip?.reason, 'mismatch', 'the IP is not its name');
    assert.deepEqual(r.advice, []);
  });

  test(`a wrong cookie: the true name is still learnt, the right name fails as bad-cookie, never printed (${otp.label})`, async () => {
    const wrong = 'not-the-cluster-cookie';
    const r = await probe({ cookie: wrong });
    assert.equal(r.verdict, 'broken');
    const f = byForm(r.nodes[0]);
    assert.deepEqual([f['dns=fqdn']?.accepted, f['dns=fqdn']?.reason], [false, 'bad-cookie']);
    assert.ok(r.advice.some((a) => a.code === 'cookie'), JSON.stringify(r.advice));
    const out = renderTable(r, { color: false }) + renderJson(r);
    assert.ok(!out.includes(wrong) && !out.includes(COOKIE), 'no cookie in the output');
    assert.ok(!erl.logText().includes(COOKIE));
  });
});
