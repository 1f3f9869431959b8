// Security: the cookie never appears in logs (DEBUG=beamnode:*), errors (messages, properties,
// causes) or --json output: a child process makes a good connection, a wrong-cookie failure both
// ways and a probe with a wrong cookie; the CLI runs the probe with --json. A ~/.erlang.cookie
// readable by others is refused as erl refuses it (temp HOME). The digest is compared with
// crypto.timingSafeEqual (cookie.ts digestEquals; see docs/security.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistError } from '../../src/dist/errors.js';
import { resolveCookie, digestEquals, digest } from '../../src/dist/net/cookie.js';
import { DemoCluster } from '../../src/emulation/demo-cluster.js';
import { ErlNode, hostOtp, startEpmd, withTimeout, type Epmd } from '../support/otp.js';

const otp = hostOtp();

/** Runs a command (tsx) to its end; resolves with everything it wrote and its exit code. */
function run(args: string[], env: Record<string, string>, ms = 90_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    withTimeout(exited, ms, args.join(' ')).then(
      (code) => resolve({ code, out, err }),
      (e: Error) => {
        child.kill('SIGKILL');
        reject(e);
      },
    );
  });
}

describe(`the cookie never leaks (${otp.label})`, () => {
  const good = `Sekrit${randomBytes(6).toString('hex')}`;
  const bad = `Wrong${randomBytes(6).toString('hex')}`;
  let epmd: Epmd;
  let erl: ErlNode;
  let demo: DemoCluster;
  before(async () => {
    epmd = await startEpmd();
    erl = await ErlNode.start(otp, { name: 'leakerl@127.0.0.1', cookie: good, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
    demo = await DemoCluster.start({ net: '127.79.0', pods: [{ podName: 'myapp-7d9f8b6c5-leak1' }] });
  });
  after(async () => {
    await demo?.stop();
    await erl?.stop();
    await epmd?.stop();
  });

  const assertNoCookie = (text: string, what: string) => {
    for (const c of [good, bad, demo.cookie]) {
      assert.ok(!text.includes(c), `${what} contains a cookie: …${text.slice(Math.max(0, text.indexOf(c) - 200), text.indexOf(c) + 40)}…`);
      // Nor its hex or base64 form.
      for (const enc of [Buffer.from(c).toString('hex'), Buffer.from(c).toString('base64')]) assert.ok(!text.includes(enc), `${what} contains an encoded cookie`);
    }
  };

  test(`${otp.label}: DEBUG=beamnode:* logs, errors and the probe report of a good connection, a wrong cookie both ways and a probe`, async () => {
    const r = await run(['test/integration/security-leak-child.ts'], {
      DEBUG: 'beamnode:*',
      DEBUG_DEPTH: '10',
      LEAK_EPMD_PORT: String(epmd.port),
      LEAK_ERL: 'leakerl@127.0.0.1',
      LEAK_GOOD: good,
      LEAK_BAD: bad,
      LEAK_DNS: demo.dns.nameserver,
      LEAK_DEMO_EPMD_PORT: String(demo.epmdPort),
      LEAK_SEARCH: demo.search.join(','),
    });
    assert.equal(r.code, 0, r.err.slice(-3000));
    // The run did what it should (so the grep below means something).
    assert.match(r.out, /good rpc: Atom|good rpc: .*leakerl/);
    assert.match(r.out, /bad connect: .*BEAM_ERR_HANDSHAKE_BAD_COOKIE/s);
    assert.match(r.out, /handshakeFailed in: .*BAD_COOKIE/s);
    assert.match(r.out, /erl pings bad: .*pang/);
    assert.match(r.out, /inbound handshake failure: seen/);
    assert.match(r.out, /probe verdict: broken/);
    assert.match(r.out, /"cookie"|bad.cookie|cookie/i, 'the probe names the cookie problem');
    assert.ok(r.err.includes('beamnode:dist:handshake'), 'debug logging was on');
    assertNoCookie(r.out, 'stdout');
    assertNoCookie(r.err, 'stderr (debug logs)');
  });

  test(`${otp.label}: the probe CLI with --json and a wrong cookie (DEBUG=beamnode:*) prints no cookie`, async () => {
    const r = await run(
      ['src/cli/main.ts', 'probe', 'myapp-headless', '--nameserver', demo.dns.nameserver, '--epmd-port', String(demo.epmdPort), '--cookie', bad, '--timeout', '2000', '--json'],
      { DEBUG: 'beamnode:*', NO_COLOR: '1' },
    );
    assert.equal(r.code, 1, r.err.slice(-2000));
    const report = JSON.parse(r.out) as { verdict: string };
    assert.equal(report.verdict, 'broken');
    assertNoCookie(r.out, 'probe --json');
    assertNoCookie(r.err, 'probe stderr');
  });
});

describe('cookie files and digests', () => {
  let home: string;
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'beamnode-home-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('a ~/.erlang.cookie readable by group or others is refused as erl refuses it; 0400/0600 are accepted', () => {
    const file = join(home, '.erlang.cookie');
    const secret = `FileSekrit${randomBytes(4).toString('hex')}`;
    writeFileSync(file, secret + '\n');
    const env = { HOME: home, ERLANG_COOKIE: undefined, XDG_CONFIG_HOME: join(home, '.config') };
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(file, mode);
      assert.throws(
        () => resolveCookie({ env }),
        (e: unknown) => {
          assert.ok(e instanceof DistError, String(e));
          assert.equal(e.code, 'BEAM_ERR_COOKIE_FILE_MODE');
          assert.match(e.message, /accessible by owner only/);
          assert.ok(!e.message.includes(secret));
          return true;
        },
        `mode ${mode.toString(8)}`,
      );
    }
    for (const mode of [0o400, 0o600]) {
      chmodSync(file, mode);
      assert.equal(resolveCookie({ env }), secret);
    }
  });

  test('erl itself refuses the same group/other-readable file (the rule we copy)', async (t) => {
    const file = join(home, '.erlang.cookie');
    chmodSync(file, 0o644);
    // a private epmd, and -start_epmd false: a bare -sname would leave `epmd -daemon` running on 4369
    const own = await startEpmd();
    t.after(() => own.stop());
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('erl', ['-noshell', '-start_epmd', 'false', '-sname', `modecheck${process.pid}`, '-eval', 'halt()'], {
        env: { ...process.env, HOME: home, ERL_EPMD_PORT: String(own.port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const t = setTimeout(() => c.kill('SIGKILL'), 30_000);
      c.once('exit', (code) => {
        clearTimeout(t);
        resolve({ code, out });
      });
    });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /Cookie file .* must be accessible by owner only/);
  });

  test('digests are compared in constant time with equal-length buffers only', () => {
    const d = digest(12345, 'abc');
    assert.equal(digestEquals(d, Buffer.from(d)), true);
    assert.equal(digestEquals(d, d.subarray(0, 15)), false, 'a short digest is false, not a RangeError from timingSafeEqual');
    const other = Buffer.from(d);
    other[15] ^= 1;
    assert.equal(digestEquals(d, other), false);
  });
});
