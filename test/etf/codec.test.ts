import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atom, Atom, BitBinary, decode, decodeAt, decodeBodyAt, encode, encodeBodyInto, encodeInto, ExportFun, Float, Fun, ImproperList, Pid, Port,
  Reference, EncodeError, Tuple, tuple, unpack, WireMap, Writer, type Term,
} from '../../src/etf/index.js';
import { OTP25_VECTORS } from './vectors.js';

const hex = (s: string) => Buffer.from(s, 'hex');

for (const [name, h] of OTP25_VECTORS) {
  test(`OTP 25 vector ${name}: decode → encode gives the same bytes`, () => {
    const bytes = hex(h);
    const term = decode(bytes);
    const compressed = name === 'COMPRESSED';
    // The plain vectors were made with minor_version 1 unless they say 2 (OTP 25's default is 1).
    const minor = /minor 2|SMALL_ATOM_UTF8_EXT abc|true|LIST_EXT$|SMALL_TUPLE|MAP_EXT|PID|PORT|REFERENCE|FUN|COMPRESSED|EMOJI|255 emoji/.test(name) ? 2 : 1;
    assert.deepEqual(encode(term, { minorVersion: name.includes('(minor 1)') ? 1 : minor, compressed }), bytes);
  });
}

const vec = (name: string): Buffer => hex(OTP25_VECTORS.find(([n]) => n === name)![1]);

test('integers decode to numbers, past 2^53 to bigints', () => {
  assert.equal(decode(vec('SMALL_INTEGER_EXT 42')), 42);
  assert.equal(decode(vec('INTEGER_EXT -1')), -1);
  assert.equal(decode(vec('INTEGER_EXT min')), -2147483648);
  assert.equal(decode(vec('SMALL_BIG_EXT 2^31')), 2147483648);
  assert.equal(decode(vec('SMALL_BIG_EXT -2^64')), -(2n ** 64n));
  assert.equal(decode(vec('LARGE_BIG_EXT 2^2048')), 2n ** 2048n);
  assert.equal(decode(encode(2 ** 53 - 1)), 2 ** 53 - 1);
  assert.equal(decode(encode(2n ** 53n)), 2n ** 53n);
  assert.equal(decode(encode(-(2n ** 53n) + 1n)), -(2 ** 53) + 1);
});

test('integer tags are the ones OTP picks', () => {
  assert.deepEqual([...encode(255)], [131, 97, 255]);
  assert.deepEqual([...encode(256)], [131, 98, 0, 0, 1, 0]);
  assert.deepEqual([...encode(-2147483649)], [131, 110, 4, 1, 1, 0, 0, 128]);
  assert.deepEqual([...encode(2147483648n)], [131, 110, 4, 0, 0, 0, 0, 128]);
  assert.deepEqual([...encode(5n)], [131, 97, 5]);
  assert.deepEqual([...encode(1e20)], [...encode(10n ** 20n)]);
});

test('floats: integral ones (-0.0 too) are Float boxes, NaN/Infinity refused', () => {
  const one = decode(vec('NEW_FLOAT_EXT 1.0'));
  assert.ok(one instanceof Float);
  assert.equal(+one, 1);
  assert.equal(decode(vec('NEW_FLOAT_EXT 1.5')), 1.5);
  const negZero = decode(vec('NEW_FLOAT_EXT -0.0'));
  assert.ok(negZero instanceof Float && Object.is(negZero.value, -0));
  assert.deepEqual(encode(negZero), vec('NEW_FLOAT_EXT -0.0'));
  assert.deepEqual(encode(-0), vec('NEW_FLOAT_EXT -0.0'));
  assert.ok(Object.is(unpack(vec('NEW_FLOAT_EXT -0.0')), -0)); // erlpack's mapping: a plain number
  // #{-0.0 => a, 0.0 => b, 0 => c} (OTP 27+: three keys): they stay three keys, in wire order
  const keys = Buffer.from([131, 116, 0, 0, 0, 3, 97, 0, 119, 1, 99, 70, 128, 0, 0, 0, 0, 0, 0, 0, 119, 1, 97, 70, 0, 0, 0, 0, 0, 0, 0, 0, 119, 1, 98]);
  const m = decode(keys) as Map<Term, Term>;
  assert.equal(m.size, 3);
  assert.deepEqual(encode(m), keys);
  assert.deepEqual(encode(new Float(1)), vec('NEW_FLOAT_EXT 1.0'));
  assert.throws(() => encode(NaN), { code: 'BEAM_ERR_ETF_ENCODE_BAD_FLOAT' });
  assert.throws(() => encode(Infinity), { code: 'BEAM_ERR_ETF_ENCODE_BAD_FLOAT' });
  // old FLOAT_EXT: 31 bytes of "%.20e"
  const old = Buffer.alloc(33);
  old[0] = 131;
  old[1] = 99;
  old.write('1.50000000000000000000e+00', 2, 'latin1');
  assert.equal(decode(old), 1.5);
});

test('atoms: interned, booleans, Latin-1 under minor 1, UTF-8 otherwise', () => {
  assert.equal(decode(vec('ATOM_EXT abc (minor 1)')), atom('abc'));
  assert.equal(decode(vec('SMALL_ATOM_UTF8_EXT abc (minor 2)')), atom('abc'));
  assert.equal(decode(vec('ATOM_EXT late-acute (minor 1)')), atom('laté'));
  assert.equal(decode(vec('SMALL_ATOM_UTF8_EXT atom-ring-euro (minor 1)')), atom('åtom€'));
  assert.equal(decode(vec('true')), true);
  assert.equal(decode(encode(false)), false);
  assert.equal((decode(vec('ATOM_UTF8_EXT 255 emoji')) as Atom).name, '😀'.repeat(255));
  assert.deepEqual([...encode(atom('abc'))], [131, 119, 3, 97, 98, 99]);
  assert.deepEqual([...encode(atom('abc'), { minorVersion: 1 })], [131, 100, 0, 3, 97, 98, 99]);
  assert.throws(() => encode(atom('x'.repeat(256))), { code: 'BEAM_ERR_ETF_ATOM_TOO_LONG' });
  assert.equal(decode(encode(atom('hello')), { atomsAsStrings: true }), 'hello');
});

test('lists, strings, improper lists', () => {
  assert.deepEqual(decode(vec('NIL_EXT')), []);
  assert.deepEqual(decode(vec('STRING_EXT')), [...Buffer.from('hello')]);
  assert.deepEqual(decode(vec('LIST_EXT')), [1, 300, atom('a')]);
  const imp = decode(vec('LIST_EXT improper'));
  assert.ok(imp instanceof ImproperList);
  assert.deepEqual(imp.elements, [1, 2]);
  assert.equal(imp.tail, 3);
  // STRING_EXT only below 65536 elements, as OTP
  assert.equal(encode(new Array(65535).fill(1))[1], 107);
  assert.equal(encode(new Array(65536).fill(1))[1], 108);
  assert.equal(encode([1, -0])[1], 108, '-0 is a float, not a byte');
});

test('binaries are zero-copy views unless copyBinaries; strings encode as UTF-8 binaries', () => {
  const bytes = vec('BINARY_EXT');
  const view = decode(bytes) as Buffer;
  assert.deepEqual([...view], [98, 105, 110, 0, 255]);
  const copy = decode(bytes, { copyBinaries: true }) as Buffer;
  assert.deepEqual(copy, view);
  bytes[6] = 0x42; // the view sees the input change, the copy does not
  assert.equal(view[0], 0x42);
  assert.equal(copy[0], 98);
  assert.deepEqual(decode(encode('héllo 🎉')), Buffer.from('héllo 🎉'));
  assert.equal(decode(encode('héllo 🎉'), { binariesAsStrings: true }), 'héllo 🎉');
  assert.equal(decode(encode(new Uint8Array([1, 2]))).constructor, Buffer);
});

test('bitstrings', () => {
  const b = decode(vec('BIT_BINARY_EXT'));
  assert.ok(b instanceof BitBinary);
  assert.equal(b.bits, 3);
  assert.equal(b.bitLength, 11);
  assert.deepEqual(encode(new BitBinary(Buffer.from([255, 0xff]), 3)), vec('BIT_BINARY_EXT'), 'unused bits zeroed');
});

test('tuples and maps', () => {
  const t = decode(vec('SMALL_TUPLE_EXT'));
  assert.ok(t instanceof Tuple);
  assert.deepEqual(t.elements, [atom('ok'), 1]);
  assert.equal((decode(vec('LARGE_TUPLE_EXT')) as Tuple).length, 256);
  const m = decode(vec('MAP_EXT')) as Map<Term, Term>;
  assert.deepEqual([...m.keys()], [atom('a'), Buffer.from('b')]);
  assert.deepEqual(decode(vec('MAP_EXT'), { mapsAsObjects: true, binariesAsStrings: true }), { a: 1, b: [2] });
  // fresh maps: OTP 25's flatmap order (integers before floats, then atoms, …)
  const fresh = new Map<Term, Term>([[atom('a'), 1], [new Float(1), atom('a')], [1, atom('b')]]);
  const keys = [...(decode(encode(fresh)) as Map<Term, Term>).keys()];
  assert.equal(keys[0], 1);
  assert.ok(keys[1] instanceof Float);
  assert.equal(keys[2], atom('a'));
  assert.deepEqual(encode({ b: 1, a: 2 }), encode(new Map<Term, Term>([[atom('a'), 2], [atom('b'), 1]])));
  // a decoded map keeps its wire order even when that is not term order (OTP 26+ atom order)
  const wire = Buffer.from([131, 116, 0, 0, 0, 2, 119, 1, 98, 97, 1, 119, 1, 97, 97, 2]);
  assert.deepEqual(encode(decode(wire)), wire);
  const decoded = decode(wire);
  assert.ok(decoded instanceof WireMap && decoded instanceof Map);
  // a copy into a fresh Map is sorted again; a key added to a WireMap goes last
  assert.deepEqual(encode(new Map(decoded)), Buffer.from([131, 116, 0, 0, 0, 2, 119, 1, 97, 97, 2, 119, 1, 98, 97, 1]));
  decoded.set(atom('0'), 3);
  assert.deepEqual([...decoded.keys()], [atom('b'), atom('a'), atom('0')]);
  // the explicit-stack decoder (past 500 levels) makes WireMaps too
  let deep: Term = decode(wire);
  for (let i = 0; i < 600; i++) deep = [deep];
  let inner = decode(encode(deep));
  for (let i = 0; i < 600; i++) inner = (inner as Term[])[0];
  assert.ok(inner instanceof WireMap);
  assert.deepEqual(encode(inner), wire);
});

test('short binary map keys are shared copies; duplicate binary keys are refused', () => {
  const bytes = encode(new Map<Term, Term>([[Buffer.from('id'), 1], [Buffer.from('name'), Buffer.from('x')]]));
  const a = decode(bytes) as Map<Term, Term>;
  const b = decode(Buffer.from(bytes)) as Map<Term, Term>;
  const [ka] = a.keys();
  const [kb] = b.keys();
  assert.equal(ka, kb); // the same Buffer object
  assert.deepEqual(ka, Buffer.from('id'));
  // a copy, not a view: reusing the input buffer leaves the key alone (values stay views)
  const input = Buffer.from(bytes);
  const c = decode(input) as Map<Term, Term>;
  const value = c.get('name') as Buffer;
  input.fill(0);
  assert.deepEqual([...c.keys()], [Buffer.from('id'), Buffer.from('name')]);
  assert.deepEqual(value, Buffer.alloc(1));
  // long keys are views as before
  const long = Buffer.alloc(40, 7);
  const [kl] = (decode(encode(new Map<Term, Term>([[long, 1]]))) as Map<Term, Term>).keys();
  assert.notEqual(kl, long);
  assert.deepEqual(kl, long);
  // #{<<"id">> => 1, <<"id">> => 2} is not a map OTP would write
  const dup = Buffer.from([131, 116, 0, 0, 0, 2, 109, 0, 0, 0, 2, 105, 100, 97, 1, 109, 0, 0, 0, 2, 105, 100, 97, 2]);
  assert.throws(() => decode(dup), { code: 'BEAM_ERR_ETF_DUPLICATE_KEY' });
  // maxTerms counts interned keys
  assert.throws(() => decode(bytes, { limits: { maxTerms: 2 } }), { code: 'BEAM_ERR_ETF_LIMIT_TERMS' });
});

test('pids, ports, references, funs', () => {
  const pid = decode(vec('NEW_PID_EXT'));
  assert.ok(pid instanceof Pid);
  assert.equal(pid.node, atom('nonode@nohost'));
  const port = decode(vec('NEW_PORT_EXT'));
  assert.ok(port instanceof Port && !port.v4);
  const ref = decode(vec('NEWER_REFERENCE_EXT'));
  assert.ok(ref instanceof Reference);
  assert.equal(ref.ids.length, 3);
  assert.ok(ref.equals(decode(vec('NEWER_REFERENCE_EXT'))));
  const ex = decode(vec('EXPORT_EXT'));
  assert.ok(ex instanceof ExportFun);
  assert.equal(String(ex), 'fun lists:reverse/1');
  const fun = decode(vec('NEW_FUN_EXT'));
  assert.ok(fun instanceof Fun);
  assert.equal(fun.module, atom('erl_eval'));
  assert.equal(fun.freeVars.length, 1);
  // V4_PORT_EXT: a 64-bit id, and the tag is kept on re-encode
  const v4 = new Port(atom('n@h'), 2n ** 40n + 5n, 3);
  assert.ok(v4.v4);
  assert.equal(encode(v4)[1], 120);
  const back = decode(encode(v4)) as Port;
  assert.equal(back.id, 2 ** 40 + 5);
  assert.equal(encode(back)[1], 120);
  const small = new Port(atom('n@h'), 5, 3, true);
  assert.deepEqual(encode(decode(encode(small))), encode(small));
  assert.equal(encode(small)[1], 120);
  // legacy tags still decode
  const oldPid = Buffer.from([131, 103, 119, 3, 97, 64, 98, 0, 0, 0, 1, 0, 0, 0, 2, 3]);
  assert.ok((decode(oldPid) as Pid).equals(new Pid(atom('a@b'), 1, 2, 3)));
  const oldRef = Buffer.from([131, 114, 0, 1, 119, 3, 97, 64, 98, 3, 0, 0, 0, 9]);
  assert.ok((decode(oldRef) as Reference).equals(new Reference(atom('a@b'), 3, [9])));
  const oldPort = Buffer.from([131, 102, 119, 3, 97, 64, 98, 0, 0, 0, 7, 3]);
  assert.ok((decode(oldPort) as Port).equals(new Port(atom('a@b'), 7, 3)));
});

test('ATOM_CACHE_REF resolves through opts.atomCache', () => {
  const cache = [atom('zero'), atom('one')];
  assert.deepEqual(decodeBodyAt(Buffer.from([104, 2, 82, 1, 82, 0]), 0, { atomCache: cache }).term, tuple(atom('one'), atom('zero')));
  assert.throws(() => decodeBodyAt(Buffer.from([82, 5]), 0, { atomCache: cache }), { code: 'BEAM_ERR_ETF_ATOM_CACHE', offset: 0 });
});

test('decodeAt walks several terms in one buffer; decodeBodyAt reads terms without 131', () => {
  const buf = Buffer.concat([Buffer.from([9, 9]), encode(1), encode(atom('x')), vec('COMPRESSED'), encode('z')]);
  let at = 2;
  const out: Term[] = [];
  while (at < buf.length) {
    const r = decodeAt(buf, at);
    out.push(r.term);
    at = r.end;
  }
  assert.equal(out.length, 4);
  assert.equal(out[1], atom('x'));
  assert.equal((out[2] as Term[]).length, 100);
  assert.deepEqual(out[3], Buffer.from('z'));
  assert.deepEqual(decodeBodyAt(Buffer.from([0, 97, 5, 106]), 1), { term: 5, end: 3 });
});

test('Writer: encodeInto/encodeBodyInto append; reserve/patchU32/take', () => {
  const w = new Writer(4);
  const lenAt = w.reserve(4);
  w.u8(112);
  encodeInto(w, tuple(atom('a'), 'bin'));
  encodeBodyInto(w, 7);
  w.patchU32(lenAt, w.length - 4);
  const frame = w.take();
  assert.equal(w.length, 0);
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  const r = decodeAt(frame, 5);
  assert.deepEqual(r.term, tuple(atom('a'), Buffer.from('bin')));
  assert.equal(decodeBodyAt(frame, r.end).term, 7);
});

test('compressed encode: level 6 by default, only when not longer, {compressed: N}', () => {
  assert.deepEqual(encode(new Array(100).fill(atom('abc')), { compressed: true }), vec('COMPRESSED'));
  const small = encode([1, 2, 3], { compressed: true });
  assert.deepEqual(small, encode([1, 2, 3]), 'kept plain: compression would make it longer');
  const big = Array.from({ length: 500 }, (_, i) => tuple(atom('k'), i % 7));
  assert.equal(encode(big, { compressed: 9 })[1], 80);
  assert.deepEqual(decode(encode(big, { compressed: 1 })), decode(encode(big)));
  assert.throws(() => encode(1, { compressed: 10 }), { code: 'BEAM_ERR_ETF_BAD_OPTION' });
});

test('unencodable values are refused with EncodeError', () => {
  for (const v of [null, undefined, Symbol('x'), () => 1, new Date(), new Set([1])]) {
    assert.throws(() => encode(v as unknown as Term), { code: 'BEAM_ERR_ETF_UNENCODABLE' });
  }
  const cyclic: Term[] = [];
  cyclic.push(cyclic);
  assert.throws(() => encode(cyclic), { code: 'BEAM_ERR_ETF_TOO_DEEP' });
  assert.throws(() => encode(new Reference(atom('a@b'), 1, [])), { code: 'BEAM_ERR_ETF_ENCODE_BAD_REFERENCE' });
  // a failed encode leaves the shared writer clean for the next one
  assert.deepEqual([...encode(1)], [131, 97, 1]);
});

test('mapsAsObjects: repeated shapes, "__proto__" keys and duplicates', () => {
  const bytes = encode(new Map<Term, Term>([[Buffer.from('__proto__'), 1], [Buffer.from('a'), [2]]]));
  for (let i = 0; i < 4; i++) {
    const o = decode(bytes, { mapsAsObjects: true, binariesAsStrings: true }) as { [k: string]: Term };
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(Object.keys(o), ['__proto__', 'a']);
    assert.equal(o['__proto__'], 1);
  }
  const dup = Buffer.from([131, 116, 0, 0, 0, 2, 109, 0, 0, 0, 1, 97, 97, 1, 119, 1, 97, 97, 2]);
  for (let i = 0; i < 4; i++) {
    assert.throws(() => decode(dup, { mapsAsObjects: true, binariesAsStrings: true }), { code: 'BEAM_ERR_ETF_DUPLICATE_KEY' });
  }
  const nested = encode({ a: { a: { b: 1 } }, b: [{ a: 1 }, { a: 2, b: 3 }] });
  for (let i = 0; i < 4; i++) {
    assert.deepEqual(decode(nested, { mapsAsObjects: true, atomsAsStrings: true }), { a: { a: { b: 1 } }, b: [{ a: 1 }, { a: 2, b: 3 }] });
  }
});

test('a JS Map whose keys are one Erlang term twice (equal bytes in two Buffers) is refused, as OTP forbids duplicate map keys', () => {
  for (const m of [
    new Map<Term, Term>([[Buffer.from('a'), 1], [Buffer.from('a'), 2]]),
    new Map<Term, Term>([[Buffer.from('b'), 1], [Buffer.from('a'), 2], [Buffer.from('b'), 3]]),
  ]) {
    assert.throws(() => encode(m), (e: unknown) => e instanceof EncodeError && e.code === 'BEAM_ERR_ETF_ENCODE_DUPLICATE_KEY');
  }
});

test('an atom that starts with U+FEFF keeps it (TextDecoder strips a BOM unless told not to)', () => {
  for (const name of ['\uFEFF', '\uFEFFok', 'a\uFEFF']) {
    for (const minorVersion of [1, 2] as const) {
      const bytes = encode(atom(name), { minorVersion });
      assert.equal(decode(bytes), atom(name));
      assert.deepEqual(encode(decode(bytes), { minorVersion }), bytes);
    }
  }
  // as a map key and in a binary decoded as text too
  assert.equal((decode(encode(new Map<Term, Term>([[atom('\uFEFFk'), 1]]))) as Map<Term, Term>).get(atom('\uFEFFk')), 1);
  assert.equal(decode(encode(Buffer.from('\uFEFFx')), { binariesAsStrings: true }), '\uFEFFx');
});

test('a list of small bigints is a byte list too (STRING_EXT, as OTP writes [0, 255])', () => {
  assert.deepEqual(encode([0n, 255n]), encode([0, 255]));
  assert.deepEqual(encode([0n, 255n]), Buffer.from([131, 107, 0, 2, 0, 255]));
  assert.deepEqual(encode([256n]), encode([256]));
  assert.deepEqual(encode([-1n]), encode([-1]));
});
