/**
 * OTP 29 native records (RECORD_EXT, tag 67): the bytes OTP 29 writes (captured from
 * `term_to_binary(#point{x = 1, y = 2})` of a module with `-record #point{x = 0, y = 0}.`),
 * decode/encode, Erlang's equality and order (as OTP 29 sorts them), limits and rejections.
 * The same against a live OTP 29 is in test/integration/etf-records.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atom, compareTerms, decode, decodeBodyAt, DecodeError, encode, EncodeError, LimitError, NativeRecord, pack, termEquals, tuple, unpack,
  WireMap, type Term,
} from '../../src/etf/index.js';
import { formatTerm } from '../../src/index.js';

const POINT = Buffer.from([131, 67, 0, 0, 0, 2, 0, 119, 2, 110, 114, 119, 5, 112, 111, 105, 110, 116, 119, 1, 120, 119, 1, 121, 97, 1, 97, 2]);
const EMPTY = Buffer.from([131, 67, 0, 0, 0, 0, 0, 119, 2, 110, 114, 119, 5, 101, 109, 112, 116, 121]);
// term_to_binary([#point{x = 1, y = 2}, #point{x = 1.0, y = 2}], [{minor_version, 1}]) on OTP 29
const LIST_MINOR1 = Buffer.from([
  131, 108, 0, 0, 0, 2, 67, 0, 0, 0, 2, 0, 100, 0, 2, 110, 114, 100, 0, 5, 112, 111, 105, 110, 116, 100, 0, 1, 120, 100, 0, 1, 121, 97, 1, 97, 2,
  67, 0, 0, 0, 2, 0, 100, 0, 2, 110, 114, 100, 0, 5, 112, 111, 105, 110, 116, 100, 0, 1, 120, 100, 0, 1, 121, 70, 63, 240, 0, 0, 0, 0, 0, 0, 97, 2, 106,
]);
const point = (x: Term, y: Term, exported = false) => new NativeRecord(atom('nr'), atom('point'), [atom('x'), atom('y')], [x, y], exported);

test('OTP 29 bytes decode to a NativeRecord and encode back byte for byte', () => {
  const p = decode(POINT) as NativeRecord;
  assert.ok(p instanceof NativeRecord);
  assert.equal(p.module, atom('nr'));
  assert.equal(p.name, atom('point'));
  assert.deepEqual(p.fields, [atom('x'), atom('y')]);
  assert.deepEqual(p.values, [1, 2]);
  assert.equal(p.exported, false);
  assert.equal(p.get('y'), 2);
  assert.equal(p.get('z'), undefined);
  assert.deepEqual(encode(p), POINT);
  assert.deepEqual(encode(NativeRecord.of('nr', 'point', { x: 1, y: 2 })), POINT);
  const e = decode(EMPTY) as NativeRecord;
  assert.deepEqual([e.fields, e.values], [[], []]);
  assert.deepEqual(encode(e), EMPTY);
  assert.deepEqual(encode(decode(LIST_MINOR1), { minorVersion: 1 }), LIST_MINOR1);
  // exported (flag 1), as OTP 29 writes it for a record made by binary_to_term with flag 1
  const x = Buffer.from([131, 67, 0, 0, 0, 1, 1, 119, 1, 109, 119, 1, 114, 119, 1, 97, 97, 0]);
  const r = decode(x) as NativeRecord;
  assert.equal(r.exported, true);
  assert.deepEqual(encode(r), x);
});

test('record atoms may be atom-cache refs (after a distribution header)', () => {
  const cache = [atom('nr'), atom('point'), atom('x'), atom('y')];
  const body = Buffer.from([67, 0, 0, 0, 2, 0, 82, 0, 82, 1, 82, 2, 82, 3, 97, 1, 97, 2]);
  const { term, end } = decodeBodyAt(body, 0, { atomCache: cache });
  assert.equal(end, body.length);
  assert.ok(termEquals(term, point(1, 2)));
});

test('bad records are refused with their offset; the count is checked before allocating', () => {
  const bad = (bytes: number[], code: string) =>
    assert.throws(() => decode(Buffer.from([131, ...bytes])), (e: DecodeError) => e.code === code && e.offset === 1);
  bad([67, 0, 0, 0, 1, 2, 119, 1, 109, 119, 1, 114, 119, 1, 97, 97, 0], 'BEAM_ERR_ETF_BAD_RECORD'); // flags 2
  bad([67, 0, 0, 0, 2, 0, 119, 1, 109, 119, 1, 114, 119, 1, 97, 119, 1, 97, 97, 0, 97, 1], 'BEAM_ERR_ETF_BAD_RECORD'); // field twice
  bad([67, 0xff, 0xff, 0xff, 0xff, 0, 119, 1, 109, 119, 1, 114], 'BEAM_ERR_ETF_TRUNCATED'); // 4 G fields claimed
  assert.throws(() => decode(Buffer.from([131, 67, 0, 0, 0, 1, 0, 97, 1, 119, 1, 114, 119, 1, 97, 97, 0])), (e: DecodeError) => e.code === 'BEAM_ERR_ETF_BAD_ATOM');
  assert.throws(() => encode(new NativeRecord(atom('m'), atom('r'), [atom('a')], [])), (e: EncodeError) => e.code === 'BEAM_ERR_ETF_ENCODE_BAD_RECORD');
  assert.throws(() => encode(new NativeRecord(atom('m'), atom('r'), [atom('a'), atom('a')], [1, 2])), (e: EncodeError) => e.code === 'BEAM_ERR_ETF_ENCODE_BAD_RECORD');
});

test('records nested 9 000 deep: encoded and decoded without the JS stack; maxDepth holds', () => {
  let t: Term = 0;
  for (let i = 0; i < 9_000; i++) t = NativeRecord.of('m', 'r', { v: t });
  const bytes = encode(t);
  const back = decode(bytes);
  assert.deepEqual(encode(back), bytes);
  assert.throws(() => decode(bytes, { limits: { maxDepth: 5000 } }), (e: LimitError) => e instanceof LimitError && e.code === 'BEAM_ERR_ETF_LIMIT_DEPTH');
});

test("equality and order follow OTP 29's rules", () => {
  assert.ok(termEquals(point(1, 2), point(1, 2)));
  assert.ok(!termEquals(point(1, 2), point(1.5, 2)));
  assert.ok(!termEquals(point(1, 2), point(1, 2, true)), 'the export flag is part of the term');
  assert.ok(!termEquals(point(1, 2), tuple(atom('point'), 1, 2)), 'a record is not a tuple');
  assert.ok(!termEquals(point(2, 1), new NativeRecord(atom('nr'), atom('point'), [atom('y'), atom('x')], [1, 2])), 'field order matters');
  // lists:sort/1 on OTP 29 gave this order (test/integration/etf-records.test.ts checks it live)
  const mk = (m: string, r: string, exported: boolean, fs: string[], vs: Term[]) =>
    new NativeRecord(atom(m), atom(r), fs.map(atom), vs, exported);
  const sorted = [
    tuple(1), mk('aa', 'zz', false, [], []), mk('m', 'r', false, [], []), mk('m', 'r', false, ['a'], [5]), mk('m', 'r', false, ['b'], [1]),
    mk('m', 'r', false, ['z'], [0]), mk('m', 'r', false, ['x', 'y'], [0, 0]), mk('m', 'r', true, ['a'], [0]), mk('m', 'r', true, ['a', 'b'], [0, 0]),
    mk('zz', 'aa', false, [], []), new Map(),
  ];
  for (let i = 1; i < sorted.length; i++) assert.ok(compareTerms(sorted[i - 1], sorted[i]) < 0, `${i - 1} < ${i}`);
});

test('records as map keys (WireMap), printed by formatTerm, through pack/unpack', () => {
  const m = new Map<Term, Term>([[point(1, 2), atom('a')], [tuple(atom('x')), atom('c')], [point(1.5, 2), atom('b')]]);
  const back = decode(encode(m)) as WireMap;
  assert.equal(back.get(point(1, 2)), atom('a'));
  assert.equal(back.get(point(1.5, 2)), atom('b'));
  assert.equal(back.get(point(1, 3)), undefined);
  // small maps are written in term order: the tuple key first, then the records
  assert.deepEqual([...back.keys()].map((k) => k instanceof NativeRecord), [false, true, true]);
  assert.equal(formatTerm(point(1, 'x')), '#nr:point{x = 1,y = <<"x">>}');
  assert.equal(formatTerm(NativeRecord.of('A b', 'c', { 'e f': tuple(1) })), "#'A b':c{'e f' = {1}}");
  // erlpack has no records: pack writes RECORD_EXT, unpack gives the fields as an object
  assert.deepEqual(pack(point(1, 2)), POINT);
  assert.deepEqual(unpack(POINT), { x: 1, y: 2 });
});
