/**
 * `beamnode probe --watch` as a command: its flags' usage errors (exit 2), and one real process on
 * loopback (a nameserver that does not answer: every run is `broken`) that serves, then stops on
 * SIGTERM with exit 0.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function cli(...args: string[]): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const err = mock.method(console, 'error', (...a: unknown[]) => void (stderr += a.join(' ') + '\n'));
  try {
    return { status: await run(args), stderr };
  } finally {
    err.mock.restore();
  }
}

test('usage errors: --interval/--listen without --watch, --json with --watch, bad durations and addresses', async () => {
  for (const [args, msg] of [
    [['svc', '--interval', '30s'], /--interval goes with --watch/],
    [['svc', '--listen', '9090'], /--listen goes with --watch/],
    [['svc', '--watch', '--json'], /--json does not go with --watch/],
    [['svc', '--watch', '--interval', '500ms'], /not a duration from 1s to 24h/],
    [['svc', '--watch', '--interval', 'soon'], /not a duration/],
    [['svc', '--watch', '--listen', 'host:port'], /--listen host:port is not \[HOST:\]PORT/],
  ] as const) {
    const r = await cli(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, msg);
  }
});

test('a real --watch process: serves /healthz and the broken report, exits 0 on SIGTERM', async () => {
  // A UDP port that stays silent: DNS questions time out (bounded by --timeout), so runs are broken.
  const silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  const ns = `127.0.0.1:${silent.address().port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'probe', 'myapp-headless', '--nameserver', ns, '--timeout', '200',
    '--watch', '--interval', '1s', '--listen', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 60_000);
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /serving (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
        if (m) { clearTimeout(t); resolve(m[1]); }
      });
    });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    let report: { verdict: string; advice: { code: string }[] } | undefined;
    for (let i = 0; i < 100 && !report; i++) {
      const res = await fetch(`${base}/api/report`);
      if (res.status === 200) report = (await res.json()) as typeof report;
      else { await res.text(); await new Promise((r) => setTimeout(r, 100)); }
    }
    assert.ok(report, 'a run ended');
    assert.equal(report.verdict, 'broken');
    assert.ok(report.advice.some((a) => a.code === 'dns-unreachable'), JSON.stringify(report.advice));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /beamnode probe: stopped/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    silent.close();
  }
});
