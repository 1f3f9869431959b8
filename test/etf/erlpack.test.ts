/**
 * pack/unpack against the native erlpack addon itself: same bytes from pack, same JS values from
 * unpack, on values erlpack supports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { atom, decode, encode, pack, Pid, tuple, unpack } from '../../src/etf/index.js';

const require = createRequire(import.meta.url);
const erlpack = require('erlpack') as { pack(v: unknown): Buffer; unpack(b: Buffer): unknown };

// What erlpack can pack: JSON-like values (no -0 inside arrays/objects issues: erlpack packs -0 as a float too)
const packable = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__' && !/^\d+$/.test(k)), tie('v'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).v;

test('pack gives the bytes erlpack.pack gives', () => {
  fc.assert(
    fc.property(packable, (v) => {
      assert.deepEqual(pack(v), erlpack.pack(v));
    }),
    { numRuns: 5000 },
  );
  assert.deepEqual(pack(undefined), erlpack.pack(undefined));
  assert.deepEqual(pack({ a: undefined }), erlpack.pack({ a: undefined }));
});

test('unpack gives the values erlpack.unpack gives', () => {
  fc.assert(
    fc.property(packable, (v) => {
      const b = erlpack.pack(v);
      assert.deepEqual(unpack(b), erlpack.unpack(b));
    }),
    { numRuns: 5000 },
  );
  // terms erlpack reads from OTP (minor_version 1): tuples as arrays, atoms as strings, nil → null,
  // big integers past 32 bits as decimal text, integral floats as numbers
  const t = encode(tuple(atom('ok'), atom('nil'), [1, 2], 2 ** 40, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 1.0 as number, 'bin', new Map([[atom('k'), 3]])), {
    minorVersion: 1,
  });
  assert.deepEqual(unpack(t), erlpack.unpack(t));
});

test('beyond erlpack: UTF-8 atoms, bigints, Buffers and term classes', () => {
  assert.equal(unpack(Buffer.from([131, 119, 2, 111, 107])), 'ok');
  assert.equal(unpack(encode(atom('null'))), null);
  assert.deepEqual(decode(pack(2n ** 80n)), 2n ** 80n);
  assert.equal(unpack(encode(2n ** 70n)), '1180591620717411303424'); // erlpack throws past 8 bytes
  assert.deepEqual(decode(pack(Buffer.from('xy'))), Buffer.from('xy'));
  const pid = new Pid(atom('a@b'), 1, 2, 3);
  assert.ok((unpack(pack(tuple(atom('x'), pid))) as unknown[])[1] instanceof Pid);
});
