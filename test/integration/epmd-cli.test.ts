// `beamnode epmd …` run as a separate process (through tsx) against OTP's epmd and a real erl node,
// and `beamnode epmd serve` as the EPMD of a real erl node. Every process is stopped by its pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ErlNode, freePort, hostOtp, startEpmd, withTimeout } from '../support/otp.js';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'epmd'];

/** Runs the CLI; resolves with exit code and output (never rejects on a non-zero exit). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [...CLI, ...args], { cwd: ROOT, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

test(`${hostOtp().label}: beamnode epmd names --json and epmd port list and resolve a real erl node`, async () => {
  const epmd = await startEpmd();
  let erl: ErlNode | undefined;
  try {
    const distPort = await freePort();
    erl = await ErlNode.start(hostOtp(), {
      name: 'clinode@127.0.0.1',
      cookie: 'cli',
      epmdPort: epmd.port,
      args: ['-start_epmd', 'false', '-kernel', 'inet_dist_listen_min', String(distPort), 'inet_dist_listen_max', String(distPort)],
    });
    const r = await cli('names', '127.0.0.1', '--port', String(epmd.port), '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { host: '127.0.0.1', port: epmd.port, nodes: [{ name: 'clinode', port: distPort }] });

    const p = await cli('port', 'clinode', '127.0.0.1', '--port', String(epmd.port), '--json');
    assert.equal(p.code, 0, p.stderr);
    const info = JSON.parse(p.stdout) as { port: number; nodeType: number; name: string };
    assert.equal(info.port, distPort);
    assert.equal(info.nodeType, 77);

    const missing = await cli('port', 'nobody', '127.0.0.1', '--port', String(epmd.port));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not registered/);
  } finally {
    await erl?.stop();
    await epmd.stop();
  }
});

test('beamnode epmd: unreachable is exit 1 with a JSON error; bad usage is exit 2', async () => {
  const port = await freePort();
  const r = await cli('names', '127.0.0.1', '--port', String(port), '--json');
  assert.equal(r.code, 1);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'BEAM_ERR_EPMD_UNREACHABLE');
  assert.equal((await cli('names', '--port', 'nope')).code, 2);
  assert.equal((await cli('names', '--bogus')).code, 2);
  assert.equal((await cli('frobnicate')).code, 2);
});

test(`${hostOtp().label}: beamnode epmd serve is the EPMD of a real erl node and stops on SIGTERM`, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', String(port), '--address', '127.0.0.1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const waitFor = (re: RegExp, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (re.test(out)) {
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      }),
      20_000,
      what,
    );
  let erl: ErlNode | undefined;
  try {
    await waitFor(/EPMD listening on 127\.0\.0\.1:\d+/, 'serve start');
    erl = await ErlNode.start(hostOtp(), { name: 'served@127.0.0.1', cookie: 'cli', epmdPort: port, args: ['-start_epmd', 'false'] });
    await waitFor(/registered served port \d+ normal/, 'registration log');
    const r = await cli('names', '127.0.0.1', '--port', String(port), '--json');
    assert.deepEqual((JSON.parse(r.stdout) as { nodes: { name: string }[] }).nodes.map((n) => n.name), ['served']);
    await erl.stop();
    erl = undefined;
    await waitFor(/unregistered served/, 'unregistration log');
  } finally {
    await erl?.stop();
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  const [code] = (await withTimeout(child.exitCode === null ? once(child, 'exit') : Promise.resolve([child.exitCode]), 10_000, 'serve exit')) as [number];
  assert.equal(code, 0, out);
  assert.match(out, /SIGTERM, stopping/);
});
