// Memory amplification by an authenticated peer: a term costs up to ~40× its ETF bytes in JS (a
// list of nils, a tuple of empty tuples). A 32 MiB frame of nils would need ~1.3 GiB of heap; the
// default per-frame maxTerms (DEFAULT_MAX_FRAME_TERMS) closes that connection with a LimitError
// first, memory stays bounded, and the node keeps serving. A message of a big binary (one term)
// still passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/dist/errors.js';
import { DistNetwork, DEFAULT_MAX_FRAME_TERMS } from '../../src/dist/net/network.js';
import { Node } from '../../src/dist/node/node.js';
import { LimitError } from '../../src/etf/index.js';
import { Pid, atom } from '../../src/etf/types.js';
import { Writer, encodeInto } from '../../src/etf/index.js';
import { controlToTuple } from '../../src/dist/protocol/control.js';
import { memoryCost, MiB } from '../fuzz/harness.js';

/** One pass-through frame `len, 112, 131 control, 131 <body>` with a hand-made message body. */
function frameWithBody(to: Pid, body: Buffer): Buffer {
  const w = new Writer(256);
  const lenAt = w.reserve(4);
  w.u8(112);
  encodeInto(w, controlToTuple({ op: 'send', to }));
  w.u8(131);
  const head = w.take();
  const frame = Buffer.concat([head, body]);
  frame.writeUInt32BE(frame.length - 4, lenAt);
  return frame;
}

test('a frame of 32 Mi nils from an authenticated peer closes its connection with LimitError maxTerms; memory bounded; big binaries pass', async () => {
  const node = await Node.start({ name: 'jsamp@127.0.0.1', cookie: 'amp_cookie', epmd: { skip: true }, listen: { address: '127.0.0.1' } });
  const peer = new DistNetwork({ name: 'attacker@127.0.0.1', cookie: 'amp_cookie', maxFrame: 256 * MiB });
  try {
    const sink = node.spawn();
    const conn = await peer.connect(node.name, { address: '127.0.0.1', port: node.port });
    // A 64 MiB binary is one term: it arrives.
    const big = Buffer.alloc(64 * MiB, 1);
    conn.send({ op: 'send', to: sink.pid }, big);
    const got = await sink.receive({ timeout: 30_000 });
    assert.ok(Buffer.isBuffer(got) && got.length === big.length);
    // 32 Mi nils: LIST_EXT n, then n × NIL_EXT, then the tail.
    const n = 32 * 1024 * 1024;
    const body = Buffer.alloc(5 + n + 1, 0x6a);
    body[0] = 0x6c;
    body.writeUInt32BE(n, 1);
    const frame = frameWithBody(sink.pid, body);
    const down = new Promise<[string, Error | undefined]>((r) => node.once('nodedown', (_n, reason, why) => r([reason, why])));
    const peerDown = new Promise<void>((r) => peer.once('nodedown', () => r()));
    let why: Error | undefined;
    let reason = '';
    const cost = await memoryCost(async () => {
      conn.sendRaw(frame);
      [reason, why] = await down;
    });
    assert.equal(reason, 'protocol_error');
    assert.ok(why instanceof ProtocolError, String(why));
    assert.ok(why.cause instanceof LimitError && why.cause.limit === 'maxTerms' && why.cause.max === DEFAULT_MAX_FRAME_TERMS, String(why.cause));
    console.log(`# amplification: 32 MiB frame of nils refused; peak RSS +${(cost.peakGrowth / MiB).toFixed(0)} MiB`);
    assert.ok(cost.peakGrowth < 768 * MiB, `peak RSS grew ${cost.peakGrowth} bytes`);
    // The node still serves: a new connection from the same peer works.
    await peerDown;
    const again = await peer.connect(node.name, { address: '127.0.0.1', port: node.port });
    again.send({ op: 'send', to: sink.pid }, atom('still_here'));
    assert.equal(await sink.receive({ timeout: 10_000 }), atom('still_here'));
  } finally {
    await peer.close();
    await node.stop();
  }
});
