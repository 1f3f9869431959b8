// Load: small messages each way at once between our Node and a real erl (host OTP), with
// sequence numbers checked on both sides (none lost, none reordered) and heapUsed sampled along
// the run (flat: a generous bound, no timing). erl→JS is windowed by acks (a flow control the
// application does, as a real sender to a bounded mailbox would); JS→erl awaits each send
// (back-pressure: send() resolves after 'drain' when the socket is full).
// Default 1 000 000 each way; BEAMNODE_LOAD_MESSAGES=N to change it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../src/dist/node/node.js';
import { Tuple, atom, type Term } from '../../src/etf/types.js';
import { ErlNode, hostOtp, startEpmd, writeErlFiles, type Epmd } from '../support/otp.js';
import { gc } from '../fuzz/harness.js';

const otp = hostOtp();
const N = Number(process.env.BEAMNODE_LOAD_MESSAGES ?? 1_000_000);
const ACK_EVERY = 10_000;
const WINDOW = 50_000;
const MiB = 1024 * 1024;

const LOAD_MODULE = String.raw`
-module(beamnode_load).
-export([recv/2, send/4]).

%% Takes N messages {seq, I}, I = 0.. in order; reports {recv_done, Count, ok | {out_of_order, Expected, Got}}.
recv(N, Report) ->
    register(load_sink, self()),
    Report ! sink_ready,
    recv_loop(0, N, Report).
recv_loop(N, N, Report) -> Report ! {recv_done, N, ok};
recv_loop(I, N, Report) ->
    receive
        {seq, I} -> recv_loop(I + 1, N, Report);
        {seq, J} -> Report ! {recv_done, I, {out_of_order, I, J}}
    after 60000 -> Report ! {recv_done, I, stalled}
    end.

%% Sends {seq, I} for I = 0..N-1 to Dest, at most Window ahead of the last {ack, Count}.
send(Dest, N, Window, Report) ->
    register(load_source, self()),
    send_loop(Dest, 0, N, 0, Window, Report).
send_loop(_Dest, N, N, _Acked, _W, Report) -> Report ! {send_done, N};
send_loop(Dest, I, N, Acked, W, Report) when I - Acked >= W ->
    receive {ack, A} -> send_loop(Dest, I, N, A, W, Report)
    after 60000 -> Report ! {send_done, {stalled, I, Acked}}
    end;
send_loop(Dest, I, N, Acked, W, Report) ->
    Dest ! {seq, I},
    send_loop(Dest, I + 1, N, Acked, W, Report).
`;

let epmd: Epmd;
let erl: ErlNode;
let node: Node;
before(async () => {
  epmd = await startEpmd();
  erl = await ErlNode.start(otp, { name: 'erlload@127.0.0.1', cookie: 'load_cookie', epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
  const dir = writeErlFiles(otp, { 'beamnode_load.erl': LOAD_MODULE });
  try {
    const r = await erl.evalText(`{ok, LoadMod__, LoadBin__} = compile:file("${dir.erlPath}/beamnode_load.erl", [binary, report]), code:load_binary(LoadMod__, "beamnode_load.erl", LoadBin__)`);
    assert.match(r, /module,beamnode_load/);
  } finally {
    dir.remove();
  }
  node = await Node.start({ name: 'jsload@127.0.0.1', cookie: 'load_cookie', epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
});
after(async () => {
  await node?.stop();
  await erl?.stop();
  await epmd?.stop();
});

const SEQ = atom('seq');
const ACK = atom('ack');

test(`${otp.label}: ${N} small messages each way at once, none lost or reordered, memory flat`, async () => {
  const erlName = 'erlload@127.0.0.1';
  assert.equal(await node.rpc(erlName, 'erlang', 'node', []), atom(erlName));
  const sink = node.spawn({ mailboxLimit: WINDOW * 2 });
  sink.register('js_sink');
  const sender = node.spawn();
  // Start erl's sink and source; the eval process collects their reports.
  assert.equal(
    await erl.evalText(
      `LoadSelf__ = self(), spawn(fun() -> beamnode_load:recv(${N}, LoadSelf__) end), receive sink_ready -> ok after 10000 -> error(no_sink) end, ` +
        `spawn(fun() -> beamnode_load:send({js_sink, '${node.name}'}, ${N}, ${WINDOW}, LoadSelf__) end), ok`,
    ),
    'ok',
  );
  gc();
  const base = process.memoryUsage().heapUsed;
  const samples: number[] = [];
  const sample = () => samples.push(process.memoryUsage().heapUsed - base);

  const receiving = (async () => {
    for (let expected = 0; expected < N; expected++) {
      const m: Term = await sink.receive({ timeout: 60_000 });
      if (!(m instanceof Tuple) || m.elements[0] !== SEQ || m.elements[1] !== expected) {
        throw new assert.AssertionError({ message: `JS side: message ${expected} is ${String(m)}` });
      }
      if ((expected + 1) % ACK_EVERY === 0) void sender.send(['load_source', erlName], new Tuple([ACK, expected + 1]));
      if (expected % 50_000 === 0) sample();
    }
  })();
  const sending = (async () => {
    for (let i = 0; i < N; i++) {
      await sender.send(['load_sink', erlName], new Tuple([SEQ, i]));
      // Let I/O in now and then: resolved sends never yield to the event loop by themselves.
      if ((i & 4095) === 4095) await new Promise((r) => setImmediate(r));
      if (i % 50_000 === 0) sample();
    }
  })();
  await Promise.all([receiving, sending]);
  // Both erl processes report (fresh variable names: the eval loop keeps bindings between calls): everything arrived in order over there, and the source finished.
  const reports = await erl.evalText(
    `LoadR1__ = receive {recv_done, _, _} = LoadA__ -> LoadA__ after 120000 -> recv_timeout end, LoadR2__ = receive {send_done, _} = LoadB__ -> LoadB__ after 120000 -> send_timeout end, {LoadR1__, LoadR2__}`,
    300_000,
  );
  assert.equal(reports, `{{recv_done,${N},ok},{send_done,${N}}}`);
  gc();
  const end = process.memoryUsage().heapUsed - base;
  const peak = Math.max(...samples);
  console.log(`# load: ${N} each way; heapUsed growth peak ${(peak / MiB).toFixed(1)} MiB over ${samples.length} samples, after GC ${(end / MiB).toFixed(1)} MiB`);
  assert.ok(peak < 128 * MiB, `heapUsed grew up to ${peak} bytes during the run`);
  assert.ok(end < 16 * MiB, `heapUsed kept ${end} bytes after the run`);
  sink.close();
  sender.close();
});
