// WireMap, the Map decode gives for an Erlang map: flat entries, binary values read on demand,
// lookups by Erlang equality, duplicate keys refused, and encode writing it back byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { atom, decode, encode, Float, termEquals, tuple, WireMap, type Term } from '../../src/etf/index.js';
import { binarySlot } from '../../src/etf/intern.js';

const bin = (s: string) => Buffer.from(s, 'utf8');
/** MAP_EXT bytes of these already-encoded keys and values (no sorting: the order given). */
function mapBytes(entries: [Term, Term][]): Buffer {
  const head = Buffer.from([131, 116, 0, 0, 0, 0]);
  head.writeUInt32BE(entries.length, 2);
  return Buffer.concat([head, ...entries.flatMap(([k, v]) => [encode(k).subarray(1), encode(v).subarray(1)])]);
}

test('a decoded map is a WireMap and a Map; binary values are Buffers read from the input', () => {
  const bytes = mapBytes([[bin('id'), bin('1234')], [atom('op'), 0], [bin('content'), bin('héllo')], [bin('tags'), [bin('a')]]]);
  const m = decode(bytes) as WireMap;
  assert.ok(m instanceof WireMap && m instanceof Map);
  assert.equal(m.size, 4);
  assert.deepEqual([...m.keys()], [bin('id'), atom('op'), bin('content'), bin('tags')]);
  const id = m.get(bin('id'));
  assert.ok(Buffer.isBuffer(id));
  assert.equal((id as Buffer).toString(), '1234');
  assert.equal((id as Buffer).buffer, bytes.buffer, 'a view of the input, as decode gave before');
  assert.deepEqual(m.get('content'), bin('héllo'));
  assert.deepEqual([...m.values()], [bin('1234'), 0, bin('héllo'), [bin('a')]]);
  const seen: [Term, Term][] = [];
  m.forEach((v, k, map) => {
    assert.equal(map, m);
    seen.push([k, v]);
  });
  assert.deepEqual(seen, [...m.entries()]);
  assert.deepEqual(new Map(m), m.toMap());
  // the same bytes back, also after every value was read
  assert.deepEqual(encode(m), bytes);
});

test('get/has find keys by Erlang equality: strings and Buffers for binaries, tuples, floats apart from integers', () => {
  const long = bin('k'.repeat(40)); // longer than the interned keys
  const m = decode(mapBytes([
    [bin('id'), 1], [long, 2], [tuple(atom('a'), 1), 3], [new Float(1), 4], [1, 5], [2n ** 70n, 6], [atom('id'), 7], [[1, 2], 8],
  ])) as WireMap;
  assert.equal(m.get('id'), 1);
  assert.equal(m.get(bin('id')), 1);
  assert.equal(m.get(atom('id')), 7, 'the atom id is another key than the binary');
  assert.equal(m.get('k'.repeat(40)), 2);
  assert.equal(m.get(Buffer.from(long)), 2);
  assert.equal(m.get(tuple(atom('a'), 1)), 3);
  assert.equal(m.get(new Float(1)), 4);
  assert.equal(m.get(1), 5);
  assert.equal(m.get(2n ** 70n), 6);
  assert.equal(m.get([1, 2]), 8);
  assert.equal(m.has('nope'), false);
  assert.equal(m.get(tuple(atom('a'), 2)), undefined);
  assert.equal(m.get(-0), undefined, '-0 is the float -0.0, not the integer 0');
  // and the other way round (0 === -0 in JS; found by the model test below)
  const z = new WireMap([[-0, atom('float')], [0, atom('int')]]);
  assert.equal(z.size, 2);
  assert.equal(z.get(0), atom('int'));
  assert.equal(z.get(-0), atom('float'));
  assert.equal(z.get(new Float(-0)), atom('float'));
});

test('maps of more than 32 keys are looked up through an index, also after changes', () => {
  const entries: [Term, Term][] = [];
  for (let i = 0; i < 100; i++) entries.push([i % 2 === 0 ? bin(`key${i}`) : tuple(atom('k'), i), i]);
  const m = decode(mapBytes(entries)) as WireMap;
  assert.equal(m.size, 100);
  for (let i = 0; i < 100; i++) assert.equal(m.get(i % 2 === 0 ? `key${i}` : tuple(atom('k'), i)), i);
  m.set('key200', 200);
  assert.equal(m.get(bin('key200')), 200);
  assert.equal(m.delete(tuple(atom('k'), 1)), true);
  assert.equal(m.get(tuple(atom('k'), 1)), undefined);
  assert.equal(m.get('key2'), 2);
  assert.equal(m.size, 100);
});

test('set, delete and clear keep unread values right and encode in the map order', () => {
  const m = decode(mapBytes([[bin('a'), bin('A')], [bin('b'), bin('BB')], [bin('c'), bin('CCC')], [bin('d'), 4]])) as WireMap;
  assert.equal(m.delete('a'), true);
  assert.deepEqual([...m], [[bin('b'), bin('BB')], [bin('c'), bin('CCC')], [bin('d'), 4]]);
  m.set('c', 3); // replaces an unread binary with a number
  assert.equal(m.get('c'), 3);
  m.set(atom('e'), bin('E'));
  assert.deepEqual(decode(encode(m)), m);
  assert.deepEqual(encode(m), mapBytes([[bin('b'), bin('BB')], [bin('c'), 3], [bin('d'), 4], [atom('e'), bin('E')]]));
  assert.equal(m.delete('zz'), false);
  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual(encode(m), Buffer.from([131, 116, 0, 0, 0, 0]));
  // a WireMap made by hand is written in its own order, never sorted
  const fresh = new WireMap([[atom('z'), 1], [atom('a'), 2]]);
  assert.deepEqual(encode(fresh), mapBytes([[atom('z'), 1], [atom('a'), 2]]));
});

test('iterators walk a snapshot taken when they start, and stay done', () => {
  const m = decode(mapBytes([[atom('a'), bin('x')], [atom('b'), 2]])) as WireMap;
  const it = m.entries();
  assert.deepEqual(it.next(), { done: false, value: [atom('a'), bin('x')] });
  m.set(atom('c'), 3);
  m.delete(atom('b'));
  assert.deepEqual(it.next(), { done: false, value: [atom('b'), 2] });
  assert.equal(it.next().done, true);
  assert.equal(it.next().done, true);
  assert.deepEqual([...m.keys()], [atom('a'), atom('c')]);
  assert.deepEqual([...m.values()], [bin('x'), 3]);
  // deleting while walking is safe (the walk does not skip or repeat entries)
  for (const [k] of m) m.delete(k);
  assert.equal(m.size, 0);
});

test('deepStrictEqual compares contents; inspect shows entries; structuredClone refuses loudly, toMap() clones', () => {
  const bytes = mapBytes([[bin('id'), bin('1')], [atom('n'), 2]]);
  assert.deepStrictEqual(decode(bytes), decode(Buffer.from(bytes)));
  assert.notDeepStrictEqual(decode(bytes), decode(mapBytes([[bin('id'), bin('2')], [atom('n'), 2]])));
  assert.match(inspect(decode(bytes)), /^WireMap\(2\) \{[^]*<Buffer 69 64> => <Buffer 31>/);
  assert.throws(() => structuredClone(decode(bytes)), (e: Error) => e.name === 'DataCloneError' && /toMap\(\)/.test(e.message));
  const copy = structuredClone((decode(bytes) as WireMap).toMap());
  assert.equal(copy.size, 2);
});

test('unread values are views of the input; copyBinaries and binariesAsStrings read at once', () => {
  const bytes = mapBytes([[atom('k'), bin('abc')]]);
  const input = Buffer.from(bytes);
  const lazy = decode(input) as WireMap;
  const copied = decode(input, { copyBinaries: true }) as WireMap;
  const text = decode(input, { binariesAsStrings: true }) as WireMap;
  input[input.length - 1] = 0x43;
  assert.deepEqual(lazy.get(atom('k')), bin('abC'), 'a view of the input, as documented: do not reuse the input');
  input.fill(0);
  assert.deepEqual(copied.get(atom('k')), bin('abc'));
  assert.equal(text.get(atom('k')), 'abc');
});

test('duplicate keys are refused by Erlang equality: long binaries, tuples, big maps, evicted cache slots', () => {
  const dup = (entries: [Term, Term][]) => assert.throws(() => decode(mapBytes(entries)), { code: 'BEAM_ERR_ETF_DUPLICATE_KEY' });
  const long = 'x'.repeat(40);
  dup([[bin(long), 1], [bin(long), 2]]);
  dup([[tuple(1, bin('a')), 1], [atom('b'), 2], [tuple(1, bin('a')), 3]]);
  dup([[new Float(2), 1], [new Float(2), 2]]);
  const big: [Term, Term][] = [];
  for (let i = 0; i < 40; i++) big.push([bin(`k${i}`), i]);
  dup([...big, [bin('k7'), 0]]);
  dup([...big, [tuple(1), 0], [tuple(1), 1]]);
  // not duplicates: the integer 1 and the float 1.0, the atom a and the binary "a"
  assert.equal((decode(mapBytes([[1, 1], [new Float(1), 2], [atom('a'), 3], [bin('a'), 4]])) as WireMap).size, 4);
  // two short keys that share a cache slot: the second evicts the first, so a repeat of the
  // first is a new Buffer with the same bytes, and must still count as a duplicate
  const first = bin('id');
  let other: Buffer | undefined;
  for (let i = 0; i < 1_000_000 && other === undefined; i++) {
    const c = bin(`c${i}`);
    if (binarySlot(c) === binarySlot(first)) other = c;
  }
  assert.ok(other !== undefined, 'found a key for the same slot');
  dup([[first, 1], [other, 2], [bin('id'), 3]]);
});

test('maps past the recursion limit (explicit-stack decoder) are WireMaps too, with lookups and duplicate checks', () => {
  let t: Term = atom('leaf');
  for (let i = 0; i < 700; i++) t = new Map<Term, Term>([[bin('next'), t], [bin('n'), i]]);
  const d = decode(encode(t)) as WireMap;
  let cur: Term = d;
  for (let i = 699; i >= 0; i--) {
    assert.ok(cur instanceof WireMap);
    assert.equal(cur.get('n'), i);
    cur = cur.get('next') as Term;
  }
  assert.equal(cur, atom('leaf'));
  let bad: Buffer = Buffer.from([131, 116, 0, 0, 0, 2, 109, 0, 0, 0, 1, 97, 97, 1, 109, 0, 0, 0, 1, 97, 97, 2]);
  for (let i = 0; i < 600; i++) bad = Buffer.concat([Buffer.from([131, 108, 0, 0, 0, 1]), bad.subarray(1), Buffer.from([106])]);
  assert.throws(() => decode(bad), { code: 'BEAM_ERR_ETF_DUPLICATE_KEY' });
});

test('termEquals: a string is its UTF-8 binary, a plain object the map of its atom keys', () => {
  assert.ok(termEquals('héllo', bin('héllo')));
  assert.ok(!termEquals('a', atom('a')));
  assert.ok(termEquals({ a: 1, b: bin('x') }, new Map<Term, Term>([[atom('b'), 'x'], [atom('a'), 1]])));
  assert.ok(termEquals(decode(encode({ a: 1 })), { a: 1 }));
  assert.ok(!termEquals({ a: 1 }, new Map<Term, Term>([[bin('a'), 1]])));
});

test('fast-check: a decoded WireMap answers get/has like the map it was encoded from, through sets and deletes', async () => {
  const fc = (await import('fast-check')).default;
  const { leafArb, termArb } = await import('./arbitraries.js');
  const keyArb = fc.oneof(leafArb, fc.string({ maxLength: 40 }).map((s) => bin(s)), termArb);
  const opArb = fc.tuple(fc.boolean(), keyArb, termArb);
  fc.assert(
    fc.property(fc.array(fc.tuple(keyArb, termArb), { maxLength: 45 }), fc.array(opArb, { maxLength: 10 }), (pairs, ops) => {
      // the model: entries in order, keys unique by Erlang equality (the first one wins)
      const model: [Term, Term][] = [];
      const find = (k: Term) => model.findIndex(([mk]) => termEquals(mk, k));
      for (const [k, v] of pairs) if (find(k) < 0) model.push([k, v]);
      const m = decode(encode(new WireMap(model))) as WireMap;
      for (const [del, k, v] of ops) {
        const i = find(k);
        if (del) {
          assert.equal(m.delete(k), i >= 0);
          if (i >= 0) model.splice(i, 1);
        } else {
          m.set(k, v);
          if (i >= 0) model[i][1] = v;
          else model.push([k, v]);
        }
      }
      assert.equal(m.size, model.length);
      for (const [k, v] of model) {
        assert.ok(m.has(k));
        assert.ok(termEquals(m.get(k) as Term, v), 'the value of each key');
      }
      assert.deepEqual(encode(m), encode(new WireMap(model)), 'the same bytes as a map built in that order');
    }),
    { numRuns: 300 },
  );
});

test('a map inside a map gets its WireMap when first read, then keeps it; encode writes it either way', () => {
  const inner = (v: Term) => new Map<Term, Term>([[bin('id'), v], [atom('flag'), true]]);
  const bytes = encode(new Map<Term, Term>([[atom('a'), inner(bin('1'))], [atom('b'), [inner(bin('2'))]], [atom('c'), inner(bin('3'))]]));
  const m = decode(bytes) as WireMap;
  assert.deepEqual(encode(m), bytes, 'nothing read yet');
  const a = m.get(atom('a')) as WireMap;
  assert.ok(a instanceof WireMap);
  assert.equal(m.get(atom('a')), a, 'the same object on every read');
  assert.deepEqual(a.get('id'), bin('1'));
  a.set('id', 99);
  assert.equal((m.get(atom('a')) as WireMap).get('id'), 99, 'a change to it stays');
  const list = m.get(atom('b')) as WireMap[];
  assert.ok(list[0] instanceof WireMap, 'maps in lists are made at decode');
  assert.deepEqual([...m.values()].map((v) => v instanceof WireMap || Array.isArray(v)), [true, true, true]);
  assert.deepEqual(decode(encode(m)), decode(encode(new Map<Term, Term>([[atom('a'), inner(99)], [atom('b'), [inner(bin('2'))]], [atom('c'), inner(bin('3'))]]))));
  // duplicate keys inside a nested map are found at decode, not when it is read
  const dupInner = mapBytes([[bin('x'), 1], [bin('x'), 2]]).subarray(1);
  const outer = Buffer.concat([Buffer.from([131, 116, 0, 0, 0, 1, 119, 1, 0x6b]), dupInner]);
  assert.throws(() => decode(outer), { code: 'BEAM_ERR_ETF_DUPLICATE_KEY' });
});

test('maps nested in maps count against maxDepth and maxTerms, and stay within the JS stack past 500 levels', () => {
  let t: Term = 1;
  for (let i = 0; i < 2000; i++) t = new Map<Term, Term>([[atom('m'), t]]);
  const bytes = encode(t);
  assert.throws(() => decode(bytes, { limits: { maxDepth: 100 } }), { code: 'BEAM_ERR_ETF_LIMIT_DEPTH' });
  assert.throws(() => decode(bytes, { limits: { maxTerms: 50 } }), { code: 'BEAM_ERR_ETF_LIMIT_TERMS' });
  const d = decode(bytes) as WireMap;
  assert.deepEqual(encode(d), bytes);
  let cur: Term = d;
  for (let i = 0; i < 2000; i++) cur = (cur as WireMap).get(atom('m')) as Term;
  assert.equal(cur, 1);
});
