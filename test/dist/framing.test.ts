import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, Writer } from '../../src/etf/index.js';
import { atom, Pid, tuple, type Term } from '../../src/etf/types.js';
import { ProtocolError } from '../../src/dist/errors.js';
import { FrameReader, passThroughCodec, TICK_FRAME } from '../../src/dist/protocol/framing.js';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

/** All frames `chunks` yield through one reader, as hex (copies: views are only valid in the callback). */
function frames(chunks: Buffer[], header: 2 | 4 = 4): string[] {
  const r = new FrameReader(header);
  const out: string[] = [];
  for (const c of chunks) r.push(c, (f) => void out.push(f.toString('hex')));
  assert.equal(r.bufferedBytes, 0, 'no bytes left over');
  return out;
}

// A wire sample in the shape OTP 25 sends (`70 83 68 03 61 16 58 …`), with ticks between.
const pid = new Pid(atom('n1@127.0.0.1'), 87, 0, 0x6b048e52);
const me = new Pid(atom('js@127.0.0.1'), 1, 0, 7);
function sampleWire(): Buffer {
  const codec = passThroughCodec();
  const w = new Writer(64);
  const parts: Buffer[] = [];
  codec.encodeFrame(w, tuple(22, pid, me), tuple(atom('ok'), [1, 2, 3]));
  parts.push(w.take());
  parts.push(TICK_FRAME);
  codec.encodeFrame(w, tuple(19, pid, atom('net_kernel'), tuple()));
  parts.push(w.take());
  parts.push(TICK_FRAME, TICK_FRAME);
  codec.encodeFrame(w, tuple(6, pid, atom(''), atom('rex')), Buffer.alloc(3000, 7));
  parts.push(w.take());
  return Buffer.concat(parts);
}

test('pass-through frames start 112, 131 control', () => {
  const wire = sampleWire();
  assert.deepEqual(wire.subarray(4, 10), hex('70 83 68 03 61 16'));
});

test('a wire sample split at every byte gives the same frames', () => {
  const wire = sampleWire();
  const whole = frames([wire]);
  assert.equal(whole.length, 6);
  assert.equal(whole.filter((f) => f === '').length, 3, 'three ticks');
  for (let cut = 1; cut < wire.length; cut++) {
    assert.deepEqual(frames([wire.subarray(0, cut), wire.subarray(cut)]), whole, `cut at ${cut}`);
  }
});

test('a wire sample fed byte by byte, and coalesced with itself, gives the same frames', () => {
  const wire = sampleWire();
  const whole = frames([wire]);
  const bytes: Buffer[] = [];
  for (let i = 0; i < wire.length; i++) bytes.push(wire.subarray(i, i + 1));
  assert.deepEqual(frames(bytes), whole);
  assert.deepEqual(frames([Buffer.concat([wire, wire, wire])]), [...whole, ...whole, ...whole]);
});

test('a frame longer than maxFrame is refused from its header, before buffering', () => {
  const r = new FrameReader(4, 1000);
  assert.throws(
    () => r.push(hex('000003e9'), () => {}),
    (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_FRAME_TOO_LARGE',
  );
  const r2 = new FrameReader(4, 1000);
  r2.push(hex('0000'), () => {});
  assert.throws(() => r2.push(hex('ffff'), () => {}), ProtocolError);
  const ok = new FrameReader(4, 1000);
  let n = 0;
  ok.push(Buffer.concat([hex('000003e8'), Buffer.alloc(1000)]), () => void n++);
  assert.equal(n, 1);
});

test('returning false stops the reader and takeRest hands over the unread bytes', () => {
  const r = new FrameReader(2);
  const got: string[] = [];
  r.push(Buffer.concat([hex('0003 736f6b'), hex('00000000 00000002 7070')]), (f) => {
    got.push(f.toString('latin1'));
    return false;
  });
  assert.deepEqual(got, ['sok']);
  const rest = r.takeRest();
  assert.deepEqual(rest, hex('00000000 00000002 7070'));
  assert.deepEqual(frames([rest]), ['', '7070']);
});

test('2-byte framing (the handshake) splits the same way', () => {
  const wire = hex('0003 736f6b 0002 6162 0000');
  assert.deepEqual(frames([wire], 2), ['736f6b', '6162', '']);
  for (let cut = 1; cut < wire.length; cut++) assert.deepEqual(frames([wire.subarray(0, cut), wire.subarray(cut)], 2), ['736f6b', '6162', '']);
});

test('the pass-through codec decodes what it encodes, with and without a message', () => {
  const codec = passThroughCodec();
  const w = new Writer(16);
  const cases: [Term, Term | undefined][] = [
    [tuple(1, me, pid), undefined],
    [tuple(22, me, pid), tuple(atom('hello'), Buffer.from('world'), 1.5)],
  ];
  for (const [control, message] of cases) {
    codec.encodeFrame(w, control, message);
    const frame = w.take();
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    const body = codec.decodeFrame(frame.subarray(4));
    assert.deepEqual(body.control, control);
    assert.deepEqual(body.message, message);
  }
});

test('the pass-through codec refuses a dist header, trailing bytes and garbage with ProtocolError', () => {
  const codec = passThroughCodec();
  const control = encode(tuple(2, atom(''), pid));
  const bad: Buffer[] = [
    Buffer.concat([hex('83 44 00'), control.subarray(1)]), // 131,68 header we did not negotiate
    Buffer.concat([Buffer.of(112), control, Buffer.of(1)]), // a byte after the control that is not 131
    Buffer.concat([Buffer.of(112), control, control, Buffer.of(0)]), // trailing byte after the message
    Buffer.of(112), // no control
    Buffer.of(112, 1, 2), // control without 131
  ];
  for (const b of bad) assert.throws(() => codec.decodeFrame(b), ProtocolError, b.toString('hex'));
  // A truncated term is the codec's DecodeError (the connection closes on either).
  assert.throws(() => codec.decodeFrame(Buffer.concat([Buffer.of(112), control.subarray(0, 5)])));
});

test('frames of 1 byte to 300 KiB in chunks of random sizes (as a socket gives them) come out whole and in order; a stop hands over the rest', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 20; round++) {
    const bodies = Array.from({ length: 40 }, (_, i) => {
      const size = [0, 1, 3, 4096, 65_536, 65_540, 300 * 1024][rnd(7)] + rnd(100);
      return Buffer.alloc(size, (i * 7 + round) & 0xff);
    });
    const wire = Buffer.concat(bodies.map((b) => Buffer.concat([Buffer.from([b.length >>> 24, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff]), b])));
    const stopAt = rnd(2) === 0 ? 25 : -1;
    const r = new FrameReader(4);
    const got: Buffer[] = [];
    let at = 0;
    while (at < wire.length && !(stopAt >= 0 && got.length > stopAt)) {
      const n = 1 + rnd(rnd(2) === 0 ? 100 : 70_000);
      r.push(wire.subarray(at, at + n), (f) => {
        got.push(Buffer.from(f));
        return got.length <= stopAt || stopAt < 0;
      });
      at += n;
    }
    if (stopAt < 0) {
      assert.equal(got.length, bodies.length);
      got.forEach((f, i) => assert.ok(f.equals(bodies[i]), `round ${round} frame ${i}`));
    } else {
      assert.equal(got.length, stopAt + 1);
      got.forEach((f, i) => assert.ok(f.equals(bodies[i]), `round ${round} frame ${i}`));
      // What was not read is the wire after the last frame read (the unfed part aside).
      const consumed = bodies.slice(0, stopAt + 1).reduce((s, b) => s + 4 + b.length, 0);
      const rest = Buffer.concat([r.takeRest(), wire.subarray(at)]);
      assert.ok(rest.equals(wire.subarray(consumed)), `round ${round}: the rest after the stop`);
    }
  }
});
