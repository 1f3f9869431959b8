/**
 * ETF encoding: terms → bytes, as OTP's term_to_binary/2 lays them out (byte for byte, checked
 * against real `erl`): the smallest integer tag, STRING_EXT for short byte lists, NEW_FLOAT_EXT,
 * Latin-1 ATOM_EXT under minor_version 1 and UTF-8 atom tags under 2, small maps sorted by term
 * order. Everything is written into one growable Writer; no allocation per term on the hot path.
 */
import { compressBody } from './compress/compressed.js';
import { EncodeError } from './errors.js';
import { withPath, type EncodeCheck } from './json/path.js';
import { compareTerms, compareText } from './order.js';
import * as T from './tags.js';
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, NativeRecord, Pid, Port, Reference, Tuple, type Encodable, type Term } from './types.js';
import { LAZY_SLOTS, binaryLength, isWireMapClass, wireMapPartsOf, type WireMapParts } from './map/wire-map-parts.js';
import { Writer } from './writer.js';
import {
  FALSE, PACK_FALSE, PACK_NIL, PACK_TRUE, TRUE, atomBytes, writeAtom, writeBigint, writeBinary, writeBinaryBytes, writeBitBinary,
  writeFloat, writeInteger, writeNumber, writePid, writePort, writeRaw, writeReference, writeString, type Ctx,
} from './encode/leaves.js';

export interface EncodeOptions {
  /** 1 (OTP ≤ 25's default): Latin-1 atoms as ATOM_EXT; 2 (OTP 26+'s default): UTF-8 atom tags. Default 2. */
  minorVersion?: 1 | 2;
  /** `true` = zlib level 6 (as `[compressed]`), or a level 0–9 (as `{compressed, N}`). */
  compressed?: boolean | number;
}

/** Deepest nesting the encoder follows before refusing (cycles end here too). */
const MAX_ENCODE_DEPTH = 10_000;
/** OTP keeps small maps (≤ 32 keys) sorted; larger ones are HAMTs in hash order. */
const FLATMAP_MAX = 32;

// ---- containers ----------------------------------------------------------------------------

/** Every element an integer 0..255 (a `bigint` too: `[0n]` is the same list as `[0]`, so OTP's STRING_EXT). */
function isByteList(a: Term[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x === 'number' ? (x & 255) !== x || (x === 0 && 1 / x < 0) : typeof x !== 'bigint' || x < 0n || x > 255n) return false;
  }
  return true;
}

function writeList(c: Ctx, a: Term[]): void {
  const w = c.w;
  const n = a.length;
  if (n === 0) return w.u8(T.NIL_EXT) as unknown as void;
  if (!c.pack && n < 65536 && isByteList(a)) {
    const b = w.room(3 + n);
    let p = w.pos;
    b[p++] = T.STRING_EXT;
    b[p++] = n >>> 8;
    b[p++] = n;
    for (let i = 0; i < n; i++) b[p++] = Number(a[i]);
    w.pos = p;
    return;
  }
  if (c.depth >= RECURSION_MAX) return writeDeep(c, a);
  w.u8(T.LIST_EXT).u32(n);
  enter(c);
  for (let i = 0; i < n; i++) writeTerm(c, a[i]);
  c.depth--;
  w.u8(T.NIL_EXT);
}

function writeImproper(c: Ctx, l: ImproperList): void {
  const n = l.elements.length;
  if (n === 0) return writeTerm(c, l.tail);
  // OTP folds a list-valued tail into the list ([1|[2]] is [1,2]).
  if (Array.isArray(l.tail)) return writeList(c, l.elements.concat(l.tail));
  if (l.tail instanceof ImproperList) return writeImproper(c, new ImproperList(l.elements.concat(l.tail.elements), l.tail.tail));
  if (c.depth >= RECURSION_MAX) return writeDeep(c, l);
  c.w.u8(T.LIST_EXT).u32(n);
  enter(c);
  for (let i = 0; i < n; i++) writeTerm(c, l.elements[i]);
  writeTerm(c, l.tail);
  c.depth--;
}

function writeTuple(c: Ctx, els: Term[]): void {
  if (c.depth >= RECURSION_MAX) return writeDeep(c, new Tuple(els));
  const w = c.w;
  const n = els.length;
  if (n < 256) {
    w.u8(T.SMALL_TUPLE_EXT).u8(n);
  } else {
    w.u8(T.LARGE_TUPLE_EXT).u32(n);
  }
  enter(c);
  for (let i = 0; i < n; i++) writeTerm(c, els[i]);
  c.depth--;
}

const byKey = (x: [Term, Term], y: [Term, Term]): number => compareTerms(x[0], y[0]);
const duplicateKey = () => new EncodeError('BEAM_ERR_ETF_ENCODE_DUPLICATE_KEY', 'two keys of the map are the same Erlang term');

/** A decoded map, in its wire order; the values it has not made yet are written from what decode kept. */
function writeWireMap(c: Ctx, parts: WireMapParts): void {
  const { kv, src, lazy } = parts;
  writeEntries(c, kv, kv.length >>> 1, src, lazy);
}

/**
 * MAP_EXT of `n` entries from `kv` (keys and values interleaved); for bit i of `lazy`, the value is
 * a binary still in `src` (its offset: the bytes are copied straight) or a nested map's entries
 * (an array, its own mask last).
 */
function writeEntries(c: Ctx, kv: readonly Term[], n: number, src: Buffer | undefined, lazy: number): void {
  const w = c.w;
  w.u8(T.MAP_EXT).u32(n);
  enter(c);
  for (let i = 0; i < n; i++) {
    writeTerm(c, kv[2 * i]);
    const v = kv[2 * i + 1];
    if (i >= LAZY_SLOTS || ((lazy >>> i) & 1) === 0) {
      writeTerm(c, v);
    } else if (typeof v === 'number') {
      writeBinaryBytes(w, src!, v, binaryLength(src!, v));
    } else {
      const sub = v as Term[];
      writeEntries(c, sub, (sub.length - 1) >>> 1, src, sub[sub.length - 1] as number);
    }
  }
  c.depth--;
}

function writeMap(c: Ctx, m: Map<Term, Term>): void {
  if (c.depth >= RECURSION_MAX) return writeDeep(c, m);
  const parts = wireMapPartsOf(m);
  if (parts !== undefined) return writeWireMap(c, parts);
  const w = c.w;
  const n = m.size;
  w.u8(T.MAP_EXT).u32(n);
  enter(c);
  if (n <= FLATMAP_MAX && n > 1) {
    // A fresh map: OTP 25's flatmap order (skip the sort when already in order).
    let prev: Term = undefined as unknown as Term;
    let sorted = true;
    let first = true;
    for (const k of m.keys()) {
      if (!first) {
        const d = compareTerms(prev, k);
        if (d === 0) throw duplicateKey();
        if (d > 0) {
          sorted = false;
          break;
        }
      }
      prev = k;
      first = false;
    }
    if (!sorted) {
      const entries = [...m.entries()].sort(byKey);
      // Two distinct JS keys can be one Erlang term (equal bytes in two Buffers): OTP forbids that.
      for (let i = 1; i < entries.length; i++) if (compareTerms(entries[i - 1][0], entries[i][0]) === 0) throw duplicateKey();
      for (const [k, v] of entries) {
        writeTerm(c, k);
        writeTerm(c, v);
      }
      c.depth--;
      return;
    }
  }
  for (const [k, v] of m) {
    writeTerm(c, k);
    writeTerm(c, v);
  }
  c.depth--;
}

// Object keys → encoded atom (encode) bytes; bounded so hostile key sets cannot grow it forever.
const keyCache1 = new Map<string, Buffer>();
const keyCache2 = new Map<string, Buffer>();
const KEY_CACHE_MAX = 4096;

function keyAtom(k: string, minor2: boolean): Buffer {
  const cache = minor2 ? keyCache2 : keyCache1;
  let b = cache.get(k);
  if (b === undefined) {
    b = atomBytes(k, minor2);
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    cache.set(k, b);
  }
  return b;
}

function writeObject(c: Ctx, o: { [key: string]: Term }): void {
  if (c.depth >= RECURSION_MAX) return writeDeep(c, o);
  const w = c.w;
  let keys = Object.keys(o);
  const n = keys.length;
  w.u8(T.MAP_EXT).u32(n);
  enter(c);
  if (c.pack) {
    // erlpack: keys are binaries, in property order.
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      writeString(w, k);
      writeTerm(c, o[k]);
    }
  } else {
    if (n > 1 && n <= FLATMAP_MAX) {
      for (let i = 1; i < n; i++) {
        if (compareText(keys[i - 1], keys[i]) > 0) {
          keys = keys.slice().sort(compareText);
          break;
        }
      }
    }
    const minor2 = c.minor2;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      writeRaw(w, keyAtom(k, minor2));
      writeTerm(c, o[k]);
    }
  }
  c.depth--;
}

function writeFun(c: Ctx, f: Fun): void {
  if (c.depth >= RECURSION_MAX) return writeDeep(c, f);
  const sizeAt = writeFunHead(c, f);
  enter(c);
  for (const v of f.freeVars) writeTerm(c, v);
  c.depth--;
  c.w.patchU32(sizeAt, c.w.pos - sizeAt);
}

/** NEW_FUN_EXT up to its free variables; returns where the Size word goes. */
function writeFunHead(c: Ctx, f: Fun): number {
  const w = c.w;
  w.u8(T.NEW_FUN_EXT);
  const sizeAt = w.reserve(4);
  if (f.uniq.length !== 16) throw new EncodeError('BEAM_ERR_ETF_ENCODE_BAD_FUN', 'Fun.uniq must be 16 bytes');
  w.u8(f.arity).bytes(f.uniq).u32(f.index).u32(f.freeVars.length);
  writeAtom(c, f.module);
  writeInteger(w, f.oldIndex);
  writeInteger(w, f.oldUniq);
  writePid(c, f.pid);
  return sizeAt;
}

function writeRecord(c: Ctx, r: NativeRecord): void {
  if (c.depth >= RECURSION_MAX) return writeDeep(c, r);
  writeRecordHead(c, r);
  enter(c);
  for (let i = 0; i < r.values.length; i++) writeTerm(c, r.values[i]);
  c.depth--;
}

/** RECORD_EXT up to its values: count, flags, module, name and every field name first. */
function writeRecordHead(c: Ctx, r: NativeRecord): void {
  const n = r.fields.length;
  if (r.values.length !== n) throw new EncodeError('BEAM_ERR_ETF_ENCODE_BAD_RECORD', `record with ${n} field names and ${r.values.length} values`);
  if (n > 1 && new Set(r.fields).size !== n) throw new EncodeError('BEAM_ERR_ETF_ENCODE_BAD_RECORD', 'record names a field twice (OTP refuses it)');
  c.w.u8(T.RECORD_EXT).u32(n).u8(r.exported ? 1 : 0);
  writeAtom(c, r.module);
  writeAtom(c, r.name);
  for (let i = 0; i < n; i++) writeAtom(c, r.fields[i]);
}

// ---- deep terms: an explicit stack instead of recursion ------------------------------------

/** Past this many nested containers the encoder stops recursing (the JS stack holds ~2 000). */
const RECURSION_MAX = 500;

/** One open container: the children still to write, and what closes it. */
interface OpenTerm {
  items: Term[];
  i: number;
  nil: boolean;
  sizeAt: number;
}

function entriesInOrder(m: Map<Term, Term>): Term[] {
  let es = [...m.entries()];
  if (es.length <= FLATMAP_MAX && wireMapPartsOf(m) === undefined) es = es.sort(byKey);
  const out: Term[] = [];
  for (const [k, v] of es) out.push(k, v);
  return out;
}

/**
 * Writes the header of container `t` and returns its children, or writes `t` whole and returns
 * undefined when it has none to visit (leaves, byte lists, folded improper lists' leaf tails).
 */
function openTerm(c: Ctx, t: Term): OpenTerm | undefined {
  const w = c.w;
  if (Array.isArray(t)) {
    if (t.length === 0 || (!c.pack && t.length < 65536 && isByteList(t))) {
      writeList(c, t);
      return undefined;
    }
    w.u8(T.LIST_EXT).u32(t.length);
    return { items: t, i: 0, nil: true, sizeAt: -1 };
  }
  if (typeof t !== 'object' || t === null) {
    writeTerm(c, t);
    return undefined;
  }
  const k = t.constructor;
  if (t instanceof Tuple) {
    const n = t.elements.length;
    if (n < 256) w.u8(T.SMALL_TUPLE_EXT).u8(n);
    else w.u8(T.LARGE_TUPLE_EXT).u32(n);
    return { items: t.elements, i: 0, nil: false, sizeAt: -1 };
  }
  if (t instanceof Map) {
    w.u8(T.MAP_EXT).u32(t.size);
    return { items: entriesInOrder(t), i: 0, nil: false, sizeAt: -1 };
  }
  if (t instanceof ImproperList) {
    const els = t.elements;
    if (els.length === 0) return openTerm(c, t.tail);
    if (Array.isArray(t.tail)) return openTerm(c, els.concat(t.tail));
    if (t.tail instanceof ImproperList) return openTerm(c, new ImproperList(els.concat(t.tail.elements), t.tail.tail));
    w.u8(T.LIST_EXT).u32(els.length);
    return { items: [...els, t.tail], i: 0, nil: false, sizeAt: -1 };
  }
  if (t instanceof Fun) return { items: t.freeVars, i: 0, nil: false, sizeAt: writeFunHead(c, t) };
  if (t instanceof NativeRecord) {
    writeRecordHead(c, t);
    return { items: t.values as Term[], i: 0, nil: false, sizeAt: -1 };
  }
  if (k === Object || k === undefined) {
    const o = t as { [key: string]: Term };
    let keys = Object.keys(o);
    if (!c.pack && keys.length <= FLATMAP_MAX) keys = keys.sort(compareText);
    w.u8(T.MAP_EXT).u32(keys.length);
    const items: Term[] = [];
    for (const key of keys) items.push(c.pack ? key : Atom.of(key), o[key]);
    return { items, i: 0, nil: false, sizeAt: -1 };
  }
  writeTerm(c, t);
  return undefined;
}

function writeDeep(c: Ctx, root: Term): void {
  const stack: OpenTerm[] = [];
  let t = root;
  for (;;) {
    const open = openTerm(c, t);
    if (open !== undefined) {
      enter(c);
      stack.push(open);
    }
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return;
      if (top.i < top.items.length) {
        t = top.items[top.i++];
        break;
      }
      stack.pop();
      c.depth--;
      if (top.nil) c.w.u8(T.NIL_EXT);
      if (top.sizeAt >= 0) c.w.patchU32(top.sizeAt, c.w.pos - top.sizeAt);
    }
  }
}

function writeExport(c: Ctx, f: ExportFun): void {
  c.w.u8(T.EXPORT_EXT);
  writeAtom(c, f.module);
  writeAtom(c, f.function);
  c.w.u8(T.SMALL_INTEGER_EXT).u8(f.arity);
}

function enter(c: Ctx): void {
  if (++c.depth > MAX_ENCODE_DEPTH) {
    throw new EncodeError('BEAM_ERR_ETF_TOO_DEEP', `terms nested deeper than ${MAX_ENCODE_DEPTH} (or a cycle)`);
  }
}

function refuse(t: unknown): never {
  const what = t === null ? 'null' : typeof t === 'object' ? `a ${(t as object).constructor?.name ?? 'null-prototype'} object` : typeof t;
  throw new EncodeError('BEAM_ERR_ETF_UNENCODABLE', `${what} has no Erlang term${t == null ? ' (say which atom: atom("undefined"), atom("nil"))' : ''}`);
}

function writeTerm(c: Ctx, t: Term): void {
  switch (typeof t) {
    case 'string':
      return writeString(c.w, t);
    case 'number':
      return writeNumber(c, t);
    case 'boolean':
      if (c.pack) return writeRaw(c.w, t ? PACK_TRUE : PACK_FALSE);
      return writeAtom(c, t ? TRUE : FALSE);
    case 'bigint':
      return writeBigint(c.w, t);
    case 'object': {
      if (t === null) {
        if (c.pack) return writeRaw(c.w, PACK_NIL);
        return refuse(t);
      }
      if (Array.isArray(t)) return writeList(c, t);
      const k = t.constructor;
      if (k === Object || k === undefined) return writeObject(c, t as { [key: string]: Term });
      if (k === Atom) return writeAtom(c, t as Atom);
      if (k === Tuple) return writeTuple(c, (t as Tuple).elements);
      if (k === Map || isWireMapClass(k)) return writeMap(c, t as Map<Term, Term>);
      if (t instanceof Uint8Array) return writeBinary(c.w, t);
      if (t instanceof Float) return writeFloat(c.w, t.value);
      if (t instanceof Atom) return writeAtom(c, t);
      if (t instanceof Tuple) return writeTuple(c, t.elements);
      if (t instanceof Map) return writeMap(c, t);
      if (t instanceof Pid) return writePid(c, t);
      if (t instanceof Reference) return writeReference(c, t);
      if (t instanceof Port) return writePort(c, t);
      if (t instanceof ImproperList) return writeImproper(c, t);
      if (t instanceof BitBinary) return writeBitBinary(c.w, t);
      if (t instanceof Fun) return writeFun(c, t);
      if (t instanceof ExportFun) return writeExport(c, t);
      if (t instanceof NativeRecord) return writeRecord(c, t);
      return refuse(t);
    }
    case 'undefined':
      if (c.pack) return writeRaw(c.w, PACK_NIL);
      return refuse(t);
    default:
      return refuse(t);
  }
}

function run(c: Ctx, t: Term): void {
  const start = c.w.pos;
  try {
    writeTerm(c, t);
  } catch (e) {
    c.w.pos = start;
    if (e instanceof EncodeError) throw c.pack ? e : withPath(e, t, checkEncode, 'term', c.minor2 ? 2 : 1);
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new EncodeError('BEAM_ERR_ETF_TOO_DEEP', 'terms nested deeper than the JS stack allows', { cause: e });
    }
    throw new EncodeError('BEAM_ERR_ETF_UNENCODABLE', `cannot encode: ${(e as Error).message}`, { cause: e });
  }
}

const shared = new Writer(64 * 1024);
let sharedBusy = false;

function withWriter<R>(f: (w: Writer) => R): R {
  // encode() may be re-entered from a getter/toJSON; only the outer call uses the shared writer.
  if (sharedBusy) return f(new Writer());
  sharedBusy = true;
  try {
    return f(shared);
  } finally {
    sharedBusy = false;
    // Do not keep a huge scratch buffer alive after one big encode.
    shared.release(8 * 1024 * 1024, 64 * 1024);
  }
}

function levelOf(compressed: boolean | number | undefined): number {
  if (compressed === undefined || compressed === false) return 0;
  if (compressed === true) return 6;
  if (!Number.isInteger(compressed) || compressed < 0 || compressed > 9) {
    throw new EncodeError('BEAM_ERR_ETF_BAD_OPTION', `compressed level ${compressed} (0–9)`);
  }
  return compressed;
}

/** For the path search after a failure (json/path.ts): encode one value alone. */
const checkEncode: EncodeCheck = (t, minorVersion) => void encode(t, { minorVersion });

/** `131` + the term, as `term_to_binary(T, [{minor_version, V}] ++ [compressed])`. */
export function encode(term: Encodable, opts?: EncodeOptions): Buffer {
  const minor2 = opts?.minorVersion !== 1;
  const level = levelOf(opts?.compressed);
  return withWriter((w) => {
    const c: Ctx = { w, minor2, pack: false, depth: 0 };
    const t = term as Term; // read-only arrays and maps are arrays and maps at run time
    if (level === 0) {
      w.u8(T.VERSION);
      run(c, t);
      return w.take();
    }
    run(c, t);
    return compressBody(w.view(), level);
  });
}

/** Appends `131` + the term (never compressed) to `w`, with UTF-8 atoms (as on the wire). */
export function encodeInto(w: Writer, term: Term): void {
  const start = w.pos;
  w.u8(T.VERSION);
  try {
    run({ w, minor2: true, pack: false, depth: 0 }, term);
  } catch (e) {
    w.pos = start; // leave the writer as it was: no stray version byte
    throw e;
  }
}

/** Appends the term without `131` (after a distribution header). */
export function encodeBodyInto(w: Writer, term: Term): void {
  run({ w, minor2: true, pack: false, depth: 0 }, term);
}

/** erlpack's `pack`: same JS mapping, same bytes, and our term classes besides. */
export function packTerm(value: unknown): Buffer {
  return withWriter((w) => {
    w.u8(T.VERSION);
    run({ w, minor2: true, pack: true, depth: 0 }, value as Term);
    return w.take();
  });
}
