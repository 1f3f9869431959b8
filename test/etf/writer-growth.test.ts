/**
 * Issue 12's regressions: every encoder site that writes straight into the Writer's buffer, run
 * with a reused Writer at every fill level around its growth boundaries, so each value is
 * written while the buffer grows under it. The bytes must equal those from a writer that never
 * grows (and decode to the same term).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atom, BitBinary, decode, encode, encodeBodyInto, encodeInto, ExportFun, Float, Fun, ImproperList, pack, Pid, Port, Reference,
  tuple, unpack, Writer, type Term,
} from '../../src/etf/index.js';
import { AtomCacheOut } from '../../src/dist/protocol/dist-header.js';

const pid = new Pid(atom('a@host'), 1, 2, 3);
/** One term per direct-write site of src/etf/encode.ts (and the Writer's own methods). */
const SITES: [string, Term][] = [
  ['SMALL_INTEGER_EXT', 200],
  ['INTEGER_EXT', -(2 ** 31)],
  ['SMALL_BIG_EXT from a number (2^31)', 2 ** 31],
  ['SMALL_BIG_EXT from a number (2^40)', 2 ** 40],
  ['SMALL_BIG_EXT from a number (-(2^53-1))', -(2 ** 53 - 1)],
  ['SMALL_BIG_EXT from a timestamp', 1_764_930_000_123],
  ['SMALL_BIG_EXT from a number (1e300)', 1e300],
  ['SMALL_BIG_EXT from a bigint', 2n ** 70n],
  ['LARGE_BIG_EXT', -(3n ** 700n)],
  ['NEW_FLOAT_EXT', 0.1],
  ['NEW_FLOAT_EXT -0.0', -0],
  ['Float', new Float(3)],
  ['BINARY_EXT from a string (ASCII)', 'hello'],
  ['BINARY_EXT from a string (4 UTF-8 widths)', 'aé€😀'.repeat(30)],
  ['BINARY_EXT', Buffer.alloc(70, 7)],
  ['BINARY_EXT short', Buffer.from([1, 2, 3])],
  ['BIT_BINARY_EXT', new BitBinary(Buffer.from([0xff, 0xff]), 3)],
  ['STRING_EXT', [1, 2, 3, 200, 0]],
  ['SMALL_TUPLE_EXT', tuple(1, 2)],
  ['atoms', [atom('ok'), atom('é'), true, false]],
  ['NEW_PID_EXT', pid],
  ['NEW_PORT_EXT', new Port(atom('a@host'), 5, 1)],
  ['NEWER_REFERENCE_EXT', new Reference(atom('a@host'), 1, [1, 2, 3])],
  ['NEW_FUN_EXT', new Fun(1, Buffer.alloc(16, 9), 0, atom('m'), 0, 7, pid, [2 ** 40, 'x'])],
  ['EXPORT_EXT', new ExportFun(atom('lists'), atom('sum'), 1)],
  ['MAP_EXT from an object', { a: 2 ** 33, b: 'x' }],
  ['MAP_EXT from a Map', new Map<Term, Term>([[2 ** 35, 1], ['k', -(2 ** 45)]])],
  ['improper list', new ImproperList([2 ** 32, 1], atom('t'))],
  ['list of timestamps', Array.from({ length: 40 }, (_, i) => 1_764_930_000_000 + i)],
];

/** Writes `k` filler bytes, then `write`, into a Writer of `capacity`; checks filler and output. */
function atEveryFill(capacity: number, expected: Buffer, write: (w: Writer) => void, what: string): void {
  for (let k = 0; k <= capacity + 8; k++) {
    const w = new Writer(capacity); // fresh each time: a writer that grew once would not grow again
    for (let i = 0; i < k; i++) w.u8(i & 0x7f);
    write(w);
    const v = w.view();
    for (let i = 0; i < k; i++) if (v[i] !== (i & 0x7f)) assert.fail(`${what}: filler byte ${i} changed at fill ${k}`);
    if (!v.subarray(k).equals(expected)) {
      assert.fail(`${what}: at fill ${k} of a ${capacity}-byte writer got ${v.subarray(k).toString('hex')}, want ${expected.toString('hex')}`);
    }
  }
}

for (const [name, term] of SITES) {
  test(`encodeInto at every fill level of a reused Writer: ${name}`, () => {
    const expected = encode(term);
    assert.equal(expected[0], 131);
    // every capacity from the minimum up, so each boundary lands inside the value at some fill
    for (const capacity of [16, 24, 32, 48, 64]) {
      atEveryFill(capacity, expected, (w) => encodeInto(w, term), name);
    }
    const body = expected.subarray(1);
    atEveryFill(16, body, (w) => encodeBodyInto(w, term), `${name} (body)`);
  });
}

test('issue 12 repro: 100 000 timestamps encode to bytes that decode to them (encode, pack, compressed)', () => {
  const now = Date.now();
  const list = Array.from({ length: 100_000 }, (_, i) => now + i);
  const bytes = encode(list);
  assert.deepEqual(decode(bytes), list);
  assert.deepEqual(decode(encode(list, { compressed: true })), list);
  // erlpack writes numbers past 2^32 as floats: they stay the same numbers
  assert.deepEqual(unpack(pack(list)), list);
  const mixed = Array.from({ length: 50_000 }, (_, i) => (i % 3 === 0 ? -(now + i) : i % 3 === 1 ? 2 ** 31 + i : now * 1000 + i));
  assert.deepEqual(decode(encode(mixed)), mixed);
});

test('a Writer grown mid-value keeps the bytes already written (u8/u16/u32/bytes/reserve/patch)', () => {
  const w = new Writer(16);
  const expected: number[] = [];
  for (let i = 0; i < 300; i++) {
    const at = w.reserve(4);
    w.u8(i & 0xff).u16(i).bytes(Buffer.alloc(i % 19, i & 0xff)).u32(i * 77);
    w.patchU32(at, i);
    expected.push(0, 0, i >>> 8, i & 0xff, i & 0xff, i >>> 8, i & 0xff, ...new Array<number>(i % 19).fill(i & 0xff));
    const n = i * 77;
    expected.push(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  assert.deepEqual([...w.take()], expected);
  assert.throws(() => w.patchU32(0, 1), RangeError, 'patching past what is written is refused');
});

test('dist header: new atom-cache refs written at every fill level of a reused Writer', () => {
  // names long enough that the header alone crosses several growth boundaries
  const atoms = Array.from({ length: 9 }, (_, i) => atom(`${'n'.repeat(20 + i * 30)}@host${i}`));
  const control = tuple(6, new Pid(atoms[0], 1, 0, 1), atom(''), atoms[1]);
  const message = tuple(...atoms.slice(2), 2 ** 40, 'x'.repeat(40));
  const reference = new Writer(1 << 16);
  new AtomCacheOut().encode(reference, control, message);
  const expected = reference.take();
  for (const capacity of [16, 64, 256]) {
    // a fresh cache each time so every ref is new (names written inline in the header)
    atEveryFill(capacity, expected, (w) => void new AtomCacheOut().encode(w, control, message), `dist header, ${capacity}`);
  }
  // a long name (> 255 bytes) switches the header to 2-byte lengths: its flag is set last
  const long = atom('é'.repeat(200));
  const r2 = new Writer(1 << 16);
  new AtomCacheOut().encode(r2, tuple(2, atom(''), long), long);
  atEveryFill(16, r2.take(), (w) => void new AtomCacheOut().encode(w, tuple(2, atom(''), long), long), 'dist header, long atom');
});

test('take() of a big result hands over the buffer: later writes never change what was taken', () => {
  const w = new Writer(64);
  for (const size of [100, 300 * 1024, 1 << 20, 5 * 1024 * 1024 + 3]) {
    const taken: Buffer[] = [];
    for (let round = 0; round < 3; round++) {
      const b = w.room(size);
      b.fill(round + 1, w.pos, w.pos + size);
      w.pos += size;
      taken.push(w.take());
    }
    taken.forEach((t, round) => {
      assert.equal(t.length, size);
      assert.ok(t.every((x) => x === round + 1), `round ${round} of ${size} bytes kept its bytes`);
    });
  }
});
