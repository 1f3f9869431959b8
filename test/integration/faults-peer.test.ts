// Faults of a real erl peer (host OTP): killed in the middle of the handshake (both directions,
// through a loopback proxy that kills erl at the exact message) and in the middle of an rpc;
// stopped (SIGSTOP) until the tick timeout drops it, then resumed; a peer that sends garbage (only
// that connection closes); a peer that does not read (back-pressure, bounded memory, nothing lost).
// The peer killed mid-call (gen_server call, monitors, links, nodedown) is in node-failures.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { portPlease, register } from '../../src/epmd/client.js';
import { DistError, HandshakeError, ProtocolError } from '../../src/dist/errors.js';
import { DistNetwork } from '../../src/dist/net/network.js';
import { Node } from '../../src/dist/node/node.js';
import { RpcError, CallError } from '../../src/dist/runtime/errors.js';
import { BeamnodeError } from '../../src/errors.js';
import { Pid, Tuple, atom } from '../../src/etf/types.js';
import { ErlNode, hostOtp, sleep, startEpmd, stopProcess, withTimeout, type Epmd } from '../support/otp.js';

const otp = hostOtp();
const COOKIE = 'faults_cookie';
const ERL_ARGS = ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'];

/**
 * A TCP proxy in front of `target` that watches the handshake messages (2-byte framed) one side
 * dialer sends and calls `onMessage(tag)` before forwarding each; returning false drops the
 * rest. After the dialer's challenge_reply everything is passed on as is.
 */
async function handshakeProxy(target: () => number, watch: 'client', onMessage: (tag: number) => boolean): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = connect(target(), '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    const [watched, other] = [down, up];
    up.on('data', (d: Buffer) => down.write(d));
    let buf = Buffer.alloc(0);
    let handshake = true;
    watched.on('data', (d: Buffer) => {
      if (!handshake) return void other.write(d);
      buf = Buffer.concat([buf, d]);
      while (handshake && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const n = buf.readUInt16BE(0);
        const msg = buf.subarray(0, 2 + n);
        buf = buf.subarray(2 + n);
        if (!onMessage(msg[2])) {
          handshake = false;
          buf = Buffer.alloc(0);
          return;
        }
        other.write(msg);
        if (msg[2] === 0x72) {
          // challenge_reply is the dialer's last handshake message: 4-byte frames follow, pass them on.
          handshake = false;
          if (buf.length > 0) other.write(buf);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server, sockets };
}

describe(`faults with ${otp.label}`, () => {
  let epmd: Epmd;
  const erls: ErlNode[] = [];
  const startErl = async (alive: string, args: string[] = []) => {
    const e = await ErlNode.start(otp, { name: `${alive}@127.0.0.1`, cookie: COOKIE, epmdPort: epmd.port, args: [...ERL_ARGS, ...args] });
    erls.push(e);
    return e;
  };
  before(async () => {
    epmd = await startEpmd();
  });
  after(async () => {
    for (const e of erls) {
      try {
        process.kill(e.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      await e.stop();
    }
    await epmd.stop();
  });

  test(`${otp.label}: erl killed while our challenge_reply is on its way: connect rejects at recv_challenge_ack, the network keeps working`, async () => {
    const victim = await startErl('hsvictim');
    const victimPort = (await portPlease('hsvictim', '127.0.0.1', { port: epmd.port })).port;
    const proxy = await handshakeProxy(() => victimPort, 'client', (tag) => {
      if (tag !== 0x72) return true;
      process.kill(victim.pid, 'SIGKILL'); // erl dies before it sees our challenge_reply
      return false;
    });
    const net = new DistNetwork({ name: 'jshs@127.0.0.1', cookie: COOKIE, epmdPort: epmd.port, setupTime: 5000 });
    try {
      const failed = new Promise<Error>((r) => net.once('handshakeFailed', (e) => r(e)));
      await assert.rejects(net.connect('hsvictim@127.0.0.1', { address: '127.0.0.1', port: proxy.port }), (e: unknown) => {
        assert.ok(e instanceof HandshakeError, String(e));
        assert.equal(e.step, 'recv_challenge_ack');
        // A peer that closes instead of acking is what a cookie mismatch looks like too: OTP
        // closes silently in both cases, so the code says BAD_COOKIE or CLOSED, and the message says why.
        assert.ok(['BEAM_ERR_HANDSHAKE_BAD_COOKIE', 'BEAM_ERR_HANDSHAKE_CLOSED'].includes(e.code), e.code);
        assert.ok(e.peerInfo && e.peerInfo.name === 'hsvictim@127.0.0.1', 'what we learnt from the challenge is kept');
        return true;
      });
      assert.ok((await failed) instanceof HandshakeError);
      assert.equal(net.connections().size, 0);
      // The same network dials another node normally afterwards.
      await startErl('hsother');
      const conn = await net.connect('hsother@127.0.0.1');
      assert.equal(conn.peer, 'hsother@127.0.0.1');
    } finally {
      await net.close();
      for (const s of proxy.sockets) s.destroy();
      proxy.server.close();
    }
  });

  test(`${otp.label}: erl killed after its challenge_reply is read by the proxy (it dialed us): our acceptor reports CLOSED and keeps serving`, async () => {
    const net = new DistNetwork({ name: 'jsacc@127.0.0.1', cookie: COOKIE, epmdPort: epmd.port, setupTime: 5000 });
    const listenPort = await net.listen({ address: '127.0.0.1' });
    let victimPid = 0;
    const proxy = await handshakeProxy(() => listenPort, 'client', (tag) => {
      if (tag !== 0x72 || victimPid === 0) return true;
      process.kill(victimPid, 'SIGKILL');
      victimPid = 0;
      return false;
    });
    // EPMD hands out the proxy's port for us, so erl dials through it.
    const reg = await register({ alive: 'jsacc', port: proxy.port, epmdPort: epmd.port, hidden: true });
    try {
      const victim = await startErl('accvictim');
      victimPid = victim.pid;
      const failed = new Promise<Error>((r) => net.once('handshakeFailed', (e) => r(e)));
      const ping = victim.evalText(`net_adm:ping('jsacc@127.0.0.1')`);
      ping.catch(() => {}); // erl dies during it
      const e = await withTimeout(failed, 20_000, 'handshakeFailed');
      assert.ok(e instanceof HandshakeError, String(e));
      assert.equal(e.step, 'recv_challenge_reply');
      assert.equal(e.code, 'BEAM_ERR_HANDSHAKE_CLOSED');
      assert.equal(net.connections().size, 0);
      const other = await startErl('accother');
      assert.equal(await other.evalText(`net_kernel:connect_node('jsacc@127.0.0.1')`), 'true'); // a bare DistNetwork does not answer ping's is_auth
      assert.ok(net.get('accother@127.0.0.1'));
    } finally {
      await reg.close();
      await net.close();
      for (const s of proxy.sockets) s.destroy();
      proxy.server.close();
    }
  });

  test(`${otp.label}: erl killed during an rpc: the rpc and a gen_server call reject noconnection, monitors get noconnection, nodedown fires`, async () => {
    const victim = await startErl('rpcvictim');
    const name = 'rpcvictim@127.0.0.1';
    const node = await Node.start({ name: 'jsrpc@127.0.0.1', cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
    try {
      const remote = await node.rpc(name, 'erlang', 'whereis', [atom('code_server')]);
      assert.ok(remote instanceof Pid);
      const mon = node.monitor(remote);
      const down = new Promise<[string, Error | undefined]>((r) => node.on('nodedown', (n, reason, why) => n === name && r([reason, why])));
      const pending = node.rpc(name, 'timer', 'sleep', [60_000], { timeout: 30_000 });
      pending.catch(() => {});
      const call = node.call({ name: 'code_server', node: name }, atom('never_answered'), { timeout: 30_000 });
      call.catch(() => {});
      // Wait until the rpc is inside timer:sleep over there (bounded), then kill the node.
      let sleeping = '0';
      for (let i = 0; i < 200 && sleeping === '0'; i++) {
        sleeping = await victim.evalText(`length([P || P <- processes(), process_info(P, current_function) =:= {current_function, {timer, sleep, 1}}])`);
        if (sleeping === '0') await sleep(25);
      }
      assert.notEqual(sleeping, '0', 'the rpc reached timer:sleep');
      process.kill(victim.pid, 'SIGKILL');
      await assert.rejects(pending, (e: unknown) => {
        assert.ok(e instanceof BeamnodeError, String(e));
        // rpc:call runs as a gen_server call to rex: it exits noconnection, as rpc's does.
        assert.ok(
          (e instanceof CallError && e.reason === atom('noconnection')) || (e instanceof RpcError && /noconnection|nodedown/.test(e.message)),
          `${e.constructor.name} ${e.code}: ${e.message}`,
        );
        return true;
      });
      await assert.rejects(call, (e: unknown) => e instanceof CallError && e.reason === atom('noconnection'));
      const d = await mon.down;
      assert.equal(d.reason, atom('noconnection'));
      const [reason, why] = await down;
      assert.equal(reason, 'connection_closed');
      // a killed peer's socket closes (FIN: no error behind it) or resets (a DistError)
      assert.ok(why === undefined || why instanceof DistError, String(why));
    } finally {
      await node.stop();
    }
  });

  test(`${otp.label}: a stopped peer (SIGSTOP) is dropped by the tick timeout (short tickTime), then reconnects after SIGCONT`, async () => {
    // net_ticktime is in seconds for erl: 2 s on both sides.
    const erl = await startErl('stopped', ['-kernel', 'net_ticktime', '2']);
    const name = 'stopped@127.0.0.1';
    const node = await Node.start({ name: 'jstick@127.0.0.1', cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' }, tickTime: 2000 });
    try {
      assert.equal(await node.rpc(name, 'erlang', 'node', []), atom(name));
      const down = new Promise<Error | undefined>((r) => node.on('nodedown', (n, _reason, why) => n === name && r(why)));
      // Only once every erl thread is stopped: an rpc sent while one still ran could be answered.
      await stopProcess(erl.pid);
      const pending = node.rpc(name, 'erlang', 'node', [], { timeout: 60_000 });
      pending.catch(() => {});
      const why = await withTimeout(down, 30_000, 'nodedown after SIGSTOP');
      assert.ok(why instanceof DistError && why.code === 'BEAM_ERR_DIST_TICK_TIMEOUT', `${why}`);
      await assert.rejects(pending, (e: unknown) => e instanceof BeamnodeError);
      assert.ok(!node.nodes().includes(name));
      process.kill(erl.pid, 'SIGCONT');
      // erl finds its side closed; a new connection works.
      let back: unknown;
      for (let i = 0; i < 20 && back === undefined; i++) {
        back = await node.rpc(name, 'erlang', 'node', [], { timeout: 5000 }).catch(() => undefined);
        if (back === undefined) await sleep(250);
      }
      assert.equal(back, atom(name));
    } finally {
      try {
        process.kill(erl.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      await node.stop();
    }
  });

  test(`${otp.label}: a peer that sends garbage loses only its own connection; the node keeps serving erl`, async () => {
    const erl = await startErl('steady');
    const name = 'steady@127.0.0.1';
    const node = await Node.start({ name: 'jsgarbage@127.0.0.1', cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
    const bad = new DistNetwork({ name: 'garbage@127.0.0.1', cookie: COOKIE, epmdPort: epmd.port });
    try {
      assert.equal(await node.rpc(name, 'erlang', 'node', []), atom(name));
      // 1. Garbage after a real handshake: a frame that is no pass-through frame, then a bad term.
      const conn = await bad.connect(node.name);
      const down = new Promise<Error | undefined>((r) => node.on('nodedown', (n, _reason, why) => n === 'garbage@127.0.0.1' && r(why)));
      conn.sendRaw(Buffer.from([0, 0, 0, 5, 112, 131, 104, 9, 97]));
      const why = await withTimeout(down, 10_000, 'nodedown of the garbage peer');
      assert.ok(why instanceof ProtocolError, String(why));
      // 2. Garbage instead of a handshake.
      const failed = new Promise<Error>((r) => node.once('handshakeFailed', (e) => r(e)));
      const raw = connect(node.port, '127.0.0.1');
      raw.on('error', () => {});
      raw.end(Buffer.from('\x00\x05hello garbage that is no send_name'));
      assert.ok((await withTimeout(failed, 10_000, 'handshakeFailed')) instanceof HandshakeError);
      raw.destroy();
      // The node still serves erl both ways.
      assert.equal(await node.rpc(name, 'erlang', 'node', []), atom(name));
      assert.equal(await erl.evalText(`net_adm:ping('${node.name}')`), 'pong');
      assert.deepEqual(node.nodes(), [name]);
    } finally {
      await bad.close();
      await node.stop();
    }
  });

  test(`${otp.label}: a peer that does not read: awaited sends stall under back-pressure, memory stays bounded, nothing is lost after SIGCONT`, async () => {
    const erl = await startErl('slowreader');
    const name = 'slowreader@127.0.0.1';
    // A counter over there: checks the sequence numbers and counts.
    await erl.evalText(
      `F__ = fun L(N, St) -> receive {seq, N, _Bin} -> L(N + 1, St); {seq, _, _} -> L(N + 1, out_of_order); {count, From} -> From ! {count, N, St}, L(N, St) end end, register(counter, spawn(fun() -> F__(0, ok) end)), ok`,
    );
    const node = await Node.start({ name: 'jsslow@127.0.0.1', cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
    try {
      assert.equal(await node.rpc(name, 'erlang', 'node', []), atom(name));
      const conn = await node.connection(atom(name));
      const sender = node.spawn();
      const payload = Buffer.alloc(256 * 1024, 7);
      await stopProcess(erl.pid);
      const heap0 = process.memoryUsage();
      let sent = 0;
      let stalled: Promise<void> | undefined;
      let maxBuffered = 0;
      // Bounded: 2000 × 256 KiB = 500 MiB would be sent without back-pressure.
      for (let i = 0; i < 2000 && !stalled; i++) {
        const p = sender.send(['counter', name], new Tuple([atom('seq'), i, payload]));
        sent++;
        maxBuffered = Math.max(maxBuffered, conn.bufferedBytes);
        const r = await Promise.race([p.then(() => 'sent' as const), sleep(2000).then(() => 'stalled' as const)]);
        if (r === 'stalled') stalled = p;
      }
      assert.ok(stalled, `back-pressure: an awaited send stalls once the peer stops reading (sent ${sent})`);
      const heap1 = process.memoryUsage();
      const grown = heap1.heapUsed + heap1.external - (heap0.heapUsed + heap0.external);
      assert.ok(conn.bufferedBytes > 0 && conn.bufferedBytes < 64 * 1024 * 1024, `bufferedBytes ${conn.bufferedBytes}`);
      assert.ok(grown < 96 * 1024 * 1024, `memory grew ${grown} bytes while the peer did not read`);
      console.log(`# slow reader: ${sent} messages of 256 KiB before the stall, bufferedBytes ${conn.bufferedBytes} (max ${maxBuffered}), memory +${(grown / 1048576).toFixed(1)} MiB`);
      process.kill(erl.pid, 'SIGCONT');
      await withTimeout(stalled, 30_000, 'the stalled send resolves after SIGCONT');
      // Every message arrived, in order.
      let count = '';
      for (let i = 0; i < 100; i++) {
        // Fresh variable names each time: the eval loop keeps bindings between calls.
        count = await erl.evalText(`counter ! {count, self()}, receive {count, N${i}__, S${i}__} -> {N${i}__, S${i}__} after 5000 -> timeout end`);
        if (count === `{${sent},ok}`) break;
        await sleep(100);
      }
      assert.equal(count, `{${sent},ok}`);
    } finally {
      try {
        process.kill(erl.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      await node.stop();
    }
  });
});
