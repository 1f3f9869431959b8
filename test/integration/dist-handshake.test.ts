// The distribution wire against real erl nodes, on every OTP of the matrix: handshake both ways,
// frames both ways, ticks, wrong cookies, the name-mismatch error, tick timeout, a peer killed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { atom, Pid, Reference, Tuple, tuple, type Term } from '../../src/etf/types.js';
import { register } from '../../src/epmd/client.js';
import { Connection } from '../../src/dist/net/connection.js';
import type { Control } from '../../src/dist/protocol/control.js';
import { DistError, HandshakeError } from '../../src/dist/errors.js';
import { DEFAULT_FLAGS, DFLAG } from '../../src/dist/protocol/flags.js';
import { DistNetwork, type DistNetworkOptions } from '../../src/dist/net/network.js';
import { ErlNode, otpMatrix, startEpmd, sleep, stopProcess, withTimeout, type Epmd } from '../support/otp.js';

const COOKIE = 'beamnode_dist_cookie';

/** Polls `cond` every 100 ms, at most `ms`. */
async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (await cond()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function nextControl(conn: Connection, pred: (c: Control, m: Term | undefined) => boolean, ms = 10_000): Promise<[Control, Term | undefined]> {
  return withTimeout(
    new Promise((resolve) => {
      const on = (c: Control, m: Term | undefined) => {
        if (!pred(c, m)) return;
        conn.off('control', on);
        resolve([c, m]);
      };
      conn.on('control', on);
    }),
    ms,
    'control message',
  );
}

const closed = (conn: Connection, ms: number): Promise<Error | undefined> =>
  withTimeout(new Promise((resolve) => conn.once('close', resolve)), ms, 'connection close');

async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), `unexpected error: ${String(e)} ${(e as { code?: string }).code ?? ''}`);
    return e;
  }
  assert.fail('expected a rejection');
}

for (const otp of otpMatrix()) {
  describe(`dist handshake against ${otp.label}`, () => {
    let epmd: Epmd;
    let n = 0;
    const uniq = () => `${++n}`;
    const nets: DistNetwork[] = [];
    const erls: ErlNode[] = [];

    before(async () => {
      epmd = await startEpmd();
    });
    after(async () => {
      for (const net of nets) await net.close();
      for (const e of erls) {
        try {
          process.kill(e.pid, 'SIGCONT');
        } catch {
          /* already gone */
        }
        await e.stop();
      }
      await epmd.stop();
    });

    const erl = async (alive: string, o: { cookie?: string; args?: string[] } = {}): Promise<ErlNode> => {
      const node = await ErlNode.start(otp, {
        name: `${alive}@127.0.0.1`,
        cookie: o.cookie ?? COOKIE,
        epmdPort: epmd.port,
        args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}', ...(o.args ?? [])],
      });
      erls.push(node);
      return node;
    };
    const network = (alive: string, o: Partial<DistNetworkOptions> = {}): DistNetwork => {
      const net = new DistNetwork({ name: `${alive}@127.0.0.1`, cookie: COOKIE, epmdPort: epmd.port, setupTime: 5000, ...o });
      nets.push(net);
      return net;
    };

    test(`${otp.label}: we dial erl, it lists us as hidden, a rex gen_call gets its reply`, async () => {
      const id = uniq();
      const e = await erl(`a${id}`);
      const net = network(`js${id}`, { atomCache: false, fragments: false }); // the pass-through (112) path
      const conn = await net.connect(`a${id}@127.0.0.1`);
      assert.equal(conn.peer, `a${id}@127.0.0.1`);
      assert.equal(conn.hidden, true);
      assert.equal(conn.flags & DFLAG.PUBLISHED, 0n);
      assert.equal(conn.flags & DFLAG.DIST_HDR_ATOM_CACHE, 0n);
      assert.equal(await e.evalText('nodes(hidden)'), `['js${id}@127.0.0.1']`);
      assert.equal(await e.evalText('nodes()'), '[]');

      const self = new Pid(atom(net.name), 1, 0, net.creation);
      const ref = new Reference(atom(net.name), net.creation, [7, 8, 9]);
      const reply = nextControl(conn, (c) => c.op === 'send_sender' || c.op === 'send');
      const request = tuple(atom('$gen_call'), tuple(self, ref), tuple(atom('call'), atom('lists'), atom('reverse'), [[1, 2, 3]], atom('user')));
      assert.equal(conn.send({ op: 'reg_send', from: self, toName: atom('rex') }, request), true);
      const [c, m] = await reply;
      assert.equal(c.op, 'send_sender');
      assert.ok(c.op === 'send_sender' && c.to.equals(self));
      assert.ok(m instanceof Tuple);
      assert.ok((m.at(0) as Reference).equals(ref));
      assert.deepEqual(m.at(1), [3, 2, 1]);
    });

    test(`${otp.label}: a 1 MiB message goes each way in single frames (no FRAGMENTS negotiated)`, async () => {
      const id = uniq();
      await erl(`g${id}`);
      const net = network(`jg${id}`, { atomCache: false, fragments: false }); // the pass-through (112) path
      const conn = await net.connect(`g${id}@127.0.0.1`);
      assert.equal(conn.flags & DFLAG.FRAGMENTS, 0n);
      const self = new Pid(atom(net.name), 2, 0, net.creation);
      const call = async (m: string, f: string, args: Term[]): Promise<Term> => {
        const ref = new Reference(atom(net.name), net.creation, [1, 2, Math.floor(Math.random() * 1e9)]);
        const reply = nextControl(conn, (_c, msg) => msg instanceof Tuple && msg.at(0) instanceof Reference && (msg.at(0) as Reference).equals(ref));
        conn.send({ op: 'reg_send', from: self, toName: atom('rex') }, tuple(atom('$gen_call'), tuple(self, ref), tuple(atom('call'), atom(m), atom(f), args, atom('user'))));
        return ((await reply)[1] as Tuple).at(1);
      };
      assert.equal(await call('erlang', 'byte_size', [Buffer.alloc(1 << 20, 0xab)]), 1 << 20);
      const big = await call('binary', 'copy', [Buffer.of(7), 1 << 20]);
      assert.ok(Buffer.isBuffer(big) && big.length === 1 << 20 && big[12345] === 7);
    });

    test(`${otp.label}: as a visible node (published) we get the frames erl sends right after the handshake (EXP 9)`, async () => {
      const id = uniq();
      await erl(`v${id}`);
      const net = network(`jv${id}`, { published: true });
      const names: string[] = [];
      net.on('control', (_conn, c) => {
        if (c.op === 'reg_send') names.push(c.toName.name);
      });
      const conn = await net.connect(`v${id}@127.0.0.1`);
      assert.equal(conn.hidden, false);
      await waitFor(() => names.includes('global_name_server'), 10_000, 'global init_connect');
    });

    test(`${otp.label}: ticks flow both ways with net_ticktime 4 and the connection stays up`, async () => {
      const id = uniq();
      const e = await erl(`t${id}`, { args: ['-kernel', 'net_ticktime', '4'] });
      // Our own tickTime stays 60 s: only our answers to erl's ticks keep erl from dropping us.
      const net = network(`jt${id}`);
      const conn = await net.connect(`t${id}@127.0.0.1`);
      let ticks = 0;
      conn.on('tick', () => ticks++);
      // erl ticks each second on a hidden connection; it drops a silent peer after ~5 s (EXP 15).
      await waitFor(() => ticks >= 7, 20_000, '7 ticks from erl');
      assert.equal(conn.closed, false);
      assert.doesNotMatch(e.logText(), /not responding/);
      assert.equal(await e.evalText('nodes(hidden)'), `['jt${id}@127.0.0.1']`);
    });

    test(`${otp.label}: erl dials our acceptor (connect_node), lists us, and net_adm:ping gets pong`, async () => {
      const id = uniq();
      const net = network(`jl${id}`);
      const port = await net.listen({ address: '127.0.0.1' });
      const reg = await register({ alive: `jl${id}`, port, hidden: true, epmdPort: epmd.port });
      try {
        net.setCreation(reg.creation);
        const up = withTimeout(new Promise<Connection>((r) => net.once('nodeup', (_n, c) => r(c))), 10_000, 'nodeup');
        // Answer {is_auth, _} to net_kernel as net_kernel does ({Tag, yes}), so ping says pong.
        net.on('control', (conn, c, m) => {
          if (c.op !== 'reg_send' || c.toName !== atom('net_kernel') || !(m instanceof Tuple) || m.at(0) !== atom('$gen_call')) return;
          const from = m.at(1) as Tuple;
          const me = new Pid(atom(net.name), 1, 0, net.creation);
          conn.send({ op: 'send_sender', from: me, to: from.at(0) as Pid }, tuple(from.at(1), atom('yes')));
        });
        const e = await erl(`b${id}`);
        assert.equal(await e.evalText(`net_kernel:connect_node('jl${id}@127.0.0.1')`), 'true');
        const conn = await up;
        assert.equal(conn.peer, `b${id}@127.0.0.1`);
        assert.equal(conn.initiator, false);
        assert.equal(conn.hidden, true);
        assert.equal(await e.evalText('nodes(hidden)'), `['jl${id}@127.0.0.1']`);
        assert.equal(await e.evalText(`net_adm:ping('jl${id}@127.0.0.1')`, 15_000), 'pong');
      } finally {
        await reg.close();
      }
    });

    test(`${otp.label}: erl and we dial each other at the same moment: one connection, both calls succeed`, async () => {
      // Whether the attempts overlap depends on timing; each round staggers them a little. When
      // they do, the greater name's attempt wins (nok / ok_simultaneous), as net_kernel decides.
      const id = uniq();
      for (const [ours, theirs] of [[`aa${id}`, `zz${id}`], [`zy${id}`, `ab${id}`]]) {
        const e = await erl(theirs);
        for (let round = 0; round < 4; round++) {
          const me = `${ours}r${round}`;
          const net = network(me);
          const port = await net.listen({ address: '127.0.0.1' });
          const reg = await register({ alive: me, port, hidden: true, epmdPort: epmd.port });
          try {
            await e.evalText(`Self = self(), spawn(fun() -> R = net_kernel:connect_node('${me}@127.0.0.1'), Self ! {r, R} end), ok`);
            await sleep(round);
            const conn = await net.connect(`${theirs}@127.0.0.1`);
            assert.equal(await e.evalText('receive {r, R} -> R after 15000 -> timeout end', 20_000), 'true');
            assert.equal(conn.closed, false);
            assert.equal(net.connections().size, 1);
            assert.equal(net.get(`${theirs}@127.0.0.1`), conn);
            assert.equal(await e.evalText('nodes(hidden)'), `['${me}@127.0.0.1']`);
          } finally {
            await reg.close();
            await net.close();
            await e.evalText(`erlang:disconnect_node('${me}@127.0.0.1')`);
          }
        }
      }
    });

    test(`${otp.label}: wrong cookie when we dial: BAD_COOKIE here, "Invalid challenge reply" in erl's log`, async () => {
      const id = uniq();
      const e = await erl(`c${id}`);
      const net = network(`jc${id}`, { cookie: 'not_the_cookie' });
      const err = (await rejects(net.connect(`c${id}@127.0.0.1`), (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_BAD_COOKIE')) as HandshakeError;
      assert.equal(err.step, 'recv_challenge_ack');
      assert.equal(err.peerInfo?.name, `c${id}@127.0.0.1`);
      assert.ok(!err.message.includes('not_the_cookie') && !err.message.includes(COOKIE));
      await waitFor(() => /Invalid challenge reply/.test(e.logText()), 10_000, "erl's log line");
      assert.match(e.logText(), new RegExp(`Connection attempt from node 'jc${id}@127.0.0.1' rejected`));
    });

    test(`${otp.label}: wrong cookie when erl dials us: our acceptor rejects the reply, erl gets false`, async () => {
      const id = uniq();
      const net = network(`jd${id}`, { cookie: 'not_the_cookie' });
      const port = await net.listen({ address: '127.0.0.1' });
      const reg = await register({ alive: `jd${id}`, port, hidden: true, epmdPort: epmd.port });
      try {
        const failed = withTimeout(new Promise<Error>((r) => net.once('handshakeFailed', (err) => r(err))), 15_000, 'handshakeFailed');
        const e = await erl(`d${id}`);
        assert.equal(await e.evalText(`net_kernel:connect_node('jd${id}@127.0.0.1')`, 15_000), 'false');
        const err = await failed;
        assert.ok(err instanceof HandshakeError);
        assert.equal(err.code, 'BEAM_ERR_HANDSHAKE_BAD_COOKIE');
        assert.equal(err.step, 'recv_challenge_reply');
        assert.equal(err.peer, `d${id}@127.0.0.1`);
        assert.equal(net.connections().size, 0);
      } finally {
        await reg.close();
      }
    });

    test(`${otp.label}: dialing an alias of the node's name gives NAME_MISMATCH with both names`, async () => {
      const id = uniq();
      await erl(`m${id}`);
      // alias.example.com resolves to 127.0.0.1; EPMD there knows m<id>; the node holds m<id>@127.0.0.1.
      const net = network(`jm${id}`, { lookup: async (h) => (h === 'alias.example.com' ? '127.0.0.1' : Promise.reject(new Error('ENOTFOUND'))) });
      const err = (await rejects(net.connect(`m${id}@alias.example.com`), (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_NAME_MISMATCH')) as HandshakeError;
      assert.equal(err.dialed, `m${id}@alias.example.com`);
      assert.equal(err.actual, `m${id}@127.0.0.1`);
      assert.equal(err.peerInfo?.name, `m${id}@127.0.0.1`);
      assert.ok((err.peerInfo?.flags ?? 0n) & DFLAG.PUBLISHED, 'erl advertises PUBLISHED');
      assert.ok((err.peerInfo?.creation ?? 0) > 0);
      // The exact name works on the same network.
      const conn = await net.connect(`m${id}@127.0.0.1`);
      assert.equal(conn.peer, `m${id}@127.0.0.1`);
    });

    test(`${otp.label}: a short-names node dialing a@localhost (resolved by the system) meets a@127.0.0.1: NAME_MISMATCH`, async () => {
      const id = uniq();
      await erl(`l${id}`);
      const net = new DistNetwork({ name: `jl${id}x@localhost`, cookie: COOKIE, epmdPort: epmd.port, setupTime: 5000 });
      nets.push(net);
      assert.equal(net.longNames, false);
      const err = (await rejects(net.connect(`l${id}@localhost`), (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_NAME_MISMATCH')) as HandshakeError;
      assert.equal(err.dialed, `l${id}@localhost`);
      assert.equal(err.actual, `l${id}@127.0.0.1`);
      // The same long name from this short-names node is refused before dialing, as erl refuses it.
      await rejects(net.connect(`l${id}@127.0.0.1`), (x) => x instanceof DistError && x.code === 'BEAM_ERR_DIST_ILLEGAL_HOST');
    });

    test(`${otp.label}: a second connection under our name while one is up: erl says alive, we answer true, it replaces the old one`, async () => {
      const id = uniq();
      const e = await erl(`r${id}`);
      const first = network(`jr${id}`);
      const old = await first.connect(`r${id}@127.0.0.1`);
      const oldClosed = closed(old, 15_000);
      const second = network(`jr${id}`); // the same name: as if we had restarted
      const fresh = await second.connect(`r${id}@127.0.0.1`);
      assert.equal(fresh.closed, false);
      const reason = await oldClosed;
      assert.ok(reason instanceof DistError && reason.code === 'BEAM_ERR_DIST_CLOSED');
      assert.equal(await e.evalText('nodes(hidden)'), `['jr${id}@127.0.0.1']`);
    });

    test(`${otp.label}: NAME_ME: erl gives a host-only initiator a name (status named:)`, async () => {
      const id = uniq();
      const e = await erl(`q${id}`);
      const { handshakeWeStarted } = await import('../../src/dist/net/handshake.js');
      const { connect } = await import('node:net');
      const { portPlease } = await import('../../src/epmd/client.js');
      const port = (await portPlease(`q${id}`, '127.0.0.1', { port: epmd.port })).port;
      const sock = connect(port, '127.0.0.1');
      await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
      try {
        const hs = await handshakeWeStarted(sock, { name: '127.0.0.1', cookie: COOKIE, creation: 0, flags: DEFAULT_FLAGS | DFLAG.NAME_ME }, `q${id}@127.0.0.1`, { setupTime: 5000 });
        assert.match(hs.ourName, /^[A-Z0-9]+@127\.0\.0\.1$/);
        assert.notEqual(hs.ourCreation, 0);
        const conn = new Connection(sock, hs);
        assert.equal(await e.evalText('nodes(hidden)'), `['${hs.ourName}']`);
        conn.close();
      } finally {
        sock.destroy();
      }
    });

    test(`${otp.label}: net_kernel:allow without us gives NOT_ALLOWED; missing MAP_TAG gives NOT_ALLOWED too`, async () => {
      const id = uniq();
      const e = await erl(`n${id}`);
      await e.evalText(`net_kernel:allow(['someone@127.0.0.1'])`);
      const net = network(`jn${id}`);
      await rejects(net.connect(`n${id}@127.0.0.1`), (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED' && x.step === 'recv_status');
      await waitFor(() => /disallowed node/.test(e.logText()), 10_000, "erl's disallowed log");

      const e2 = await erl(`f${id}`);
      const poor = network(`jf${id}`, { flags: DEFAULT_FLAGS & ~(DFLAG.MAP_TAG | DFLAG.MANDATORY_25_DIGEST) });
      await rejects(poor.connect(`f${id}@127.0.0.1`), (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
      await waitFor(() => /cannot handle/.test(e2.logText()), 10_000, "erl's cannot-handle log");
      assert.match(e2.logText(), /MAP_TAG/);
    });

    test(`${otp.label}: without UNLINK_ID and V4_NC: accepted by OTP 25, not_allowed from OTP 26 on`, async () => {
      const id = uniq();
      const e = await erl(`u${id}`);
      const old = network(`ju${id}`, { flags: DEFAULT_FLAGS & ~(DFLAG.UNLINK_ID | DFLAG.V4_NC) });
      const attempt = old.connect(`u${id}@127.0.0.1`);
      if (Number(otp.release) >= 26) {
        await rejects(attempt, (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
        await waitFor(() => /cannot handle/.test(e.logText()), 10_000, "erl's cannot-handle log");
        assert.match(e.logText(), /UNLINK_ID/);
        assert.match(e.logText(), /V4_NC/);
      } else {
        const conn = await attempt;
        assert.equal(conn.flags & DFLAG.UNLINK_ID, 0n);
      }
    });

    test(`${otp.label}: a peer that stops answering (SIGSTOP) is dropped with TICK_TIMEOUT`, async () => {
      const id = uniq();
      const e = await erl(`s${id}`, { args: ['-kernel', 'net_ticktime', '4'] });
      const net = network(`js${id}x`, { tickTime: 4000 });
      const conn = await net.connect(`s${id}@127.0.0.1`);
      const down = withTimeout(new Promise<[string, Error | undefined]>((r) => net.once('nodedown', (name, reason) => r([name, reason]))), 20_000, 'nodedown');
      await stopProcess(e.pid);
      try {
        const reason = await closed(conn, 20_000);
        assert.ok(reason instanceof DistError);
        assert.equal(reason.code, 'BEAM_ERR_DIST_TICK_TIMEOUT');
        const [name] = await down;
        assert.equal(name, `s${id}@127.0.0.1`);
        assert.equal(net.get(name), undefined);
      } finally {
        process.kill(e.pid, 'SIGCONT');
      }
    });

    test(`${otp.label}: the peer killed mid-connection: 'close' with BEAM_ERR_DIST_CLOSED`, async () => {
      const id = uniq();
      const e = await erl(`k${id}`);
      const net = network(`jk${id}`);
      const conn = await net.connect(`k${id}@127.0.0.1`);
      const reason = closed(conn, 10_000);
      process.kill(e.pid, 'SIGKILL');
      const r = await reason;
      assert.ok(r instanceof DistError);
      assert.equal(r.code, 'BEAM_ERR_DIST_CLOSED');
    });

    test(`${otp.label}: the peer killed mid-handshake: CLOSED at recv_status`, async () => {
      const id = uniq();
      const e = await erl(`h${id}`);
      await stopProcess(e.pid); // it still accepts TCP (the kernel's backlog) but answers nothing
      const net = network(`jh${id}`, { setupTime: 10_000 });
      const port = Number(await portOf(epmd, `h${id}`));
      const attempt = net.connect(`h${id}@127.0.0.1`, { port });
      attempt.catch(() => {});
      // Mid-handshake: our send_name sits unread in the accepted (not yet accept()ed) socket.
      await waitFor(() => unreadBytesOnPort(port) > 0, 10_000, 'send_name queued at the stopped erl');
      process.kill(e.pid, 'SIGKILL');
      await rejects(attempt, (x) => x instanceof HandshakeError && x.code === 'BEAM_ERR_HANDSHAKE_CLOSED' && x.step === 'recv_status');
    });
  });
}

/** Bytes received and not yet read by the connections whose local port is `port` (Linux /proc/net/tcp). */
function unreadBytesOnPort(port: number): number {
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/); // sl local rem st tx_queue:rx_queue …
    if (f.length < 5 || f[3] !== '01' || parseInt(f[1].split(':')[1], 16) !== port) continue;
    n += parseInt(f[4].split(':')[1], 16);
  }
  return n;
}

/** The distribution port of `alive` from the test's epmd (asked before the node is stopped). */
async function portOf(epmd: Epmd, alive: string): Promise<number> {
  const { portPlease } = await import('../../src/epmd/client.js');
  return (await portPlease(alive, '127.0.0.1', { port: epmd.port })).port;
}

