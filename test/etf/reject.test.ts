/**
 * Every bad input is a DecodeError (or LimitError) with an offset, never a RangeError/TypeError,
 * a hang or a huge allocation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decode, decodeAt, DecodeError, encode, Fun, ImproperList, Pid, LimitError, atom, tuple, type Term } from '../../src/etf/index.js';
import { OTP25_VECTORS } from './vectors.js';
import { termArb } from './arbitraries.js';

function assertDecodeError(buf: Uint8Array, code?: string | RegExp): DecodeError {
  try {
    decode(buf);
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${(e as Error).name}: ${(e as Error).message}`);
    if (typeof code === 'string') assert.equal(e.code, code);
    else if (code) assert.match(e.code, code);
    assert.ok(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= buf.length, `offset ${e.offset}`);
    return e;
  }
  assert.fail(`decoded without error: ${Buffer.from(buf).toString('hex').slice(0, 80)}`);
}

const composite = encode(
  tuple(
    atom('ok'),
    [1, 300, -5, 2n ** 80n, 1.5, 'bin', atom('åtom')],
    new Map<Term, Term>([[atom('k'), [1, 2, 3]], ['s', tuple()]]),
    { a: 1 },
  ),
);

test('truncated input at every cut point of real terms is a TRUNCATED DecodeError', () => {
  const inputs = [composite, ...OTP25_VECTORS.map(([, h]) => Buffer.from(h, 'hex'))];
  let cuts = 0;
  for (const full of inputs) {
    for (let cut = 0; cut < full.length; cut++) {
      const e = assertDecodeError(full.subarray(0, cut));
      if (full[1] !== 80) assert.equal(e.code, cut === 0 ? 'BEAM_ERR_ETF_TRUNCATED' : 'BEAM_ERR_ETF_TRUNCATED', `cut ${cut}`);
      cuts++;
    }
  }
  assert.ok(cuts > 1000);
});

test('trailing bytes after the term are refused by decode (decodeAt returns end instead)', () => {
  const buf = Buffer.concat([encode(1), Buffer.from([0])]);
  assertDecodeError(buf, 'BEAM_ERR_ETF_TRAILING');
  assert.deepEqual(decodeAt(buf, 0), { term: 1, end: 3 });
});

test('decodeAt/decodeBodyAt refuse offsets outside the buffer', () => {
  for (const at of [-1, 4, 1.5, NaN]) {
    assert.throws(() => decodeAt(encode(1), at), { code: 'BEAM_ERR_ETF_BAD_OFFSET' });
  }
  assert.throws(() => decodeAt(encode(1), 3), { code: 'BEAM_ERR_ETF_TRUNCATED' });
});

test('hostile lengths fail before allocating', () => {
  const u32max = [0xff, 0xff, 0xff, 0xff];
  for (const tag of [108, 116, 105, 109, 77, 111]) {
    const e = assertDecodeError(Buffer.from([131, tag, ...u32max, 0, 0, 0, 0]), 'BEAM_ERR_ETF_TRUNCATED');
    assert.ok(e.offset <= 7, `offset ${e.offset}`);
  }
  assertDecodeError(Buffer.from([131, 107, 0xff, 0xff, 1]), 'BEAM_ERR_ETF_TRUNCATED');
  assertDecodeError(Buffer.from([131, 118, 0xff, 0xff, 97]), 'BEAM_ERR_ETF_TRUNCATED');
  assertDecodeError(Buffer.from([131, 90, 0, 3, 119, 1, 97, 0, 0, 0, 1]), 'BEAM_ERR_ETF_TRUNCATED');
  assertDecodeError(Buffer.from([131, 90, 0, 9, 119, 1, 97]), 'BEAM_ERR_ETF_BAD_REFERENCE');
  assertDecodeError(Buffer.from([131, 112, 0xff, 0xff, 0xff, 0xff, 0]), 'BEAM_ERR_ETF_TRUNCATED');
});

test('bad tags, bad versions, LOCAL_EXT, FUN_EXT', () => {
  assertDecodeError(Buffer.from([130, 97, 1]), 'BEAM_ERR_ETF_BAD_VERSION');
  assertDecodeError(Buffer.from([131, 1]), 'BEAM_ERR_ETF_BAD_TAG');
  assertDecodeError(Buffer.from([131, 117, 0, 0, 0, 0]), 'BEAM_ERR_ETF_BAD_TAG');
  const local = assertDecodeError(Buffer.from([131, 121, 0, 0, 0, 0, 0, 0, 0, 0]), 'BEAM_ERR_ETF_LOCAL_EXT');
  assert.match(local.message, /LOCAL_EXT \(121\).*\[local\]/);
  assertDecodeError(Buffer.from([131, 104, 1, 80, 0, 0, 0, 0]), 'BEAM_ERR_ETF_BAD_COMPRESSED');
  assertDecodeError(Buffer.from([131, 88, 97, 1]), 'BEAM_ERR_ETF_BAD_ATOM'); // pid node must be an atom
  assertDecodeError(Buffer.from([131, 82, 0]), 'BEAM_ERR_ETF_ATOM_CACHE'); // no cache given
  assertDecodeError(Buffer.from([131, 119, 2, 0xc3, 0x28]), 'BEAM_ERR_ETF_BAD_UTF8');
  assertDecodeError(Buffer.from([131, 110, 1, 2, 5]), 'BEAM_ERR_ETF_BAD_INTEGER'); // sign byte 2
  assertDecodeError(Buffer.from([131, 77, 0, 0, 0, 1, 0, 5]), 'BEAM_ERR_ETF_BAD_BITS');
  assertDecodeError(Buffer.from([131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3]), 'BEAM_ERR_ETF_DUPLICATE_KEY');
  const dupObj = Buffer.from([131, 116, 0, 0, 0, 2, 119, 1, 97, 97, 2, 109, 0, 0, 0, 1, 97, 97, 3]);
  assert.ok(decode(dupObj) instanceof Map, 'atom a and binary "a" are distinct keys');
  assert.throws(() => decode(dupObj, { mapsAsObjects: true, binariesAsStrings: true }), { code: 'BEAM_ERR_ETF_DUPLICATE_KEY' });
  assertDecodeError(Buffer.from([131, 99, ...Buffer.from('not a float'.padEnd(31, '\0'))]), 'BEAM_ERR_ETF_BAD_FLOAT');
});

test('1e6 levels of nesting is a LimitError, not a stack overflow', () => {
  for (const [open, name] of [[[104, 1], 'tuples'], [[108, 0, 0, 0, 1], 'lists'], [[116, 0, 0, 0, 1, 97, 0], 'maps']] as const) {
    const depth = 1_000_000;
    const buf = Buffer.alloc(1 + depth * open.length + 1);
    buf[0] = 131;
    for (let i = 0; i < depth; i++) buf.set(open, 1 + i * open.length);
    buf[buf.length - 1] = 106;
    let err: unknown;
    try {
      decode(buf);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof LimitError, `${name}: ${(err as Error)?.name}`);
    assert.equal(err.code, 'BEAM_ERR_ETF_LIMIT_DEPTH');
  }
  // within the limit, deep terms decode
  let t: Term = [];
  for (let i = 0; i < 2000; i++) t = tuple(t);
  assert.deepEqual(encode(decode(encode(t))), encode(t));
  assert.throws(() => decode(encode(t), { limits: { maxDepth: 100 } }), { code: 'BEAM_ERR_ETF_LIMIT_DEPTH' });
});

test('terms 10 000 levels deep encode and decode (explicit stacks past the JS stack)', () => {
  const kinds: ((t: Term) => Term)[] = [
    (t) => tuple(t),
    (t) => [t, 1],
    (t) => new Map<Term, Term>([[atom('k'), t]]),
    (t) => ({ k: t }),
    (t) => new ImproperList([t], atom('tail')),
    (t) => new Fun(1, Buffer.alloc(16, 7), 3, atom('mod'), 3, 12345, new Pid(atom('a@b'), 1, 0, 2), [t, 5]),
  ];
  for (const [i, wrap] of kinds.entries()) {
    let t: Term = atom('leaf');
    for (let d = 0; d < 9_999; d++) t = wrap(t);
    const bytes = encode(t);
    assert.deepEqual(encode(decode(bytes)), bytes, `kind ${i}`);
    assert.throws(() => encode(wrap(wrap(t))), { code: 'BEAM_ERR_ETF_TOO_DEEP' });
    assert.throws(() => decode(encode(wrap(t)), { limits: { maxDepth: 9_999 } }), { code: 'BEAM_ERR_ETF_LIMIT_DEPTH' });
  }
  // a mixed deep term with funs, byte lists and compressed output survives too
  let m: Term = [1, 2, 3];
  for (let d = 0; d < 3_000; d++) m = d % 3 === 0 ? tuple(m, 'x') : d % 3 === 1 ? [m] : { a: m, b: [] };
  assert.deepEqual(encode(decode(encode(m, { compressed: 6 }))), encode(m));
});

test('maxTerms bounds the number of terms', () => {
  assert.throws(() => decode(encode(new Array(100).fill(atom('a'))), { limits: { maxTerms: 50 } }), { code: 'BEAM_ERR_ETF_LIMIT_TERMS' });
  assert.equal((decode(encode(new Array(100).fill(atom('a'))), { limits: { maxTerms: 102 } }) as Term[]).length, 100);
});

test('compressed: size limits, bombs, lies and garbage', () => {
  const body = Buffer.alloc(100_000, 0);
  body[0] = 109;
  body.writeUInt32BE(100_000 - 5, 1);
  const z = deflateSync(body);
  const frame = (declared: number, data: Buffer) => {
    const b = Buffer.alloc(6 + data.length);
    b[0] = 131;
    b[1] = 80;
    b.writeUInt32BE(declared, 2);
    data.copy(b, 6);
    return b;
  };
  assert.equal((decode(frame(100_000, z)) as Buffer).length, 99_995);
  assert.throws(() => decode(frame(100_000, z), { limits: { maxInflatedSize: 50_000 } }), (e) => e instanceof LimitError && e.code === 'BEAM_ERR_ETF_LIMIT_INFLATED_SIZE');
  assertDecodeError(frame(1000, z), 'BEAM_ERR_ETF_BAD_COMPRESSED'); // inflates past what it declares
  assertDecodeError(frame(200_000, z), 'BEAM_ERR_ETF_BAD_COMPRESSED'); // inflates short of it
  assertDecodeError(frame(10, Buffer.from('not zlib at all')), 'BEAM_ERR_ETF_BAD_COMPRESSED');
  assertDecodeError(frame(0xffffffff, z), 'BEAM_ERR_ETF_LIMIT_INFLATED_SIZE');
});

test('fast-check: random bytes and mutated real terms never escape as anything but DecodeError', () => {
  const check = (b: Uint8Array) => {
    try {
      decode(b);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => check(Uint8Array.from([131, ...b]))), { numRuns: 20_000 });
  fc.assert(
    fc.property(termArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (t, at, byte) => {
      const b = Buffer.from(encode(t));
      b[at % b.length] = byte;
      check(b);
    }),
    { numRuns: 5_000 },
  );
});
