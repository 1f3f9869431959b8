// Fragments: splitting our big frames, reassembling the peer's, interleaving, limits, cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, Writer } from '../../src/etf/index.js';
import { atom, Pid, tuple, type Term } from '../../src/etf/types.js';
import { distHeaderCodec } from '../../src/dist/protocol/dist-header.js';
import { ProtocolError } from '../../src/dist/errors.js';
import type { Socket } from 'node:net';
import { loopbackPair } from '../support/loopback.js';
import { DEFAULT_FRAGMENT_SIZE, FragmentAssembler, fragmentCount, fragmentFrame } from '../../src/dist/protocol/fragments.js';
import { FrameSender } from '../../src/dist/net/frame-sender.js';
import { FrameReader, TICK_FRAME } from '../../src/dist/protocol/framing.js';

const from = new Pid(atom('js@127.0.0.1'), 1, 0, 1);
const to = new Pid(atom('n1@127.0.0.1'), 2, 0, 3);
const control = tuple(22, from, to);

/** Encodes one frame with `codec` and returns [frame, its fragments or undefined]. */
function encodeFrame(codec: ReturnType<typeof distHeaderCodec>, message: Term): { frame: Buffer; parts: [Buffer, Buffer][] | undefined } {
  const w = new Writer();
  codec.encodeFrame(w, control, message);
  const frame = w.take();
  const split = codec.splitFrame(frame);
  return { frame, parts: split ? [...split] : undefined };
}

/** The frame bodies (after the 4-byte length) of fragment pairs. */
const bodies = (parts: [Buffer, Buffer][]): Buffer[] => parts.map(([h, p]) => Buffer.concat([h, p]).subarray(4));

test('a 150 000-byte message makes 3 fragments with ids 3, 2, 1 (as OTP 25 sends)', () => {
  const codec = distHeaderCodec({ fragments: true });
  const msg = Buffer.alloc(150_000, 7);
  const { frame, parts } = encodeFrame(codec, msg);
  assert.ok(parts);
  assert.equal(parts.length, 3);
  assert.equal(fragmentCount(150_005), 3);
  const ids = parts.map(([h]) => h.readBigUInt64BE(14));
  assert.deepEqual(ids, [3n, 2n, 1n]);
  assert.deepEqual(parts.map(([h]) => h[5]), [69, 70, 70]);
  const seqs = new Set(parts.map(([h]) => h.readBigUInt64BE(6)));
  assert.equal(seqs.size, 1);
  for (const [h, p] of parts) assert.equal(h.readUInt32BE(0), 18 + p.length, 'length prefix counts head + payload');
  // Together the payloads are the 131,68 frame's body after its first two bytes.
  assert.deepEqual(Buffer.concat(parts.map(([, p]) => p)), frame.subarray(6));
  const rx = distHeaderCodec();
  const got = bodies(parts).map((b) => rx.decodeFrame(b));
  assert.deepEqual(got.slice(0, 2), [undefined, undefined]);
  assert.deepEqual(got[2]?.message, msg);
  assert.deepEqual(encode(got[2]!.control), encode(control));
});

test('small frames are not split; without FRAGMENTS nothing is split', () => {
  const codec = distHeaderCodec({ fragments: true });
  assert.equal(encodeFrame(codec, Buffer.alloc(DEFAULT_FRAGMENT_SIZE - 100)).parts, undefined);
  const none = distHeaderCodec({ fragments: false });
  assert.equal(encodeFrame(none, Buffer.alloc(1_000_000)).parts, undefined);
});

test('two sequences and whole messages interleaved reassemble independently', () => {
  const tx = distHeaderCodec({ fragments: true, fragmentSize: 1000 });
  const rx = distHeaderCodec({ fragments: true });
  const a = encodeFrame(tx, tuple(atom('a'), Buffer.alloc(5000, 1))).parts!;
  const b = encodeFrame(tx, tuple(atom('b'), Buffer.alloc(3500, 2))).parts!;
  const small = encodeFrame(tx, atom('small')).frame.subarray(4);
  assert.equal(a.length, 6);
  assert.equal(b.length, 4);
  const order = [...bodies(a).map((f) => ['a', f] as const), ...bodies(b).map((f) => ['b', f] as const)];
  // a0 b0 small a1 b1 small …: what a connection writing fragments between other frames does.
  const mixed: (readonly [string, Buffer])[] = [];
  for (let i = 0; i < 6; i++) {
    mixed.push(order[i]);
    if (i < 4) mixed.push(order[6 + i]);
    mixed.push(['s', small]);
  }
  const done: Term[] = [];
  for (const [, f] of mixed) {
    const body = rx.decodeFrame(f);
    if (body) done.push(body.message as Term);
  }
  assert.deepEqual(done.filter((t) => t !== atom('small')), [tuple(atom('b'), Buffer.alloc(3500, 2)), tuple(atom('a'), Buffer.alloc(5000, 1))]);
  assert.equal(done.filter((t) => t === atom('small')).length, 6);
  assert.equal(rx.assembler.pendingBytes, 0);
});

test('out-of-order, duplicate and unknown fragments are ProtocolErrors', () => {
  const tx = distHeaderCodec({ fragments: true, fragmentSize: 1000 });
  const parts = bodies(encodeFrame(tx, Buffer.alloc(5000)).parts!);
  const isFragErr = (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_FRAGMENT';
  let rx = distHeaderCodec();
  rx.decodeFrame(parts[0]);
  assert.throws(() => rx.decodeFrame(parts[2]), isFragErr, 'skipped fragment');
  rx = distHeaderCodec();
  rx.decodeFrame(parts[0]);
  assert.throws(() => rx.decodeFrame(parts[0]), isFragErr, 'sequence started twice');
  rx = distHeaderCodec();
  assert.throws(() => rx.decodeFrame(parts[1]), isFragErr, 'continuation of an unknown sequence');
});

test('limits: total bytes and open sequences', () => {
  const isLimit = (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_FRAGMENT_LIMIT';
  const asm = new FragmentAssembler({ maxBytes: 10_000, maxSequences: 2 });
  asm.start(1n, 3n, [], Buffer.alloc(4000));
  asm.continue(1n, 2n, Buffer.alloc(4000));
  assert.throws(() => asm.continue(1n, 1n, Buffer.alloc(4000)), isLimit);
  asm.clear();
  asm.start(1n, 2n, [], Buffer.alloc(10));
  asm.start(2n, 2n, [], Buffer.alloc(10));
  assert.throws(() => asm.start(3n, 2n, [], Buffer.alloc(10)), isLimit);
  // A single-fragment sequence is a whole message and holds nothing.
  assert.deepEqual(asm.start(4n, 1n, [], Buffer.from([1]))?.body, Buffer.from([1]));
  asm.clear();
  assert.equal(asm.pendingBytes, 0);
  assert.equal(asm.pendingSequences, 0);
});

test('an abandoned sequence is dropped after the timeout; its late fragments are skipped', () => {
  let now = 0;
  const asm = new FragmentAssembler({ timeout: 1000 }, () => now);
  try {
    asm.start(7n, 3n, [], Buffer.alloc(100));
    asm.start(8n, 2n, [], Buffer.alloc(50));
    now = 600;
    asm.continue(8n, 1n, Buffer.alloc(50)); // completes; 7 is idle
    now = 1001;
    assert.equal(asm.sweep(), 1);
    assert.equal(asm.pendingBytes, 0);
    assert.equal(asm.timedOut, 1);
    assert.equal(asm.continue(7n, 2n, Buffer.alloc(10)), undefined, 'late fragment skipped');
    assert.equal(asm.continue(7n, 1n, Buffer.alloc(10)), undefined, 'last late fragment skipped');
    assert.throws(() => asm.continue(7n, 1n, Buffer.alloc(10)), /unknown sequence/, 'forgotten after its last fragment');
  } finally {
    asm.clear();
  }
});

test('the sweep timer runs by itself while sequences are open', async () => {
  const asm = new FragmentAssembler({ timeout: 20 });
  try {
    asm.start(1n, 2n, [], Buffer.alloc(10));
    for (let i = 0; i < 100 && asm.pendingSequences > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(asm.pendingSequences, 0);
    assert.equal(asm.timedOut, 1);
  } finally {
    asm.clear();
  }
});

test('codec.close() frees open sequences', () => {
  const tx = distHeaderCodec({ fragments: true, fragmentSize: 1000 });
  const parts = bodies(encodeFrame(tx, Buffer.alloc(5000)).parts!);
  const rx = distHeaderCodec();
  rx.decodeFrame(parts[0]);
  rx.decodeFrame(parts[1]);
  assert.ok(rx.assembler.pendingBytes > 1000);
  rx.close();
  assert.equal(rx.assembler.pendingBytes, 0);
});

test('fragmentFrame refuses frames that are not 131,68 and bad offsets', () => {
  assert.throws(() => [...fragmentFrame(Buffer.from([0, 0, 0, 3, 112, 131, 0]), 6, 1n)], ProtocolError);
  assert.throws(() => [...fragmentFrame(Buffer.from([0, 0, 0, 3, 131, 68, 0]), 99, 1n)], RangeError);
});

test('the first fragment keeps the atom cache header and the whole control term', () => {
  const tx = distHeaderCodec({ fragments: true, fragmentSize: 256 });
  const bigControl = tuple(22, from, to);
  const w = new Writer();
  tx.encodeFrame(w, bigControl, Buffer.alloc(2000));
  const parts = [...tx.splitFrame(w.take())!];
  const first = Buffer.concat(parts[0]).subarray(4);
  // header (18) + refs + control + 256 bytes of message, nothing more
  assert.ok(first.length > 18 + 256);
  const rx = distHeaderCodec();
  let body;
  for (const b of bodies(parts)) body = rx.decodeFrame(b);
  assert.deepEqual(body?.message, Buffer.alloc(2000));
});

// ---- FrameSender over a real loopback socket ---------------------------------------------------

/** Collects frames on `s` until `count` have arrived (bounded by a timeout). */
function collect(s: Socket, count: number, ms = 20_000): Promise<Buffer[]> {
  const r = new FrameReader(4);
  const out: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${out.length} of ${count} frames`)), ms);
    s.on('data', (c) =>
      r.push(c, (f) => {
        out.push(Buffer.from(f));
        if (out.length === count) {
          clearTimeout(t);
          resolve(out);
        }
      }),
    );
  });
}

const frameOf = (body: Buffer): Buffer => {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
};

test('FrameSender: ticks pass a fragmented message, other frames wait behind it, order kept', async () => {
  const { a, b, close } = await loopbackPair();
  try {
    const tx = distHeaderCodec({ fragments: true, fragmentSize: 4096 });
    const w = new Writer();
    tx.encodeFrame(w, control, Buffer.alloc(1_000_000, 9));
    const frame = w.take();
    const parts = [...tx.splitFrame(frame)!];
    const sender = new FrameSender(a, { turnBudget: 16 * 1024 });
    const got = collect(b, parts.length + 1 + 20);
    sender.frame(frameOf(Buffer.from('before')));
    sender.fragments(parts, frame.length);
    // While the fragments go out: ticks every turn and one ordinary frame.
    sender.frame(frameOf(Buffer.from('after')));
    for (let i = 0; i < 19; i++) {
      await new Promise((r) => setImmediate(r));
      sender.frame(TICK_FRAME, true);
    }
    const frames = await got;
    assert.equal(frames[0].toString(), 'before');
    const kinds = frames.map((f) => (f.length === 0 ? 'tick' : f[0] === 131 ? `frag${f[1]}` : f.toString()));
    assert.equal(kinds.indexOf('frag69'), 1);
    assert.equal(kinds.at(-1), 'after', 'the ordinary frame waits for the whole fragmented message');
    const lastFrag = kinds.lastIndexOf('frag70');
    const ticksAmongFragments = kinds.slice(1, lastFrag).filter((k) => k === 'tick').length;
    assert.ok(ticksAmongFragments >= 5, `ticks between fragments: ${ticksAmongFragments} (${kinds.length} frames)`);
    const rx = distHeaderCodec();
    let body;
    for (const f of frames) if (f[0] === 131) body = rx.decodeFrame(f) ?? body;
    assert.deepEqual(body?.message, Buffer.alloc(1_000_000, 9));
  } finally {
    await close();
  }
});

test('FrameSender: small frames of one turn are written together; back-pressure blocks then drains', async () => {
  const { a, b, close } = await loopbackPair();
  try {
    let drained = 0;
    const sender = new FrameSender(a, { onDrain: () => drained++, socketLimit: 1024 * 1024 });
    b.pause();
    const big = frameOf(Buffer.alloc(8 * 1024 * 1024));
    sender.frame(big);
    for (let i = 0; i < 100; i++) sender.frame(frameOf(Buffer.from([i])));
    for (let i = 0; i < 100 && !sender.isBlocked; i++) await new Promise((r) => setImmediate(r));
    assert.equal(sender.isBlocked, true, 'a paused reader blocks the writer');
    assert.equal(sender.accepting(), false);
    assert.ok(sender.bufferedBytes >= 8 * 1024 * 1024);
    const got = collect(b, 101);
    b.resume();
    const frames = await got;
    assert.equal(frames[0].length, 8 * 1024 * 1024);
    assert.deepEqual(frames.slice(1).map((f) => f[0]), Array.from({ length: 100 }, (_, i) => i));
    for (let i = 0; i < 100 && drained === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(drained, 1);
    assert.equal(sender.isBlocked, false);
  } finally {
    await close();
  }
});
