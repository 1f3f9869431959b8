/**
 * `beamnode demo`'s logic (src/emulation/demo.ts) end to end: 3 real erl pods on loopback, the cluster
 * DNS without and with endpoint_pod_names, both verdicts and the lesson; nothing left running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runDemo } from '../../src/emulation/demo.js';
import { hostOtp } from '../support/otp.js';

const otp = hostOtp();

function demoErls(): string[] {
  const r = spawnSync('pgrep', ['-f', 'beamnode_demo_epmd.*127\\.81\\.0\\.'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

test(`demo: broken without endpoint_pod_names, ok with it, and the lesson (${otp.label})`, async () => {
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
  assert.match(r.text, /stopped now: the `\$ beamnode probe` lines above cannot be rerun[\s\S]*beamnode demo --keep/, 'says its commands cannot be rerun');
  assert.deepEqual(demoErls(), [], 'every erl the demo started is gone');
  assert.deepEqual(readdirSync(tmpdir()).filter((d) => d.startsWith('beamnode-demo-127.81.0-')), [], 'its folder is removed');
});

test('demo: an erl that cannot run is a BEAM_ERR_PROBE_DEMO error, and nothing is left behind', async () => {
  const { ProbeError } = await import('../../src/probe/errors.js');
  await assert.rejects(runDemo({ net: '127.85.0', erl: '/nonexistent/erl' }), (e: unknown) => e instanceof ProbeError && e.code === 'BEAM_ERR_PROBE_DEMO' && /needs Erlang\/OTP/.test(e.message));
  assert.deepEqual(readdirSync(tmpdir()).filter((d) => d.startsWith('beamnode-demo-127.85.0-')), [], 'its folder is removed');
});

test(`beamnode demo: SIGINT stops every erl it started and exits 1 (${otp.label})`, async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--net', '127.84.0'], { env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    // Interrupt once the pods run (before or during the first probe).
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b) => {
        out += b;
        if (out.includes('pods: ')) resolve();
      });
      child.once('exit', () => reject(new Error(`demo exited before its pods started: ${out}${err}`)));
    });
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 1, err);
    assert.match(err, /interrupted; everything started was stopped/);
    const left = spawnSync('pgrep', ['-f', 'beamnode_demo_epmd.*127\\.84\\.0\\.'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no erl of the demo is left');
  } finally {
    clearTimeout(guard);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test(`beamnode demo --keep: the printed commands probe the running cluster (ok; one pod without its DNS broken), Ctrl-C stops it and exits 0 (${otp.label})`, async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--keep', '--net', '127.87.0'], { env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  child.stdout.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => /keeps running[\s\S]*\$ beamnode probe 127[^\n]*\n/.test(out) && resolve();
      child.stdout.on('data', check);
      child.once('exit', () => reject(new Error(`demo --keep exited: ${out}${err}`)));
    });
    const commands = [...out.matchAll(/^ {2}\$ beamnode (probe [^#\n]*?)\s*(?:#.*)?$/gm)].map((m) => m[1].split(/\s+/));
    assert.equal(commands.length, 2, out);
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    const service = run(commands[0]);
    assert.equal(service.status, 0, service.stdout + service.stderr);
    assert.match(service.stdout, /myapp-headless\.default\.svc\.cluster\.local +verdict: OK/);
    const pod = run(commands[1]);
    assert.equal(pod.status, 1, pod.stdout + pod.stderr);
    assert.match(pod.stdout, /\[node-name\] myapp@127\.87\.0\.11 is not a name\s+myapp@myapp-7d9f8b6c5-abcde\.myapp-headless/); // the table wraps advice
    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    assert.match(out, /Stopping the pretend cluster/);
    assert.equal(spawnSync('pgrep', ['-f', 'beamnode_demo_epmd.*127\\.87\\.0\\.'], { encoding: 'utf8' }).stdout.trim(), '', 'no erl of the demo is left');
    assert.deepEqual(readdirSync(tmpdir()).filter((d) => d.startsWith('beamnode-demo-127.87.0-')), [], 'its folder (and cookie file) is removed');
  } finally {
    // A failed assertion leaves the demo running: Ctrl-C first, so it stops its erl nodes; SIGKILL only if that hangs.
    if (child.exitCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    clearTimeout(guard);
  }
});
