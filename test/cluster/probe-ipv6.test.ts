/**
 * `beamnode probe` in IPv6-only and dual-stack clusters (network namespaces, dnsmasq serving AAAA
 * records, real erl with `-proto_dist inet6_tcp`). An IPv6 node cannot take its FQDN from the
 * hosts file (erl: "Can't set long node name!"), so it is named explicitly: `myapp@<FQDN>` or
 * `myapp@<IPv6 address>`; OTP takes an IPv6 literal as a long-names host. Root only; host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ErlNode } from '../support/otp.js';
import { createCluster, type Cluster } from './rig.js';
import { cookieDir, label, otp, probeCli, skip, SVC } from './probe-support.js';

const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij'];

interface JsonAttempt { form: string; forms: string[]; dialed: string; accepted: boolean; reason: string | null; actual?: string; detail?: string }
interface JsonNode { name: string; nameKnown: boolean; host: string; alsoAt?: string[]; longNames?: boolean; attempts: JsonAttempt[] }
interface JsonReport { verdict: string; nodes: JsonNode[]; advice: { code: string; text: string }[]; hosts: { ip: string }[] }

const byForms = (n: JsonNode) => Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));

describe(`probe: IPv6-only and dual-stack clusters (${label})`, { skip }, () => {
  const secret = randomBytes(12).toString('hex');
  let cookie: ReturnType<typeof cookieDir>;
  before(() => {
    cookie = cookieDir(secret);
  });
  after(() => cookie?.remove());
  const probeIn = (c: Cluster, extra: string[] = []) => probeCli<JsonReport>(c, cookie.file, secret, extra);
  /** Starts `-name <name> -proto_dist inet6_tcp` in each pod (the rig's own app is off). */
  async function startNodes(c: Cluster, nameOf: (p: Cluster['pods'][number]) => string): Promise<ErlNode[]> {
    return Promise.all(c.pods.map((p) => c.startErl({ pod: p.podName, name: nameOf(p), cookie: secret, args: ['-proto_dist', 'inet6_tcp'] })));
  }

  describe('IPv6-only (AAAA records only, endpoint_pod_names)', () => {
    let c: Cluster;
    let nodes: ErlNode[] = [];
    before(async () => {
      c = await createCluster({
        name: 'bnprobe6', otp, subnet: '10.231.81.0/24', ipv6: { prefix: 'fd00:231:81::', only: true },
        pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })), dnsMode: 'endpoint_pod_names', erl: false,
      });
    });
    after(async () => { await c?.destroy(); });

    test(`nodes named myapp@<FQDN>: accepted under the SRV name; the IPv6 literal is dialed (not illegal) and shows the true name; ok (${label})`, async () => {
      nodes = await startNodes(c, (p) => `myapp@${p.selfFqdn}`);
      try {
        const { code, report, stdout } = await probeIn(c, ['--mesh']);
        assert.equal(report.verdict, 'ok', stdout);
        assert.equal(code, 0);
        assert.equal(report.nodes.length, PODS.length);
        for (const n of report.nodes) {
          const pod = c.pods.find((p) => p.ip6 === n.host)!;
          assert.ok(pod, `${n.host} is a pod's IPv6 address`);
          assert.equal(n.name, `myapp@${pod.podName}.${SVC}`);
          assert.equal(n.nameKnown, true);
          const f = byForms(n);
          assert.deepEqual([f.ip.dialed, f.ip.reason, f.ip.actual], [`myapp@${pod.ip6}`, 'mismatch', n.name]);
          assert.deepEqual([f['dns=fqdn'].accepted, f['dns=fqdn'].dialed], [true, n.name]);
        }
        assert.deepEqual(report.advice.map((a) => a.code), []);
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
      }
    });

    test(`nodes named myapp@<IPv6 address>: the IPv6 name accepted, the SRV name a mismatch; ip-name-mismatch advice with inet6_tcp (${label})`, async () => {
      nodes = await startNodes(c, (p) => `myapp@${p.ip6}`);
      try {
        const { code, report, stdout } = await probeIn(c);
        assert.equal(code, 1, stdout);
        assert.equal(report.verdict, 'broken');
        for (const n of report.nodes) {
          const pod = c.pods.find((p) => p.ip6 === n.host)!;
          assert.deepEqual([n.name, n.nameKnown, n.longNames], [`myapp@${pod.ip6}`, true, true]);
          const f = byForms(n);
          assert.equal(f['ip=fqdn'].accepted, true, JSON.stringify(f));
          assert.deepEqual([f.dns.dialed, f.dns.reason, f.dns.actual], [`myapp@${pod.podName}.${SVC}`, 'mismatch', n.name]);
        }
        const adv = report.advice.find((a) => a.code === 'ip-name-mismatch');
        assert.ok(adv, JSON.stringify(report.advice));
        assert.match(adv.text, /inet6_tcp/);
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
      }
    });
  });

  test(`dual stack, a Service without ports (A and AAAA of the service), nodes named by IPv6 address: one node per pod at both addresses; ip-family advice (${label})`, async () => {
    const c = await createCluster({
      name: 'bnprobe46', otp, subnet: '10.231.82.0/24', ipv6: { prefix: 'fd00:231:82::' }, ports: [],
      pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })), dnsMode: 'endpoint_pod_names', erl: false,
    });
    try {
      await startNodes(c, (p) => `myapp@${p.ip6}`);
      const { code, report, stdout } = await probeIn(c);
      assert.equal(code, 1, stdout);
      assert.equal(report.nodes.length, PODS.length, `the same node at its IPv4 and IPv6 address is one node: ${JSON.stringify(report.nodes.map((n) => [n.name, n.host, n.nameKnown, n.alsoAt, (n as { firstContact?: string }).firstContact, n.attempts.map((a) => a.detail)]))}`);
      for (const n of report.nodes) {
        const pod = c.pods.find((p) => p.ip === n.host)!;
        assert.ok(pod, `${n.host} is a pod's IPv4 address (IPv4 first)`);
        assert.deepEqual([n.name, n.alsoAt], [`myapp@${pod.ip6}`, [pod.ip6]]);
        const f = byForms(n);
        assert.deepEqual([f['ip=dns'].dialed, f['ip=dns'].reason, f['ip=dns'].actual], [`myapp@${pod.ip}`, 'mismatch', n.name]);
        assert.ok(n.attempts.some((a) => a.dialed === n.name && a.accepted), JSON.stringify(n.attempts));
      }
      const codes = report.advice.map((a) => a.code);
      assert.ok(codes.includes('ip-family'), codes.join());
      assert.ok(!codes.includes('duplicate-name'), codes.join());
    } finally {
      await c.destroy();
    }
  });
});
