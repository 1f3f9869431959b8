/**
 * `beamnode probe --mesh` on a partial mesh: three StatefulSet pods, two of which cannot reach
 * each other (iptables in one pod's namespace rejects TCP to and from the other, as a
 * NetworkPolicy would drop it). The matrix shows the pang pairs and why (what the asking node saw:
 * resolution, EPMD, the distribution port), and the pair global cut to prevent overlapping
 * partitions (OTP ≥ 25). Also a pod that runs two nodes: EPMD lists both, both are probed.
 * Root only; host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCluster, type Cluster } from './rig.js';
import { cookieDir, label, otp, probeCli, skip, SVC } from './probe-support.js';

const PODS = ['myapp-0', 'myapp-1', 'myapp-2'];

interface JsonReport {
  verdict: string;
  nodes: { name: string; host: string; alive: string; attempts: { forms: string[]; accepted: boolean }[] }[];
  advice: { code: string; text: string }[];
  mesh?: {
    matrix: { from: string; to: string; result: string; why?: string; dropped?: boolean }[];
    nodes?: { name: string; preventOverlappingPartitions?: boolean; connected?: string[] }[];
  };
}

describe(`probe --mesh: a partial mesh, global's overlapping-partition cut, two nodes in one pod (${label})`, { skip }, () => {
  const secret = randomBytes(12).toString('hex');
  let cookie: ReturnType<typeof cookieDir>;
  let c: Cluster;
  const fqdn = (pod: string) => `${pod}.${SVC}`;
  before(async () => {
    cookie = cookieDir(secret);
    c = await createCluster({
      name: 'bnprobem', otp, subnet: '10.231.84.0/24', dnsMode: 'default',
      pods: PODS.map((podName) => ({ podName, hostname: podName, subdomain: 'myapp-headless' })),
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    // A second node in myapp-0 (a sidecar release, an admin node): EPMD lists both.
    await c.startErl({ pod: 'myapp-0', name: 'admin', cookie: secret });
    // myapp-1 and myapp-2 cannot reach each other, in either direction.
    const other = c.pod('myapp-2').ip;
    for (const rule of [['OUTPUT', '-d', other], ['INPUT', '-s', other]]) {
      const r = await c.exec(['iptables', '-A', rule[0], rule[1], rule[2], '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'], { pod: 'myapp-1' });
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await c?.destroy();
    cookie?.remove();
  });

  test(`the matrix names the pang pairs with why, marks the pair global cut, and advises on both; both nodes of myapp-0 probed (${label})`, async () => {
    const { code, report } = await probeCli<JsonReport>(c, cookie.file, secret, ['--mesh'], 120_000);
    const out = JSON.stringify(report.mesh, null, 1);
    assert.equal(code, 1, out);
    assert.deepEqual(report.nodes.map((n) => n.name).sort(), [`admin@${fqdn('myapp-0')}`, ...PODS.map((p) => `myapp@${fqdn(p)}`)].sort());
    for (const n of report.nodes) assert.ok(n.attempts.find((a) => a.forms.includes('dns'))!.accepted, n.name);
    const m = report.mesh!;
    assert.equal(m.matrix.length, 4 * 3);
    const cellOf = (a: string, b: string) => m.matrix.find((x) => x.from === `myapp@${fqdn(a)}` && x.to === `myapp@${fqdn(b)}`)!;
    for (const [a, b] of [['myapp-1', 'myapp-2'], ['myapp-2', 'myapp-1']]) {
      const cell = cellOf(a, b);
      assert.equal(cell.result, 'pang', out);
      assert.match(cell.why ?? '', /cannot (connect to the distribution port|reach EPMD)/, out);
    }
    const codes = report.advice.map((a) => a.code);
    assert.ok(codes.includes('mesh'), codes.join());
    // global (prevent_overlapping_partitions, on by default since OTP 25) cuts a pair that ponged.
    if (Number(otp!.release) >= 25) {
      assert.ok(m.matrix.some((x) => x.dropped && /prevent_overlapping_partitions/.test(x.why ?? '')), out);
      assert.ok(codes.includes('global-partition'), codes.join());
    }
  });
});
