/**
 * `beamnode probe` inside a pod of the cluster rig (network namespaces, dnsmasq as CoreDNS, real
 * erl -name myapp in each pod): the probe pod's own resolv.conf and search list, the pods' EPMD on
 * 4369. Default CoreDNS → broken, with exactly the failures facts §0 predicts; endpoint_pod_names →
 * ok. Root only; runs for every OTP of the matrix.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { otpMatrix, type Otp } from '../support/otp.js';
import { createCluster, type Cluster } from './rig.js';
import { dashedIp } from './k8s-model.js';
import { rigUnavailableReason } from './netns.js';
import { skipUnlessEnv } from '../support/env.js';

const skip = skipUnlessEnv(rigUnavailableReason());
const matrix: (Otp | undefined)[] = skip ? [undefined] : otpMatrix();
const labelOf = (otp: Otp | undefined) => otp?.label ?? 'no erl';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SVC = 'myapp-headless.default.svc.cluster.local';
const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij'];

interface JsonAttempt {
  form: string;
  forms: string[];
  dialed: string;
  accepted: boolean;
  reason: string | null;
  actual?: string;
}
interface JsonReport {
  verdict: string;
  dnsMode: string;
  nodes: { name: string; host: string; attempts: JsonAttempt[] }[];
  advice: { code: string; text: string }[];
  mesh?: { matrix: { from: string; to: string; result: string }[] };
}

for (const [i, otp] of matrix.entries()) describe(`probe in a pod: CoreDNS default then endpoint_pod_names (${labelOf(otp)})`, { skip }, () => {
  let c: Cluster;
  let dir: string;
  const secret = randomBytes(12).toString('hex');

  before(async () => {
    c = await createCluster({
      name: `bnprobe${otp?.release ?? 0}`, otp, subnet: `10.231.${61 + i}.0/24`, namespace: 'default', service: 'myapp-headless',
      pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })),
      dnsMode: 'default',
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    dir = mkdtempSync(join(tmpdir(), 'beamnode-probe-cluster-'));
    writeFileSync(join(dir, 'cookie'), `${secret}\n`, { mode: 0o600 });
  });
  after(async () => {
    await c?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function probe(extra: string[] = []): Promise<{ code: number | null; report: JsonReport; stderr: string; stdout: string }> {
    const r = await c.exec([process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'probe', 'myapp-headless', '--json', '--cookie-file', join(dir, 'cookie'), ...extra], {
      timeoutMs: 90_000,
    });
    assert.equal(r.timedOut, false);
    assert.ok(!(r.stdout + r.stderr).includes(secret), 'the cookie is never printed');
    let report: JsonReport;
    try {
      report = JSON.parse(r.stdout) as JsonReport;
    } catch {
      throw new Error(`no JSON from the probe (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    return { code: r.code, report, stderr: r.stderr, stdout: r.stdout };
  }

  test(`default mode: IP and dashed names mismatch, localhost illegal, FQDN unresolvable; broken, endpoint_pod_names advice, exit 1 (${labelOf(otp)})`, async () => {
    await c.setDnsMode('default');
    const { code, report, stderr } = await probe();
    assert.equal(code, 1, stderr);
    assert.equal(report.verdict, 'broken');
    assert.equal(report.dnsMode, 'default');
    assert.deepEqual(report.nodes.map((n) => n.name).sort(), c.pods.map((p) => p.expectedNodeName).sort());
    for (const n of report.nodes) {
      const pod = c.pods.find((p) => p.ip === n.host)!;
      const trueName = `myapp@${pod.podName}.${SVC}`;
      assert.equal(n.name, trueName);
      const f = Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));
      assert.deepEqual(Object.keys(f), ['ip', 'localhost', 'short', 'dns', 'fqdn']);
      assert.deepEqual([f.ip.dialed, f.ip.accepted, f.ip.reason, f.ip.actual], [`myapp@${pod.ip}`, false, 'mismatch', trueName]);
      assert.deepEqual([f.localhost.reason, f.short.reason], ['illegal-host', 'illegal-host']);
      assert.deepEqual([f.dns.dialed, f.dns.reason, f.dns.actual], [`myapp@${dashedIp(pod.ip)}.${SVC}`, 'mismatch', trueName]);
      assert.deepEqual([f.fqdn.dialed, f.fqdn.reason], [trueName, 'unresolvable']);
    }
    assert.ok(report.advice.some((a) => a.code === 'endpoint_pod_names'), JSON.stringify(report.advice));
  });

  test(`endpoint_pod_names: every node accepted under its pod name; ok, exit 0; --mesh: every pair pongs (${labelOf(otp)})`, async () => {
    await c.setDnsMode('endpoint_pod_names');
    const { code, report, stderr } = await probe(['--mesh']);
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(report, null, 1)}`);
    assert.equal(report.verdict, 'ok');
    assert.equal(report.dnsMode, 'endpoint_pod_names');
    assert.equal(report.nodes.length, PODS.length);
    for (const n of report.nodes) {
      const pod = c.pods.find((p) => p.ip === n.host)!;
      const d = n.attempts.find((a) => a.forms.includes('dns'))!;
      assert.deepEqual([d.dialed, d.accepted, d.reason], [`myapp@${pod.podName}.${SVC}`, true, null]);
      assert.deepEqual(d.forms, ['dns', 'fqdn']);
    }
    assert.deepEqual(report.advice, []);
    assert.equal(report.mesh!.matrix.length, PODS.length * (PODS.length - 1));
    assert.ok(report.mesh!.matrix.every((m) => m.result === 'pong'), JSON.stringify(report.mesh));
  });

  test(`wrong cookie: names still checked, bad-cookie under the pod name, cookie advice, exit 1 (${labelOf(otp)})`, async () => {
    await c.setDnsMode('endpoint_pod_names');
    const r = await c.exec([process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'probe', 'myapp-headless', '--json', '--cookie', 'wrong-cookie'], { timeoutMs: 90_000 });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as JsonReport;
    for (const n of report.nodes) assert.equal(n.attempts.find((a) => a.forms.includes('dns'))!.reason, 'bad-cookie');
    assert.ok(report.advice.some((a) => a.code === 'cookie'));
    const target = c.pods[0].erl!;
    assert.match(target.logText(), /Connection attempt from node '?probe-[0-9a-f]+@[^ ]*'? rejected\. Invalid challenge reply/);
  });
});

/** Other shapes of the same mistake, on the host's OTP: what the probe reports and advises for each. */
describe(`probe in a pod: short names, IP names, a service without ports, a ClusterIP service (${labelOf(matrix[0])})`, { skip }, () => {
  const otp = matrix[0];
  const secret = randomBytes(12).toString('hex');
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'beamnode-probe-cluster-'));
    writeFileSync(join(dir, 'cookie'), secret, { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function probeIn(c: Cluster): Promise<{ code: number | null; report: JsonReport }> {
    const r = await c.exec([process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'probe', 'myapp-headless', '--json', '--cookie-file', join(dir, 'cookie')], {
      timeoutMs: 90_000,
    });
    try {
      return { code: r.code, report: JSON.parse(r.stdout) as JsonReport };
    } catch {
      throw new Error(`no JSON from the probe (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  }
  const codes = (r: JsonReport) => r.advice.map((a) => a.code);

  test(`-sname pods: every dotted name is illegal for a short-names node; name-mode advice (${labelOf(otp)})`, async () => {
    const c = await createCluster({
      name: 'bnprobes', otp, subnet: '10.231.71.0/24', pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })),
      dnsMode: 'endpoint_pod_names', erl: { alive: 'myapp', cookie: secret, nameMode: 'sname' },
    });
    try {
      const { code, report } = await probeIn(c);
      assert.equal(code, 1);
      for (const n of report.nodes) {
        const pod = c.pods.find((p) => p.ip === n.host)!;
        assert.equal(n.name, `myapp@${pod.podName}`);
        const f = Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));
        assert.equal(f.ip.reason, 'illegal-host');
        assert.equal(f.dns.reason, 'illegal-host', 'the pod-name FQDN has dots');
        assert.equal(f['short=fqdn'].reason, 'unresolvable', 'the bare pod name is not in cluster DNS');
      }
      assert.ok(codes(report).includes('name-mode'), codes(report).join());
      assert.ok(!codes(report).includes('endpoint_pod_names'));
    } finally {
      await c.destroy();
    }
  });

  test(`-name myapp@<pod IP> with SRV discovery: IP accepted, dashed name mismatch; ip-name-mismatch advice (${labelOf(otp)})`, async () => {
    const c = await createCluster({
      name: 'bnprobei', otp, subnet: '10.231.72.0/24', pods: PODS.map((podName) => ({ podName })),
      dnsMode: 'default', erl: { alive: 'myapp', cookie: secret, nameMode: 'ip' },
    });
    try {
      const { code, report } = await probeIn(c);
      assert.equal(code, 1);
      for (const n of report.nodes) {
        const f = Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));
        assert.equal(n.name, `myapp@${n.host}`);
        assert.equal(f['ip=fqdn'].accepted, true);
        assert.equal(f.dns.reason, 'mismatch');
      }
      assert.ok(codes(report).includes('ip-name-mismatch'), codes(report).join());
    } finally {
      await c.destroy();
    }
  });

  test(`a Service without ports: no SRV, hosts from A records (IPs) against FQDN-named nodes; no-ports and name-ip-mismatch advice (${labelOf(otp)})`, async () => {
    const c = await createCluster({
      name: 'bnprobep', otp, subnet: '10.231.73.0/24', pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })),
      dnsMode: 'endpoint_pod_names', ports: [], erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    try {
      const { code, report } = await probeIn(c);
      assert.equal(code, 1);
      assert.equal(report.nodes.length, PODS.length);
      for (const n of report.nodes) {
        const a = n.attempts.find((x) => x.forms.includes('dns'))!;
        assert.deepEqual(a.forms, ['ip', 'dns']);
        assert.equal(a.reason, 'mismatch');
      }
      assert.ok(codes(report).includes('no-ports') && codes(report).includes('name-ip-mismatch'), codes(report).join());
    } finally {
      await c.destroy();
    }
  });

  test(`a ClusterIP Service: the SRV target is the service itself, nothing answers EPMD there; not-headless advice (${labelOf(otp)})`, async () => {
    const c = await createCluster({
      name: 'bnprobeh', otp, subnet: '10.231.74.0/24', pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })),
      dnsMode: 'endpoint_pod_names', headless: false, erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    try {
      const { code, report } = await probeIn(c);
      assert.equal(code, 1);
      assert.equal(report.nodes.length, 0);
      assert.ok(codes(report).includes('not-headless'), codes(report).join());
    } finally {
      await c.destroy();
    }
  });
});
