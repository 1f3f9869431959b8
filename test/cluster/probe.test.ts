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

const skip = rigUnavailableReason() ?? false;
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
