/**
 * `beamnode probe` when something else answers on the BEAM's ports: TLS distribution
 * (`-proto_dist inet_tls` with `-ssl_dist_optfile`, certificates made by openssl) probed without
 * and with `--tls-cert/--tls-key/--tls-ca`; and a service-mesh sidecar emulated as Istio does it
 * (iptables REDIRECT of inbound ports in the pod's namespace to a local proxy on 15006), the proxy
 * answering HTTP/1.1 400 or resetting. Root only; host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedTmpDir, sleep, type ErlNode } from '../support/otp.js';
import { pki } from '../integration/tls-certs.js';
import { createCluster, type Cluster } from './rig.js';
import { cookieDir, label, otp, probeCli, skip, SVC } from './probe-support.js';

const PODS = ['myapp-0', 'myapp-1', 'myapp-2'];
const DIST_PORT = 9100;

interface JsonAttempt { forms: string[]; dialed: string; accepted: boolean; reason: string | null; actual?: string; detail?: string }
interface JsonNode { name: string; nameKnown: boolean; host: string; firstContact?: string; firstContactReason?: string; attempts: JsonAttempt[] }
interface JsonReport { verdict: string; nodes: JsonNode[]; advice: { code: string; text: string }[]; hosts: { ip: string; epmd: string; error?: string }[] }

describe(`probe: TLS distribution and mesh sidecars (${label})`, { skip }, () => {
  const secret = randomBytes(12).toString('hex');
  let cookie: ReturnType<typeof cookieDir>;
  /** Where the TLS certificates are (host path). */
  let dir: string;
  let c: Cluster;
  before(async () => {
    cookie = cookieDir(secret);
    // A StatefulSet: hostname = pod name, subdomain = the headless service; names match in DNS.
    c = await createCluster({
      name: 'bnprobex', otp, subnet: '10.231.83.0/24', dnsMode: 'default', erl: false,
      pods: PODS.map((podName) => ({ podName, hostname: podName, subdomain: 'myapp-headless' })),
    });
  });
  after(async () => {
    await c?.destroy();
    cookie?.remove();
  });
  const probe = (extra: string[] = []) => probeCli<JsonReport>(c, cookie.file, secret, extra);
  const pinned = ['-kernel', 'inet_dist_listen_min', String(DIST_PORT), 'inet_dist_listen_max', String(DIST_PORT)];

  describe('TLS distribution', () => {
    let nodes: ErlNode[] = [];
    // Certificates where the pods' erl (maybe a chroot OTP) and the probe (this filesystem) both read them.
    let shared: ReturnType<typeof sharedTmpDir>;
    before(async () => {
      shared = sharedTmpDir(otp!);
      dir = shared.hostPath;
      const certs = pki(dir);
      certs.ca('ca');
      for (const p of c.pods) certs.leaf(p.podName, 'ca', [`DNS:${p.selfFqdn}`, `IP:${p.ip}`]);
      certs.leaf('probe', 'ca', [`IP:${c.probe.ip}`]);
      certs.ca('rogueca');
      certs.leaf('rogue', 'rogueca', [`IP:${c.probe.ip}`]);
      nodes = await Promise.all(
        c.pods.map((p) => {
          const f = (x: string) => JSON.stringify(join(shared.erlPath, x));
          const common = `{certfile, ${f(`${p.podName}.pem`)}}, {keyfile, ${f(`${p.podName}.key`)}}, {cacertfile, ${f('ca.pem')}}, {verify, verify_peer}`;
          writeFileSync(join(dir, `${p.podName}.conf`), `[{server, [${common}, {fail_if_no_peer_cert, true}]}, {client, [${common}]}].\n`);
          return c.startErl({
            pod: p.podName, name: 'myapp', cookie: secret, args: ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', join(shared.erlPath, `${p.podName}.conf`), ...pinned],
          });
        }),
      );
    });
    after(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      shared?.remove();
    });

    test(`without certificates: every node recognised as a TLS peer (its alert), tls advice naming the flags; broken (${label})`, async () => {
      const { code, report, stdout } = await probe();
      assert.equal(code, 1, stdout);
      assert.equal(report.nodes.length, PODS.length);
      for (const n of report.nodes) {
        assert.equal(n.firstContactReason, 'tls', stdout);
        assert.match(n.firstContact!, /TLS alert/);
        const dns = n.attempts.find((a) => a.forms.includes('dns'))!;
        assert.equal(dns.reason, 'tls');
        assert.ok(!n.attempts.some((a) => a.reason === 'handshake-failed'), 'no generic handshake failure');
      }
      const adv = report.advice.find((a) => a.code === 'tls');
      assert.ok(adv, JSON.stringify(report.advice));
      assert.match(adv.text, /--tls-cert/);
      assert.ok(!report.advice.some((a) => a.code === 'sidecar'));
    });

    test(`with --tls-cert/--tls-key/--tls-ca: names checked over TLS, each accepted under its SRV name; ok (${label})`, async () => {
      const { code, report, stdout } = await probe(['--tls-cert', join(dir, 'probe.pem'), '--tls-key', join(dir, 'probe.key'), '--tls-ca', join(dir, 'ca.pem')]);
      assert.equal(report.verdict, 'ok', stdout);
      assert.equal(code, 0);
      for (const n of report.nodes) {
        const pod = c.pods.find((p) => p.ip === n.host)!;
        assert.deepEqual([n.name, n.nameKnown], [`myapp@${pod.podName}.${SVC}`, true]);
        const f = Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));
        assert.deepEqual([f['dns=fqdn'].accepted, f.ip.reason, f.ip.actual], [true, 'mismatch', n.name]);
      }
    });

    test(`with a client certificate the nodes do not trust: tls (not a proxy), certificate advice (${label})`, async () => {
      const { code, report, stdout } = await probe(['--tls-cert', join(dir, 'rogue.pem'), '--tls-key', join(dir, 'rogue.key'), '--tls-ca', join(dir, 'ca.pem')]);
      assert.equal(code, 1, stdout);
      for (const n of report.nodes) {
        assert.equal(n.firstContactReason, 'tls', stdout);
        assert.ok(n.attempts.every((a) => a.reason === 'tls' || a.reason === 'illegal-host'), stdout);
      }
      const adv = report.advice.find((a) => a.code === 'tls');
      assert.match(adv?.text ?? '', /must be signed by a CA the nodes trust/, stdout);
      assert.ok(!report.advice.some((a) => a.code === 'sidecar'), stdout);
    });
  });

  describe('a mesh sidecar capturing the ports (iptables REDIRECT to a proxy on 15006)', () => {
    let nodes: ErlNode[] = [];
    const proxies = new AbortController();
    /** An Envoy-like inbound listener: reads a little, then answers HTTP/1.1 400 (or resets). */
    const PROXY = (mode: 'http' | 'reset') => `
      const net = require('node:net');
      net.createServer((s) => {
        s.on('error', () => {});
        s.once('data', () => ${mode === 'http'
          ? `s.end('HTTP/1.1 400 Bad Request\\r\\ncontent-length: 11\\r\\ncontent-type: text/plain\\r\\nconnection: close\\r\\n\\r\\nBad Request')`
          : 's.resetAndDestroy()'});
      }).listen(15006, () => console.log('listening'));`;
    async function sidecar(pod: string, mode: 'http' | 'reset', port: number): Promise<void> {
      void c.exec([process.execPath, '-e', PROXY(mode)], { pod, timeoutMs: 300_000, signal: proxies.signal });
      const r = await c.exec(['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', String(port), '-j', 'REDIRECT', '--to-ports', '15006'], { pod });
      assert.equal(r.code, 0, r.stderr);
      for (let i = 0; i < 100; i++) {
        const ss = await c.exec(['ss', '-ltn'], { pod });
        if (/:15006\b/.test(ss.stdout)) return;
        await sleep(100);
      }
      throw new Error(`the proxy in ${pod} did not listen`);
    }

    before(async () => {
      nodes = await Promise.all(c.pods.map((p) => c.startErl({ pod: p.podName, name: 'myapp', cookie: secret, args: pinned })));
      await sidecar('myapp-0', 'http', 4369);
      await sidecar('myapp-1', 'http', DIST_PORT);
      await sidecar('myapp-2', 'reset', DIST_PORT);
    });
    after(async () => {
      proxies.abort();
      await Promise.all(nodes.map((n) => n.stop()));
    });

    test(`EPMD answered by HTTP/1.1 400, the distribution port by HTTP/1.1 400 or a reset: named as a proxy, sidecar advice with the exclusions; broken (${label})`, async () => {
      const { code, report, stdout } = await probe();
      assert.equal(code, 1, stdout);
      const [p0, p1, p2] = c.pods;
      const h0 = report.hosts.find((h) => h.ip === p0.ip)!;
      assert.equal(h0.epmd, 'foreign', stdout);
      assert.match(h0.error!, /HTTP\/1\.1 400 Bad Request/);
      const n1 = report.nodes.find((n) => n.host === p1.ip)!;
      assert.equal(n1.firstContactReason, 'foreign', stdout);
      assert.match(n1.firstContact!, /HTTP\/1\.1 400 Bad Request/);
      assert.equal(n1.attempts.find((a) => a.forms.includes('dns'))!.reason, 'foreign');
      const n2 = report.nodes.find((n) => n.host === p2.ip)!;
      assert.equal(n2.firstContactReason, 'reset', stdout);
      const adv = report.advice.find((a) => a.code === 'sidecar');
      assert.ok(adv, JSON.stringify(report.advice));
      assert.match(adv.text, /excludeInboundPorts/);
      assert.match(adv.text, /skip-inbound-ports/);
      const codes = report.advice.map((a) => a.code);
      assert.ok(!codes.includes('epmd-unreachable') && !codes.includes('dist-port'), codes.join());
    });
  });
});
