import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { encode, Float, tuple, type Term } from '../../src/etf/index.js';
import { zlibDeflate } from '../../src/etf/compress/deflate.js';

// sha256 of OTP 25's term_to_binary(L, [{compressed, Level}, {minor_version, 2}]) for
// L = [{I, lists:seq(1, I rem 50), <<"abcdefgh">>, I * 1000.5} || I <- lists:seq(1, 3000)]
// (168 KiB of term, so the deflate window slides and blocks split).
const OTP25_SHA256: Record<number, string> = {
  1: '87B779F032CFAE49FC673E7499245A5D276ABA778B156D4357F95983BB6444A7',
  2: '6EF4FB6C24BA471A7BF1591167F9F96D5C67B2AD720EF1B52E7DCA6FBA26FA3F',
  3: '03F79D6E2D46130140F4EEC957DEA6D35717AC4EB719C9A6F26689887356A6B2',
  4: 'C52FEB88EBB51FAD9706187E904F30CEBD004B6501CD993F24419A28205B4CE7',
  5: '798CE6F06029EEC9F8918A1BF38EFCA5C566AD612DC6A099D3D14D25526B626E',
  6: '8C4DAC2710BE591729882E054011F37B68049F5D3412F43377E18F78949047D7',
  7: 'E7B549DDD81D947E17FE295A35DC5637F46D0C215CE27F2FBFEBA101105CF368',
  8: 'A9FD9E6441231DFF4019987F9FC1D46937E2058054F4AF8E882488D3D5515C68',
  9: 'BCF912F141190AA7A151B8653D6F1DA121B560FBC41565F6F5F65CF157271DBB',
};

test('compressed encodings equal OTP 25 term_to_binary(T, [{compressed, 1..9}]) byte for byte', () => {
  const l: Term[] = [];
  for (let i = 1; i <= 3000; i++) {
    const f = i * 1000.5;
    l.push(tuple(i, Array.from({ length: i % 50 }, (_, k) => k + 1), Buffer.from('abcdefgh'), Number.isInteger(f) ? new Float(f) : f));
  }
  for (let level = 1; level <= 9; level++) {
    const bytes = encode(l, { compressed: level });
    assert.equal(createHash('sha256').update(bytes).digest('hex').toUpperCase(), OTP25_SHA256[level], `level ${level}`);
  }
});

test('zlibDeflate output inflates back to the input (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.constantFrom(0, 1, 97, 255), { maxLength: 70_000 }).map((a) => Uint8Array.from(a))),
      fc.integer({ min: 1, max: 9 }),
      (data, level) => {
        assert.deepEqual(inflateSync(zlibDeflate(data, level)), Buffer.from(data));
      },
    ),
    { numRuns: 300 },
  );
});
