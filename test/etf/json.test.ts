import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Atom,
  atom,
  decode,
  decodeJson,
  encode,
  encodeInto,
  encodeJson,
  EncodeError,
  Float,
  fromJson,
  ImproperList,
  Pid,
  toJson,
  Tuple,
  tuple,
  Writer,
  type Term,
} from '../../src/etf/index.js';
import { apiPayload, viaJson } from '../support/json-payload.js';

test('a realistic payload (2000 orders, ~1 MB) round-trips as JSON.stringify/parse would give it', () => {
  const payload = apiPayload(2000);
  const bytes = encodeJson(payload);
  assert.ok(bytes.length > 500_000, `payload of ${bytes.length} bytes`);
  assert.deepEqual(decodeJson(bytes), viaJson(payload));
});

test('fast-check: JSON values (as JSON.parse gives them) come back unchanged, with binary or atom keys', () => {
  const safe = fc.jsonValue({ maxDepth: 6 }).map((v) => viaJson(v)).filter((v) => !hasUnsafeInteger(v));
  fc.assert(
    fc.property(safe, fc.constantFrom('binary' as const, 'atom' as const), (v, keys) => {
      assert.deepEqual(decodeJson(encodeJson(v, { keys })), v);
    }),
    { numRuns: 2000 },
  );
});

function hasUnsafeInteger(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasUnsafeInteger);
  if (v && typeof v === 'object') return Object.values(v).some(hasUnsafeInteger);
  return false;
}

test('the terms JSON mode sends: binary keys by default, atom keys by option, null as nil (or null)', () => {
  const t = decode(encodeJson({ name: 'Zoë', n: null, tags: ['a'] }));
  assert.ok(t instanceof Map);
  const keys = [...t.keys()];
  assert.ok(keys.every((k) => Buffer.isBuffer(k)), 'binary keys');
  assert.equal(t.get(Buffer.from('n')) ?? [...t].find(([k]) => String(k) === 'n')?.[1], atom('nil'));
  const a = decode(encodeJson({ name: 'Zoë', n: null }, { keys: 'atom', null: 'null' })) as Map<Term, Term>;
  assert.deepEqual([...a.keys()], [atom('n'), atom('name')]);
  assert.equal(a.get(atom('n')), atom('null'));
  assert.deepEqual(a.get(atom('name')), Buffer.from('Zoë'));
  // The same bytes as the lossless encoder gives the equivalent term.
  assert.deepEqual(encodeJson({ b: [1, null], a: 'x' }, { keys: 'atom' }), encode({ a: 'x', b: [1, atom('nil')] }));
  assert.deepEqual(
    encodeJson({ b: [1, null], a: 'x' }),
    encode(new Map<Term, Term>([['b', [1, atom('nil')]], ['a', 'x']])),
  );
});

test('undefined: left out of objects, nil in arrays (JSON writes null), nil at the top', () => {
  assert.deepEqual(decodeJson(encodeJson({ a: undefined, b: 1, c: { d: undefined } })), { b: 1, c: {} });
  assert.deepEqual(decodeJson(encodeJson([undefined, null, 1])), [null, null, 1]);
  assert.equal(decodeJson(encodeJson(undefined)), null);
  assert.deepEqual(decodeJson(encodeJson({ a: { b: { c: [null, { d: null }] } } })), { a: { b: { c: [null, { d: null }] } } });
});

test('Date and toJSON objects become their toJSON value; bigint stays an integer both ways', () => {
  class Money {
    constructor(readonly cents: number) {}
    toJSON() {
      return { amount: this.cents / 100, currency: 'EUR' };
    }
  }
  const d = new Date(Date.UTC(2026, 11, 5, 17, 0, 0));
  assert.deepEqual(decodeJson(encodeJson({ at: d, price: new Money(1999) })), { at: '2026-12-05T17:00:00.000Z', price: { amount: 19.99, currency: 'EUR' } });
  const big = 2n ** 64n + 1n;
  assert.equal(decodeJson(encodeJson(big)), big);
  assert.equal(decodeJson(encodeJson(2n ** 53n + 2n)), 2n ** 53n + 2n);
  // An integral double past 2^53 is an Erlang integer: it comes back as a bigint, exactly.
  assert.equal(decodeJson(encodeJson(1e20)), 100000000000000000000n);
});

test('refused with an EncodeError naming the field: NaN, Infinity, functions, symbols, class instances, Sets, cycles', () => {
  const cases: [unknown, string, string][] = [
    [{ stats: { ratio: NaN } }, '$.stats.ratio', 'BEAM_ERR_ETF_ENCODE_BAD_FLOAT'],
    [{ a: [1, 2, Infinity] }, '$.a[2]', 'BEAM_ERR_ETF_ENCODE_BAD_FLOAT'],
    [{ items: [{}, {}, {}, { at: () => 1 }] }, '$.items[3].at', 'BEAM_ERR_ETF_UNENCODABLE'],
    [{ 'content-type': Symbol('x') }, '$["content-type"]', 'BEAM_ERR_ETF_UNENCODABLE'],
    [{ user: new (class User { name = 'x'; })() }, '$.user', 'BEAM_ERR_ETF_UNENCODABLE'],
    [{ tags: new Set(['a']) }, '$.tags', 'BEAM_ERR_ETF_UNENCODABLE'],
    [{ when: new Date(NaN) }, '$.when', 'BEAM_ERR_ETF_UNENCODABLE'], // toJSON gives null… then nil: see below
  ];
  for (const [v, path, code] of cases.slice(0, 6)) {
    assert.throws(
      () => encodeJson(v as never),
      (e: unknown) => e instanceof EncodeError && e.code === code && e.path === path && e.message.endsWith(` at ${path}`),
      path,
    );
  }
  // An invalid Date's toJSON is null, as JSON.stringify writes it.
  assert.deepEqual(decodeJson(encodeJson(cases[6][0] as never)), { when: null });
  const cyclic: Record<string, unknown> = { a: { b: [1] } };
  ((cyclic.a as Record<string, unknown>).b as unknown[]).push(cyclic);
  assert.throws(
    () => encodeJson(cyclic as never),
    (e: unknown) => e instanceof EncodeError && e.code === 'BEAM_ERR_ETF_TOO_DEEP' && e.path === '$.a.b[1] (a cycle)',
  );
});

test('lossless encode names the path too: objects, arrays, tuples, Map keys and values, improper tails', () => {
  const cases: [unknown, string][] = [
    [{ items: [1, 2, 3, { at: undefined }] }, '$.items[3].at'],
    [{ user: { name: null } }, '$.user.name'],
    [tuple(atom('ok'), [1, 2, null as unknown as Term]), '${1}[2]'],
    [new Map<unknown, unknown>([['k', 1], [atom('v'), { x: undefined }]]), '$[v].x'],
    [new Map<unknown, unknown>([[undefined, 1]]), '$<key undefined>'],
    [new ImproperList([1], { y: null } as never), '$.tail.y'],
    [null, '$'],
    [[1, 2, 3n, 1.5, NaN], '$[4]'],
  ];
  for (const [v, path] of cases) {
    assert.throws(() => encode(v as Term), (e: unknown) => e instanceof EncodeError && e.path === path && e.message.includes(` at ${path}`), path);
  }
  // encodeInto (the wire's entry) names it as well, and leaves the writer as it was.
  const w = new Writer();
  w.u8(7);
  assert.throws(() => encodeInto(w, { deep: [{ x: undefined }] } as never), (e: unknown) => e instanceof EncodeError && e.path === '$.deep[0].x');
  assert.equal(w.pos, 1);
  // An atom too long is found under minor_version 1 as well.
  assert.throws(() => encode({ a: [atom('x'.repeat(300))] }, { minorVersion: 1 }), (e: unknown) => e instanceof EncodeError && e.code === 'BEAM_ERR_ETF_ATOM_TOO_LONG' && e.path === '$.a[0]');
  // Good values still encode, and the error class keeps no `path` key when there is none.
  assert.ok(encode({ ok: [1, 'two', atom('three')] }).length > 0);
  assert.equal(Object.hasOwn(new EncodeError('BEAM_ERR_ETF_UNENCODABLE', 'x'), 'path'), false);
});

test('toJson: atoms, nil/null, floats, binaries that are not UTF-8, charlists, tuples, pids', () => {
  const pid = new Pid(atom('n@h'), 1, 0, 1);
  const term: Term = new Map<Term, Term>([
    [atom('status'), atom('active')],
    [atom('nil_value'), atom('nil')],
    [atom('null_value'), atom('null')],
    [atom('undefined_value'), atom('undefined')],
    [atom('flags'), [true, false]],
    [atom('float'), new Float(2)],
    [atom('bytes'), Buffer.from([0xff, 0xfe, 0x00])],
    [atom('charlist'), [104, 105]],
    [atom('reply'), tuple(atom('ok'), Buffer.from('done'))],
    [atom('pid'), pid],
    [Buffer.from('bin key'), 1],
    [42, 'int key'],
  ]);
  const j = decodeJson(encode(term)) as Record<string, unknown>;
  assert.equal(j.status, 'active');
  assert.equal(j.nil_value, null);
  assert.equal(j.null_value, null);
  assert.equal(j.undefined_value, 'undefined');
  assert.deepEqual(j.flags, [true, false]);
  assert.ok(Object.is(j.float, 2));
  assert.deepEqual(j.bytes, Buffer.from([0xff, 0xfe, 0x00]));
  assert.deepEqual(j.charlist, [104, 105]);
  assert.deepEqual(j.reply, new Tuple(['ok', 'done']));
  assert.ok(pid.equals(j.pid as Term));
  assert.equal(j['bin key'], 1);
  assert.equal(j['42'], 'int key');
});

test('toJson: maps JSON objects cannot hold stay Maps (tuple keys, :a and "a" both), keys as they came, values converted', () => {
  const tk = toJson(new Map<Term, Term>([[tuple(1, 2), atom('nil')]]));
  assert.ok(tk instanceof Map);
  assert.deepEqual([...tk], [[tuple(1, 2), null]]);
  const both = toJson(new Map<Term, Term>([[atom('a'), 1], [Buffer.from('a'), Buffer.from('x')]]));
  assert.ok(both instanceof Map);
  assert.deepEqual([...both], [[atom('a'), 1], [Buffer.from('a'), 'x']]);
  // '__proto__' is an own key, never the prototype.
  const p = toJson(new Map<Term, Term>([[Buffer.from('__proto__'), new Map<Term, Term>([[atom('polluted'), true]])]])) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.deepEqual(Object.keys(p), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(decodeJson(encodeJson(JSON.parse('{"__proto__": {"x": 1}}'))), JSON.parse('{"__proto__": {"x": 1}}'));
  // Improper lists keep their shape.
  assert.deepEqual(toJson(new ImproperList([atom('a')], Buffer.from('t'))), new ImproperList(['a'], 't'));
});

test('nesting as deep as the decoder allows (10 000) converts both ways without the JS stack', () => {
  let v: Term = atom('nil');
  for (let i = 0; i < 9_999; i++) v = [v];
  let j = decodeJson(encode(v));
  let depth = 0;
  while (Array.isArray(j)) {
    j = j[0];
    depth++;
  }
  assert.equal(depth, 9_999);
  assert.equal(j, null);
  let o: unknown = null;
  for (let i = 0; i < 9_000; i++) o = { a: o };
  assert.ok(encodeJson(o as never).length > 9_000);
});

test('fromJson leaves terms alone: atoms, pids, buffers, tuples (elements converted), Maps', () => {
  const pid = new Pid(atom('n@h'), 3, 0, 1);
  const t = fromJson({ who: pid, tag: atom('ok'), raw: Buffer.from([1, 2]), pair: tuple(null as unknown as Term, 'x'), m: new Map<unknown, unknown>([['k', null]]) } as never);
  const m = t as Map<Term, Term>;
  assert.equal(m.get('who'), pid);
  assert.equal(m.get('tag'), atom('ok'));
  assert.deepEqual(m.get('raw'), Buffer.from([1, 2]));
  assert.deepEqual(m.get('pair'), new Tuple([Atom.of('nil'), 'x']));
  assert.deepEqual([...(m.get('m') as Map<Term, Term>)], [['k', atom('nil')]]);
});
