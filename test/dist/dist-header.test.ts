// Distribution header (131,68/69/70) and the atom cache: OTP's bytes (captured from OTP
// 25, and the erl_ext_dist example), round trips through our sender and receiver caches, and every rejection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode, Writer } from '../../src/etf/index.js';
import { atom, Pid, Reference, tuple, type Atom, type Term } from '../../src/etf/types.js';
import {
  ATOM_CACHE_SIZE,
  AtomCacheOut,
  atomSlot,
  decodeDistHeader,
  distHeaderCodec,
  newAtomCacheSlots,
} from '../../src/dist/protocol/dist-header.js';
import { ProtocolError } from '../../src/dist/errors.js';
import { DFLAG, HOT_PATH_FLAGS, ourFlags } from '../../src/dist/protocol/flags.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
const txt = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** Encodes control+message with `out`, framed; returns the frame body (after the 4-byte length). */
function sendWith(out: AtomCacheOut, control: Term, message?: Term): Buffer {
  const w = new Writer(64);
  w.u8(131).u8(68);
  out.encode(w, control, message);
  return w.take();
}

test('OTP 25: two new refs, then the same two cached', () => {
  const cache = newAtomCacheSlots();
  const first = hex(`83 44 02 ef 00 97 0c ${txt('n1@127.0.0.1')} 47 0d ${txt('dh2@127.0.0.1')} 68 03 61 16 58 52 00`);
  const h1 = decodeDistHeader(first, 0, cache);
  assert.equal(h1.kind, 'normal');
  assert.deepEqual(h1.kind === 'normal' && h1.refs, [atom('n1@127.0.0.1'), atom('dh2@127.0.0.1')]);
  assert.equal(first[h1.end], 0x68, 'the control tuple follows the header');
  assert.equal(cache[7 * 256 + 0x97], atom('n1@127.0.0.1'));
  assert.equal(cache[6 * 256 + 0x47], atom('dh2@127.0.0.1'));
  const second = hex('83 44 02 67 00 97 47 68 03 61 16 58 52 00');
  const h2 = decodeDistHeader(second, 0, cache);
  assert.deepEqual(h2.kind === 'normal' && h2.refs, [atom('n1@127.0.0.1'), atom('dh2@127.0.0.1')]);
  assert.equal(h2.end, 7);
});

test('FRAGMENTS only: 131,68,0 has no flags and no refs', () => {
  const h = decodeDistHeader(hex('83 44 00 68 01 61 05'), 0, newAtomCacheSlots());
  assert.deepEqual(h, { kind: 'normal', refs: [], end: 3 });
});

// The example in erl_ext_dist.md "Distribution Header for fragmented messages" (fragment size 128):
// 5 refs (two cached node names, three new), control {6, Pid, Node, reg}, message
// {call, Pid, {set_get_state, <<0:1024>>}} split over a 69 and a 70 frame.
const DOC_START = Buffer.from([
  131, 69, 0, 0, 2, 168, 0, 0, 5, 83, 0, 0, 0, 0, 0, 0, 0, 2,
  5, 4, 137, 9, 10, 5, 236, 3, 114, 101, 103, 9, 4, 99, 97, 108, 108,
  238, 13, 115, 101, 116, 95, 103, 101, 116, 95, 115, 116, 97, 116, 101,
  104, 4, 97, 6, 103, 82, 0, 0, 0, 0, 85, 0, 0, 0, 0, 2, 82, 1, 82, 2,
  104, 3, 82, 3, 103, 82, 0, 0, 0, 0, 245, 0, 0, 0, 2, 2,
  104, 2, 82, 4, 109, 0, 0, 0, 128, ...new Array<number>(103).fill(0),
]);
const DOC_CONT = Buffer.from([131, 70, 0, 0, 2, 168, 0, 0, 5, 83, 0, 0, 0, 0, 0, 0, 0, 1, ...new Array<number>(25).fill(0)]);

test('erl_ext_dist example: start fragment header, cached + new refs, then the continuation', () => {
  const cache = newAtomCacheSlots();
  cache[4 * 256 + 10] = atom('a@host');
  cache[0 * 256 + 5] = atom('b@host');
  const h = decodeDistHeader(DOC_START, 0, cache);
  assert.equal(h.kind, 'start');
  if (h.kind !== 'start') return;
  assert.equal(h.sequenceId, 0x2a800000553n);
  assert.equal(h.fragmentId, 2n);
  assert.deepEqual(h.refs, [atom('a@host'), atom('b@host'), atom('reg'), atom('call'), atom('set_get_state')]);
  assert.equal(cache[1 * 256 + 236], atom('reg'));
  assert.equal(cache[0 * 256 + 9], atom('call'));
  assert.equal(cache[1 * 256 + 238], atom('set_get_state'));
  const c = decodeDistHeader(DOC_CONT, 0, cache);
  assert.deepEqual(c, { kind: 'continuation', sequenceId: 0x2a800000553n, fragmentId: 1n, end: 18 });
});

test('erl_ext_dist example through the codec: one message out of two fragments', () => {
  const codec = distHeaderCodec({ fragments: true });
  // Fill the receive cache's two node-name slots as earlier headers would have.
  codec.decodeFrame(Buffer.concat([hex('83 44 02 8c 00 0a 06'), Buffer.from('a@host'), hex('05 06'), Buffer.from('b@host'), hex('68 01 61 01')]));
  assert.equal(codec.decodeFrame(DOC_START), undefined);
  assert.equal(codec.assembler.pendingSequences, 1);
  const body = codec.decodeFrame(DOC_CONT);
  assert.ok(body);
  const pid = new Pid(atom('a@host'), 85, 0, 2);
  assert.deepEqual(body.control, tuple(6, pid, atom('b@host'), atom('reg')));
  assert.deepEqual(body.message, tuple(atom('call'), new Pid(atom('a@host'), 245, 2, 2), tuple(atom('set_get_state'), Buffer.alloc(128))));
  assert.equal(codec.assembler.pendingSequences, 0);
  assert.equal(codec.assembler.pendingBytes, 0);
});

/** The terms our encoder is good at, and a few it hands to the codec. */
function sample(i: number): { control: Term; message: Term } {
  const node = atom(`n${i % 3}@127.0.0.1`);
  const pid = new Pid(node, i, 0, 7);
  const ref = new Reference(node, 9, [i, 2, 3]);
  return {
    control: tuple(22, pid, new Pid(atom('js@127.0.0.1'), 5, 0, 1)),
    message: tuple(atom(`tag_${i}`), ref, true, false, [atom('in_a_list'), 1.5, 'text'], tuple(atom('ok'), 300, -1, 2n ** 70n), new Map([[atom('k'), atom('v')]])),
  };
}

test('round trip: our sender cache to our receiver cache, message after message', () => {
  const out = new AtomCacheOut();
  const inCache = newAtomCacheSlots();
  const codecIn = distHeaderCodec();
  for (let i = 0; i < 50; i++) {
    const { control, message } = sample(i);
    const w = new Writer();
    const lenAt = w.reserve(4);
    w.u8(131).u8(68);
    out.encode(w, control, message);
    w.patchU32(lenAt, w.length - 4);
    const frame = w.take().subarray(4);
    const body = codecIn.decodeFrame(frame);
    assert.ok(body);
    assert.deepEqual(encode(body.control), encode(control));
    assert.deepEqual(encode(body.message as Term), encode(message));
    decodeDistHeader(frame, 0, inCache);
  }
  // The second time round every ref is a cached one (no NewCacheEntryFlag set).
  const again = sendWith(out, sample(3).control, sample(3).message);
  const n = again[2];
  for (let i = 0; i < n; i++) assert.equal((again[3 + (i >> 1)] >> ((i & 1) * 4)) & 8, 0, `ref ${i} is cached`);
});

test('the cache wraps: 5000 distinct atoms, each message decodes to its own atoms', () => {
  const out = new AtomCacheOut();
  const codec = distHeaderCodec();
  const seen = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const a = atom(`wrap_${i}_${'x'.repeat(i % 40)}`);
    const b = atom(`wrap_${(i * 7919) % 5000}`);
    seen.add(atomSlot(a));
    const w = new Writer();
    const lenAt = w.reserve(4);
    w.u8(131).u8(68);
    out.encode(w, tuple(2, atom(''), a), tuple(a, b, a));
    w.patchU32(lenAt, w.length - 4);
    const body = codec.decodeFrame(w.take().subarray(4));
    assert.ok(body);
    assert.deepEqual(body.control, tuple(2, atom(''), a));
    assert.deepEqual(body.message, tuple(a, b, a));
  }
  assert.ok(seen.size > ATOM_CACHE_SIZE * 0.8, `slots used: ${seen.size}`);
});

test('long atoms (> 255 UTF-8 bytes) set the LongAtoms flag and 2-byte lengths', () => {
  const long = atom('ä'.repeat(200)); // 400 bytes, 200 characters
  const out = new AtomCacheOut();
  const frame = sendWith(out, tuple(2, atom(''), atom('short')), tuple(long));
  const n = frame[2];
  assert.equal(n, 3);
  assert.equal((frame[3 + (n >> 1)] >> ((n & 1) * 4)) & 1, 1, 'LongAtoms');
  const cache = newAtomCacheSlots();
  const h = decodeDistHeader(frame, 0, cache);
  assert.deepEqual(h.kind === 'normal' && h.refs, [atom(''), atom('short'), long]);
  const codec = distHeaderCodec();
  const body = codec.decodeFrame(frame);
  assert.deepEqual(body?.message, tuple(long));
});

test('an encode that throws leaves the sender cache as it was', () => {
  const out = new AtomCacheOut();
  const fresh = atom('rollback_me');
  assert.throws(() => sendWith(out, tuple(2, atom(''), fresh), tuple(fresh, Symbol('no') as unknown as Term)));
  const frame = sendWith(out, tuple(2, atom(''), fresh));
  const cache = newAtomCacheSlots();
  const h = decodeDistHeader(frame, 0, cache); // would throw "empty cache slot" if it had been kept as cached
  assert.deepEqual(h.kind === 'normal' && h.refs, [atom(''), fresh]);
});

test('two atoms of one message that hash to one slot: the second goes inline', () => {
  const first = atom('collide_0');
  let other: Atom | undefined;
  for (let i = 1; i < 100_000 && !other; i++) if (atomSlot(atom(`collide_${i}`)) === atomSlot(first)) other = atom(`collide_${i}`);
  assert.ok(other);
  const out = new AtomCacheOut();
  const frame = sendWith(out, tuple(2, first, other));
  assert.equal(frame[2], 1, 'one ref');
  const body = distHeaderCodec().decodeFrame(frame);
  assert.deepEqual(body?.control, tuple(2, first, other));
});

test('at most 255 refs per header; the rest are inline', () => {
  const atoms = Array.from({ length: 400 }, (_, i) => atom(`many_${i}`));
  const out = new AtomCacheOut({ messageScanBudget: 1000 });
  const frame = sendWith(out, tuple(2, atom(''), atom('x')), tuple(...atoms));
  assert.ok(frame[2] <= 255 && frame[2] > 200, `refs: ${frame[2]}`);
  const body = distHeaderCodec().decodeFrame(frame);
  assert.deepEqual(body?.message, tuple(...atoms));
});

test('property: any sequence of tuples of atoms/pids/refs survives sender → receiver', () => {
  const name = fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => atom(s));
  const leaf = fc.oneof(
    name,
    fc.integer({ min: -1000, max: 1000 }),
    name.map((n) => new Pid(n, 1, 2, 3)),
    name.map((n) => new Reference(n, 4, [5, 6])),
    fc.boolean(),
  );
  const term = fc.letrec<{ t: Term }>((tie) => ({
    t: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('t'), { maxLength: 5 }).map((e) => tuple(...e))),
  })).t;
  fc.assert(
    fc.property(fc.array(fc.tuple(term, fc.option(term, { nil: undefined })), { minLength: 1, maxLength: 20 }), (msgs) => {
      const out = new AtomCacheOut();
      const codec = distHeaderCodec();
      for (const [control, message] of msgs) {
        const body = codec.decodeFrame(sendWith(out, control, message));
        assert.ok(body);
        assert.deepEqual(encode(body.control), encode(control));
        if (message === undefined) assert.equal(body.message, undefined);
        else assert.deepEqual(encode(body.message as Term), encode(message));
      }
    }),
    { numRuns: 300 },
  );
});

test('rejections: every malformed header is a ProtocolError with BEAM_ERR_DIST_HEADER', () => {
  const bad = [
    hex('83'), // too short
    hex('82 44 00'), // not 131
    hex('83 50 00'), // compressed is no header
    hex('83 44 01'), // no flag bytes
    hex('83 44 01 00 05'), // cached ref to an empty slot
    hex('83 44 01 08 05'), // new ref without its length
    hex('83 44 01 08 05 09 61'), // atom text past the end
    hex('83 44 01 08 05 02 c3 28'), // not UTF-8
    hex('83 44 02 18 01 05 02'), // long atoms: 2-byte length cut short
    hex('83 45 00 00 00 00 00 00 00 01'), // fragment header cut short
    hex('83 45 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00'), // fragment id 0
    hex('83 44 01 18 05 10 00'), // long atom of 4096 bytes
  ];
  for (const b of bad) {
    assert.throws(
      () => decodeDistHeader(b, 0, newAtomCacheSlots()),
      (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_HEADER',
      b.toString('hex'),
    );
  }
});

test('a term with an ATOM_CACHE_REF beyond the header refs is rejected, not guessed', () => {
  const codec = distHeaderCodec();
  assert.throws(() => codec.decodeFrame(hex('83 44 00 68 02 61 02 52 00')), /ATOM_CACHE_REF 0/);
});

test('112 pass-through frames are still accepted', () => {
  const codec = distHeaderCodec();
  const body = codec.decodeFrame(Buffer.concat([Buffer.from([112]), encode(tuple(2, atom(''), new Pid(atom('a@b'), 1, 0, 1))), encode(atom('hi'))]));
  assert.deepEqual(body?.message, atom('hi'));
});

test('FRAGMENTS without DIST_HDR_ATOM_CACHE: headers with 0 refs, as OTP sends', () => {
  const codec = distHeaderCodec({ atomCache: false, fragments: true });
  const w = new Writer();
  codec.encodeFrame(w, tuple(2, atom(''), new Pid(atom('a@b'), 1, 0, 1)), atom('hello'));
  const f = w.take();
  assert.deepEqual([...f.subarray(4, 7)], [131, 68, 0]);
  assert.deepEqual(distHeaderCodec().decodeFrame(f.subarray(4))?.message, atom('hello'));
});

test('captured from OTP 25 (dist-hotpath-wire test): an echo reply with 4 new refs, then all cached', () => {
  // hp25@127.0.0.1 → js1@127.0.0.1: {22, EchoPid, OurPid} + {hello, world}.
  const first = hex(
    '834404cfcf00980e68703235403132372e302e302e317e0d6a7331403132372e302e302e31ed0568656c6c6f7f05776f726c64' +
      '6803611658520000000055000000006b04a001585201000000010000000000001234680252025203',
  );
  const second = hex('834404474700987eed7f6803611658520000000055000000006b04a001585201000000010000000000001234680252025203');
  const codec = distHeaderCodec();
  const a = codec.decodeFrame(first);
  const b = codec.decodeFrame(second);
  const echo = new Pid(atom('hp25@127.0.0.1'), 85, 0, 0x6b04a001);
  const us = new Pid(atom('js1@127.0.0.1'), 1, 0, 0x1234);
  for (const body of [a, b]) {
    assert.deepEqual(body?.control, tuple(22, echo, us));
    assert.deepEqual(body?.message, tuple(atom('hello'), atom('world')));
  }
  // Our encoder makes a header of the same shape (slots differ: the choice is the sender's).
  const out = new AtomCacheOut();
  const ours = sendWith(out, tuple(22, echo, us), tuple(atom('hello'), atom('world')));
  assert.equal(ours[2], 4);
  assert.equal(ours.length, first.length);
  const again = sendWith(out, tuple(22, echo, us), tuple(atom('hello'), atom('world')));
  assert.equal(again.length, second.length);
});

test('ourFlags: the hot-path flags are on unless the options of the network turn them off', () => {
  assert.equal(ourFlags() & HOT_PATH_FLAGS, HOT_PATH_FLAGS, 'on by default');
  assert.equal(ourFlags({ atomCache: false }) & HOT_PATH_FLAGS, DFLAG.FRAGMENTS);
  assert.equal(ourFlags({ fragments: false }) & HOT_PATH_FLAGS, DFLAG.DIST_HDR_ATOM_CACHE);
  assert.equal(ourFlags({ atomCache: false, fragments: false }) & HOT_PATH_FLAGS, 0n);
  assert.equal(ourFlags({ atomCache: true, fragments: false }) & HOT_PATH_FLAGS, DFLAG.DIST_HDR_ATOM_CACHE);
});
