import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, Float, type Term } from '../../src/etf/index.js';
import { termArb } from './arbitraries.js';

test('fast-check: encode → decode → encode is the identity on bytes (minor 1 and 2)', () => {
  fc.assert(
    fc.property(termArb, fc.constantFrom(1 as const, 2 as const), (t, minorVersion) => {
      const b = encode(t, { minorVersion });
      assert.deepEqual(encode(decode(b), { minorVersion }), b);
    }),
    { numRuns: 3000 },
  );
});

test('fast-check: compressed encodings decode to the same term', () => {
  fc.assert(
    fc.property(termArb, fc.integer({ min: 0, max: 9 }), (t, level) => {
      assert.deepEqual(encode(decode(encode(t, { compressed: level }))), encode(t));
    }),
    { numRuns: 500 },
  );
});

test('fast-check: numbers and bigints come back as the same value', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.bigInt()), (v) => {
      const back = decode(encode(v));
      if (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0) && Math.abs(v) > Number.MAX_SAFE_INTEGER) {
        assert.equal(back, BigInt(v)); // integral doubles past 2^53 are integers: bigint on the way back
      } else if (typeof v === 'bigint') {
        assert.equal(back, v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v);
      } else if (Object.is(v, -0)) {
        assert.ok(back instanceof Float && Object.is(back.value, -0)); // boxed, like every integral float
      } else {
        assert.ok(Object.is(back, v));
      }
    }),
    { numRuns: 5000 },
  );
  assert.ok(decode(encode(new Float(3))) instanceof Float);
});

test('fast-check: strings survive as UTF-8 binaries', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
      assert.equal(decode(encode(s), { binariesAsStrings: true }), s);
      assert.deepEqual(decode(encode(s)), Buffer.from(s, 'utf8'));
    }),
    { numRuns: 3000 },
  );
});

test('fast-check: plain objects come back as objects with mapsAsObjects', () => {
  const json = fc.jsonValue({ maxDepth: 4 }).filter((v) => !JSON.stringify(v).includes('null'));
  fc.assert(
    fc.property(json, (v) => {
      const back = decode(encode(v as Term), { mapsAsObjects: true, binariesAsStrings: true, atomsAsStrings: true });
      const norm = (x: unknown): unknown =>
        x instanceof Float ? x.value : typeof x === 'bigint' ? Number(x) : Array.isArray(x) ? x.map(norm) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, norm(y)])) : x;
      assert.deepEqual(norm(back), norm(v));
    }),
    { numRuns: 1000 },
  );
});
