// The EPMD client against OTP's real epmd and real erl nodes on loopback, for every OTP in the
// matrix (the OTP release is in each test name). Every epmd and erl started here is stopped by pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { canConnect, ErlNode, freePort, otpMatrix, sleep, startEpmd, withTimeout, type Otp } from '../support/otp.js';
import { names, portPlease, register, dump, type RegistrationClosed } from '../../src/epmd/client.js';
import { EpmdError } from '../../src/epmd/errors.js';
import { waitUntil } from '../support/wait.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const COOKIE = 'epmdtestcookie';
const isCode = (code: string) => (e: unknown) => e instanceof EpmdError && e.code === code;

/** An erl node with a fixed distribution port (so tests know the truth independently of epmd). */
async function startErl(otp: Otp, alive: string, epmdPort: number): Promise<{ node: ErlNode; distPort: number }> {
  const distPort = await freePort();
  const node = await ErlNode.start(otp, {
    name: `${alive}@${HOST}`,
    cookie: COOKIE,
    epmdPort,
    args: ['-start_epmd', 'false', '-kernel', 'inet_dist_listen_min', String(distPort), 'inet_dist_listen_max', String(distPort)],
  });
  return { node, distPort };
}

/** OTP's epmd on a given port (to restart it on the same port). */
async function epmdOn(port: number): Promise<ChildProcess> {
  const child = spawn('epmd', ['-port', String(port), '-address', HOST], { stdio: 'ignore' });
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (await canConnect(port)) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`epmd did not start on ${port}`);
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await withTimeout(once(child, 'exit'), 5000, 'epmd exit').catch(() => child.kill('SIGKILL'));
}

for (const otp of otpMatrix()) {
  test(`${otp.label}: names and portPlease list and resolve erl nodes registered with OTP's epmd`, async () => {
    const epmd = await startEpmd();
    const started: ErlNode[] = [];
    try {
      const a = await startErl(otp, 'a', epmd.port);
      started.push(a.node);
      const b = await startErl(otp, 'b', epmd.port);
      started.push(b.node);
      const listed = await names(HOST, { port: epmd.port });
      assert.deepEqual(
        listed.sort((x, y) => x.name.localeCompare(y.name)),
        [
          { name: 'a', port: a.distPort },
          { name: 'b', port: b.distPort },
        ],
      );
      const r = await portPlease('b', HOST, { port: epmd.port });
      assert.equal(r.port, b.distPort);
      assert.equal(r.name, 'b');
      assert.equal(r.nodeType, 77, 'erl registers as a normal node');
      assert.equal(r.protocol, 0);
      assert.ok(r.highestVersion >= 6 && r.lowestVersion >= 5 && r.lowestVersion <= r.highestVersion, JSON.stringify(r));
      await assert.rejects(portPlease('nosuchnode', HOST, { port: epmd.port }), (e: unknown) => {
        assert.ok(isCode('BEAM_ERR_EPMD_NOT_REGISTERED')(e));
        assert.match((e as Error).message, new RegExp(`nosuchnode.*127\\.0\\.0\\.1:${epmd.port}`));
        return true;
      });
      await assert.rejects(register({ alive: 'a', port: 1, epmdPort: epmd.port }), isCode('BEAM_ERR_EPMD_NAME_TAKEN'));
    } finally {
      for (const n of started) await n.stop();
      await epmd.stop();
    }
  });

  test(`${otp.label}: a hidden name we register is listed by epmd -names and resolved by erl`, async () => {
    const epmd = await startEpmd();
    let erl: ErlNode | undefined;
    try {
      ({ node: erl } = await startErl(otp, 'looker', epmd.port));
      const reg = await register({ alive: 'tshidden', port: 4242, hidden: true, epmdPort: epmd.port });
      try {
        assert.equal(reg.extended, true, 'OTP epmd answers ALIVE2_X_RESP for HighestVersion 6');
        assert.ok(reg.creation > 3);
        const { stdout } = await run('epmd', ['-port', String(epmd.port), '-names'], { timeout: 10_000 });
        assert.match(stdout, /^name tshidden at port 4242$/m);
        assert.equal(await erl.evalText(`erl_epmd:port_please("tshidden", {127,0,0,1})`), '{port,4242,6}');
        assert.match(await erl.evalText('net_adm:names()'), /\{"tshidden",4242\}/);
        const p = await portPlease('tshidden', HOST, { port: epmd.port });
        assert.equal(p.nodeType, 72);
      } finally {
        await reg.close();
      }
      // epmd forgets the name once the registration socket is closed (bounded poll: epmd is another process).
      let stillThere = true;
      for (let i = 0; i < 50 && stillThere; i++) {
        stillThere = (await names(HOST, { port: epmd.port })).some((n) => n.name === 'tshidden');
        if (stillThere) await sleep(50);
      }
      assert.equal(stillThere, false);
      assert.equal(await erl.evalText(`erl_epmd:port_please("tshidden", {127,0,0,1})`), 'noport');
    } finally {
      await erl?.stop();
      await epmd.stop();
    }
  });
}

test("OTP's epmd: creation is bumped on re-registration; DUMP lists the active name; HighestVersion 5 gets a 16-bit creation", async () => {
  const epmd = await startEpmd();
  try {
    const first = await register({ alive: 'again', port: 1111, epmdPort: epmd.port });
    await first.close();
    let second;
    for (let i = 0; i < 50 && !second; i++) {
      second = await register({ alive: 'again', port: 1112, epmdPort: epmd.port }).catch((e: unknown) => {
        if (isCode('BEAM_ERR_EPMD_NAME_TAKEN')(e)) return undefined; // epmd has not seen the close yet
        throw e;
      });
      if (!second) await sleep(50);
    }
    assert.ok(second, 'registered again');
    try {
      assert.equal(second.creation, first.creation + 1);
      const d = await dump(HOST, { port: epmd.port });
      assert.deepEqual(d.active.map((e) => [e.name, e.port]), [['again', 1112]]);
    } finally {
      await second.close();
    }
    const old = await register({ alive: 'legacy', port: 1, epmdPort: epmd.port, highestVersion: 5, lowestVersion: 5 });
    try {
      assert.equal(old.extended, false);
      assert.ok(old.creation >= 1 && old.creation <= 3);
    } finally {
      await old.close();
    }
  } finally {
    await epmd.stop();
  }
});

test("OTP's epmd restarts: the registration reports the close, and registering again works", async () => {
  const port = await freePort();
  let epmd = await epmdOn(port);
  try {
    const closed = new Promise<RegistrationClosed>((resolve) => {
      void register({ alive: 'phoenix', port: 2222, epmdPort: port, onClose: resolve }).then((r) => assert.equal(r.alive, 'phoenix'));
    });
    await waitUntil(async () => (await names(HOST, { port })).some((n) => n.name === 'phoenix'), 'epmd lists phoenix');
    await stopChild(epmd);
    const info = await withTimeout(closed, 10_000, 'registration close');
    assert.equal(info.byUs, false);
    epmd = await epmdOn(port);
    const again = await register({ alive: 'phoenix', port: 2222, epmdPort: port });
    try {
      assert.deepEqual(await names(HOST, { port }), [{ name: 'phoenix', port: 2222 }]);
    } finally {
      await again.close();
    }
  } finally {
    await stopChild(epmd);
  }
});

test('no EPMD listening: BEAM_ERR_EPMD_UNREACHABLE naming host:port', async () => {
  const port = await freePort();
  await assert.rejects(names(HOST, { port }), (e: unknown) => {
    assert.ok(isCode('BEAM_ERR_EPMD_UNREACHABLE')(e));
    assert.match((e as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal((e as EpmdError).port, port);
    return true;
  });
  await assert.rejects(register({ alive: 'x', port: 1, epmdPort: port }), isCode('BEAM_ERR_EPMD_UNREACHABLE'));
});

test('an EPMD that accepts and never answers: BEAM_ERR_TIMEOUT; an aborted call rejects with the reason', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, HOST, r));
  const port = (silent.address() as { port: number }).port;
  try {
    await assert.rejects(portPlease('x', HOST, { port, timeout: 200 }), (e: unknown) => {
      assert.ok(isCode('BEAM_ERR_TIMEOUT')(e));
      assert.match((e as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
    const ac = new AbortController();
    const p = names(HOST, { port, signal: ac.signal });
    ac.abort(new Error('caller gave up'));
    await assert.rejects(p, /caller gave up/);
    await assert.rejects(names(HOST, { port, signal: AbortSignal.abort() }), { name: 'AbortError' });
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('an EPMD that floods a NAMES reply past maxReplyBytes: BEAM_ERR_EPMD_MALFORMED, not unbounded memory', async () => {
  const conns = new Set<Socket>();
  const flood = createServer((s) => {
    conns.add(s);
    s.on('error', () => {});
    s.write(Buffer.alloc(4));
    s.end(Buffer.from('name x at port 1\n'.repeat(4000)));
  });
  await new Promise<void>((r) => flood.listen(0, HOST, r));
  const port = (flood.address() as { port: number }).port;
  try {
    await assert.rejects(names(HOST, { port, maxReplyBytes: 10_000 }), isCode('BEAM_ERR_EPMD_MALFORMED'));
    assert.equal((await names(HOST, { port })).length, 4000);
  } finally {
    for (const c of conns) c.destroy();
    await new Promise<void>((r) => flood.close(() => r()));
  }
});
