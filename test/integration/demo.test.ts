/**
 * `beamnode demo`'s logic (src/probe/demo.ts) end to end: 3 real erl pods on loopback, the cluster
 * DNS without and with endpoint_pod_names, both verdicts and the lesson; nothing left running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runDemo } from '../../src/probe/demo.js';
import { hostOtp } from '../support/otp.js';

const otp = hostOtp();

function demoErls(): string[] {
  const r = spawnSync('pgrep', ['-f', 'beamnode_demo_epmd.*127\\.81\\.0\\.'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

test(`demo: broken without endpoint_pod_names, ok with it, and the lesson (${otp.label})`, async () => {
  const before = readdirSync(tmpdir()).filter((d) => d.startsWith('beamnode-demo-'));
  const r = await runDemo({ net: '127.81.0' });
  assert.equal(r.before.verdict, 'broken');
  assert.equal(r.before.dnsMode, 'default');
  assert.equal(r.before.nodes.length, 3);
  for (const n of r.before.nodes) {
    const dns = n.attempts.find((a) => a.forms.includes('dns'))!;
    assert.equal(dns.reason, 'mismatch');
    assert.equal(dns.actual, n.name);
    assert.match(n.name, /^myapp@myapp-7d9f8b6c5-[a-z]{5}\.myapp-headless\.default\.svc\.cluster\.local$/);
  }
  assert.ok(r.before.advice.some((a) => a.code === 'endpoint_pod_names'));
  assert.equal(r.after.verdict, 'ok');
  assert.equal(r.after.dnsMode, 'endpoint_pod_names');
  for (const n of r.after.nodes) assert.equal(n.attempts.find((a) => a.forms.includes('dns'))!.accepted, true);
  assert.match(r.text, /verdict: BROKEN[\s\S]*verdict: OK[\s\S]*The lesson/);
  assert.match(r.text, /endpoint_pod_names/);
  assert.deepEqual(demoErls(), [], 'every erl the demo started is gone');
  const after = readdirSync(tmpdir()).filter((d) => d.startsWith('beamnode-demo-') && !before.includes(d));
  assert.deepEqual(after.filter((d) => existsSync(`${tmpdir()}/${d}`)), [], 'its folder is removed');
});
