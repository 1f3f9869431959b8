// The hot path through DistNetwork and Connection against real erl nodes, on every OTP of the
// matrix: DIST_HDR_ATOM_CACHE and FRAGMENTS negotiated, atoms past the 2048-slot caches and long
// atoms both ways, 10 MB each way, a 100 MB send with ticks flowing (net_ticktime 4 s on both
// sides), and a fragmented message cut short by the peer's death being freed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { atom, Pid, Tuple, tuple, type Term } from '../../src/etf/types.js';
import type { Connection } from '../../src/dist/net/connection.js';
import type { Control } from '../../src/dist/protocol/control.js';
import { DFLAG, HOT_PATH_FLAGS } from '../../src/dist/protocol/flags.js';
import { DistNetwork } from '../../src/dist/net/network.js';
import { ErlNode, otpMatrix, startEpmd, withTimeout, type Epmd } from '../support/otp.js';
import { waitUntil } from '../support/wait.js';

const COOKIE = 'beamnode_hotpath_cookie';
const TICK_MS = 4000;

// echo: {From, M} → From ! M.  sink: {From, Bin} → From ! {got, byte_size(Bin), erlang:crc32(Bin)}.
const SETUP = `
  register(echo, spawn(fun L() -> receive {From, M} -> From ! M, L() end end)),
  register(sink, spawn(fun L() -> receive {From, Bin} -> From ! {got, byte_size(Bin), erlang:crc32(Bin)}, L() end end)),
  ok`;

function nextMessage(conn: Connection, to: Pid, ms = 30_000): Promise<Term> {
  return withTimeout(
    new Promise((resolve) => {
      const on = (c: Control, m: Term | undefined) => {
        if ((c.op === 'send_sender' || c.op === 'send') && c.to.equals(to)) {
          conn.off('control', on);
          resolve(m as Term);
        }
      };
      conn.on('control', on);
    }),
    ms,
    'message from erl',
  );
}

/** crc32 as erlang:crc32/1 (zlib's). */
function crc32(b: Buffer): number {
  let c = ~0;
  for (let i = 0; i < b.length; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

for (const otp of otpMatrix()) {
  describe(`dist hot path (Connection) against ${otp.label}`, () => {
    let epmd: Epmd;
    let e: ErlNode;
    let net: DistNetwork;
    let conn: Connection;
    let self: Pid;
    const erlName = `hq${otp.release}@127.0.0.1`;
    const extra: ErlNode[] = [];

    before(async () => {
      epmd = await startEpmd();
      e = await ErlNode.start(otp, {
        name: erlName,
        cookie: COOKIE,
        epmdPort: epmd.port,
        args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}', '-kernel', 'net_ticktime', String(TICK_MS / 1000)],
      });
      assert.equal(await e.evalText(SETUP), 'ok');
      net = new DistNetwork({ name: `jsq${otp.release}@127.0.0.1`, cookie: COOKIE, epmdPort: epmd.port, tickTime: TICK_MS, atomCache: true, fragments: true });
      conn = await net.connect(erlName);
      self = new Pid(atom(net.name), 1, 0, net.creation);
    });
    after(async () => {
      await net?.close();
      for (const x of extra) await x.stop();
      await e?.stop();
      await epmd?.stop();
    });

    const echo = async (msg: Term, ms?: number): Promise<Term> => {
      const back = nextMessage(conn, self, ms);
      conn.send({ op: 'reg_send', from: self, toName: atom('echo') }, tuple(self, msg));
      return back;
    };

    test(`${otp.label}: both flags negotiated; 3000 distinct atoms and long atoms each way`, async () => {
      assert.equal(conn.flags & HOT_PATH_FLAGS, HOT_PATH_FLAGS);
      const long = [atom('ä'.repeat(255)), atom('y'.repeat(255))];
      for (let m = 0; m < 30; m++) {
        const msg = tuple(...Array.from({ length: 100 }, (_, i) => atom(`q_${m}_${i}`)), ...long, m);
        assert.deepEqual(await echo(msg), msg);
      }
      // erl's own atoms: 30 messages of 100 fresh atoms each, plus a long one.
      await e.evalText(
        `register(blast, spawn(fun() -> receive {go, To} -> [To ! list_to_tuple([list_to_atom("e_" ++ integer_to_list(M) ++ "_" ++ integer_to_list(I)) || I <- lists:seq(1, 100)] ++ [list_to_atom(lists:duplicate(255, 246)), M]) || M <- lists:seq(1, 30)] end end)), ok`,
      );
      const got: Term[] = [];
      const all = withTimeout(
        new Promise<void>((resolve) => {
          const on = (c: Control, m: Term | undefined) => {
            if ((c.op !== 'send_sender' && c.op !== 'send') || !c.to.equals(self)) return;
            got.push(m as Term);
            if (got.length === 30) {
              conn.off('control', on);
              resolve();
            }
          };
          conn.on('control', on);
        }),
        30_000,
        'atoms from erl',
      );
      conn.send({ op: 'reg_send', from: self, toName: atom('blast') }, tuple(atom('go'), self));
      await all;
      for (let m = 1; m <= 30; m++) {
        const t = got[m - 1] as Tuple;
        assert.equal(t.at(0), atom(`e_${m}_1`));
        assert.equal(t.at(99), atom(`e_${m}_100`));
        assert.equal(t.at(100), atom('ö'.repeat(255)));
        assert.equal(t.at(101), m);
      }
    });

    test(`${otp.label}: a 10 MB message each way, fragmented`, async () => {
      const big = Buffer.alloc(10 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i ^ 0x5a5a5a5a, i);
      const back = await echo(tuple(atom('big'), big), 60_000);
      assert.ok(back instanceof Tuple);
      assert.ok(Buffer.compare(back.at(1) as Buffer, big) === 0);
      assert.equal(conn.pendingFragmentBytes, 0);
    });

    test(`${otp.label}: a 100 MB send: the event loop and ticks run between fragments; erl gets it intact`, async (t) => {
      const big = Buffer.alloc(100 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
      let ticks = 0;
      const onTick = () => ticks++;
      conn.on('tick', onTick);
      const reply = nextMessage(conn, self, 120_000);
      // A connection lost during the send fails at once, with its reason (e.g. a tick timeout on a
      // starved machine), instead of after the reply's 120 s.
      let onClose!: (why?: Error) => void;
      const lost = new Promise<never>((_, reject) => (onClose = (why) => reject(new Error(`the connection closed during the send: ${why?.message ?? 'by us'}`))));
      lost.catch(() => {});
      conn.once('close', onClose);
      conn.send({ op: 'reg_send', from: self, toName: atom('sink') }, tuple(self, big));
      // Sample the queue from the event loop while the fragments go out: several distinct levels
      // mean the loop ran between fragments (one 100 MB write would show one level, then zero).
      const levels = new Set<number>();
      let done = false;
      reply.finally(() => (done = true)).catch(() => {});
      for (let i = 0; i < 1_000_000 && !done && conn.bufferedBytes > 0; i++) {
        levels.add(conn.bufferedBytes);
        await new Promise((r) => setImmediate(r));
      }
      const r = await Promise.race([reply, lost]).finally(() => conn.off('close', onClose));
      conn.off('tick', onTick);
      t.diagnostic(`queue levels seen: ${levels.size}; ticks from erl during the send: ${ticks}`);
      t.diagnostic(`MiB queued at each sample: ${[...levels].map((x) => (x / 1048576).toFixed(1)).join(' ')}`);
      assert.ok(levels.size >= 5, `queue levels seen: ${levels.size}`);
      assert.deepEqual(r, tuple(atom('got'), big.length, crc32(big)));
      assert.equal(conn.closed, false);
      // And the connection still carries ordinary traffic.
      assert.equal(await echo(atom('after')), atom('after'));
    });

    test(`${otp.label}: erl killed in the middle of a 100 MB fragmented message: the partial message is freed`, async () => {
      const name = `hk${otp.release}@127.0.0.1`;
      const k = await ErlNode.start(otp, { name, cookie: COOKIE, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
      extra.push(k);
      const c = await net.connect(name);
      const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
      // erl sends 100 MB (1600 fragments) to a name on our node.
      await k.evalText(`B = binary:copy(<<1>>, 100 * 1024 * 1024), ok`);
      void k.eval(`{x, '${net.name}'} ! B, ok`).catch(() => undefined);
      // Bounded by time, not by event-loop turns: a loaded machine may take seconds to start sending.
      await waitUntil(() => c.pendingFragmentBytes > 0 || c.closed, 'the first fragments', 30_000, 1);
      assert.ok(c.pendingFragmentBytes > 0, 'a partial message is held');
      process.kill(k.pid, 'SIGKILL');
      await withTimeout(closed, 20_000, 'connection close');
      assert.equal(c.pendingFragmentBytes, 0, 'freed on close');
      await waitUntil(() => !net.get(name), `${name} gone from the network`, 10_000);
    });
  });
}
