/**
 * WireMap: the `Map` that decode gives for an Erlang map.
 *
 * Why not a plain `Map`: building one hash table per map, plus one `Buffer` object per binary
 * value, all kept alive until the decode ends, was most of the cost of decoding a burst of
 * gateway-style events (the garbage collector copying them, not the parsing; see
 * benchmarks/etf/RESULTS.md). A WireMap keeps its entries in one flat array in wire order, and a
 * binary value stays a position in the input until it is read: `get()` and iteration hand out a
 * `Buffer` view of the input then, as decode would have (a new view on each read, over the same
 * bytes). A map that is a value in a map is decoded into its entries, and gets its WireMap object
 * (kept) when first read. Nothing else is deferred: decode has checked every byte, and built every
 * other term, so a read cannot fail.
 *
 * It is still a `Map` (instanceof, TypeScript type, `for…of`, `get`, `set`, `delete`, `size`,
 * `assert.deepStrictEqual`, `util.inspect`). Its native table holds only a guard entry, so a
 * structured clone (`structuredClone`, `postMessage`, `v8.serialize`) fails loudly instead of
 * copying an empty map: send `toMap()`, or the encoded bytes, instead.
 *
 * Lookups use Erlang's equality, not object identity: `m.get('id')` and `m.get(Buffer.from('id'))`
 * both find the binary key `<<"id">>`, `m.get(tuple(1, 2))` finds the key `{1, 2}`.
 */
import { bytesEqual, lookupKey, termEquals } from '../equal.js';
import { encode } from '../encode.js';
import { Atom, type Term } from '../types.js';
import { binaryLength, LAZY_SLOTS, registerWireMap, SCAN_MAX } from './wire-map-parts.js';

export { LAZY_SLOTS, SCAN_MAX, binaryLength } from './wire-map-parts.js';

const CLONE_GUARD = Symbol('beamnode WireMap (a decoded Erlang map) cannot be structured-cloned: send wireMap.toMap(), or its encoded bytes');
const NO_ENTRIES: Term[] = [];
const encodeKey = (t: Term): Uint8Array => encode(t);

let makeWireMap: (kv: Term[], src: Buffer | undefined, lazy: number, index: Map<unknown, number> | undefined) => WireMap;

export class WireMap extends Map<Term, Term> {
  #kv: Term[] = NO_ENTRIES;
  #src: Buffer | undefined = undefined;
  #lazy = 0;
  /** For maps bigger than SCAN_MAX: lookupKey → entry index. Built on first use, dropped on change. */
  #index: Map<unknown, number> | undefined = undefined;

  /** A map of these entries, in this order (encode writes a WireMap in its own order, never sorted). */
  constructor(entries?: Iterable<readonly [Term, Term]> | null) {
    super();
    Map.prototype.set.call(this, CLONE_GUARD, undefined);
    if (entries != null) for (const [k, v] of entries) this.set(k, v);
  }

  static {
    makeWireMap = (kv, src, lazy, index) => {
      const m = new WireMap();
      m.#kv = kv;
      m.#src = src;
      m.#lazy = lazy;
      m.#index = index;
      return m;
    };
    registerWireMap(WireMap, (m) => ({ kv: (m as WireMap).#kv, src: (m as WireMap).#src, lazy: (m as WireMap).#lazy }));
  }

  override get size(): number {
    return this.#kv.length >>> 1;
  }

  override get(key: Term): Term | undefined {
    const i = this.#find(key);
    return i < 0 ? undefined : this.#value(i);
  }

  override has(key: Term): boolean {
    return this.#find(key) >= 0;
  }

  override set(key: Term, value: Term): this {
    const i = this.#find(key);
    if (i >= 0) {
      this.#kv[2 * i + 1] = value;
      if (i < LAZY_SLOTS) this.#lazy &= ~(1 << i);
      return this;
    }
    if (this.#kv === NO_ENTRIES) this.#kv = [];
    this.#index?.set(lookupKey(key, encodeKey), this.#kv.length >>> 1);
    this.#kv.push(key, value);
    return this;
  }

  override delete(key: Term): boolean {
    const i = this.#find(key);
    if (i < 0) return false;
    this.#kv.splice(2 * i, 2);
    if (i < LAZY_SLOTS) {
      // entries after i move down one place, and so do their bits
      const below = this.#lazy & ((1 << i) - 1);
      this.#lazy = below | ((this.#lazy >>> (i + 1)) << i);
    }
    this.#index = undefined;
    return true;
  }

  override clear(): void {
    this.#kv = NO_ENTRIES;
    this.#lazy = 0;
    this.#src = undefined;
    this.#index = undefined;
  }

  override forEach(fn: (value: Term, key: Term, map: Map<Term, Term>) => void, thisArg?: unknown): void {
    const kv = this.#kv;
    for (let i = 0; 2 * i < kv.length; i++) fn.call(thisArg, this.#value(i), kv[2 * i], this);
  }

  /**
   * entries(), keys(), values() and for…of walk a snapshot of the map taken when they start (a
   * Map's own iterators would also see entries added meanwhile): an array's iterator, which V8
   * steps through far faster than a hand-written one.
   */
  override entries(): MapIterator<[Term, Term]> {
    const kv = this.#kv;
    const out = new Array<[Term, Term]>(kv.length >>> 1);
    for (let i = 0; i < out.length; i++) out[i] = [kv[2 * i], this.#value(i)];
    return out[Symbol.iterator]() as MapIterator<[Term, Term]>;
  }

  override keys(): MapIterator<Term> {
    const kv = this.#kv;
    const out = new Array<Term>(kv.length >>> 1);
    for (let i = 0; i < out.length; i++) out[i] = kv[2 * i];
    return out[Symbol.iterator]() as MapIterator<Term>;
  }

  override values(): MapIterator<Term> {
    const out = new Array<Term>(this.#kv.length >>> 1);
    for (let i = 0; i < out.length; i++) out[i] = this.#value(i);
    return out[Symbol.iterator]() as MapIterator<Term>;
  }

  override [Symbol.iterator](): MapIterator<[Term, Term]> {
    return this.entries();
  }

  /** A plain `Map` of the same entries in the same order (binary values read into views). */
  toMap(): Map<Term, Term> {
    return new Map(this.entries());
  }

  /** util.inspect / console.log: shown like a Map. */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return `WireMap${inspect(this.toMap(), options).replace(/^Map/, '')}`;
  }

  #value(i: number): Term {
    const v = this.#kv[2 * i + 1];
    if (i < LAZY_SLOTS && ((this.#lazy >>> i) & 1) !== 0) {
      if (typeof v === 'number') return binaryAt(this.#src!, v);
      // a nested map, decoded into its entries (its mask last): its WireMap now, kept from now on
      const kv = v as Term[];
      const mask = kv[kv.length - 1] as number;
      kv.length -= 1;
      const m = makeWireMap(kv, mask === 0 ? undefined : this.#src, mask, undefined);
      this.#kv[2 * i + 1] = m;
      this.#lazy &= ~(1 << i);
      return m;
    }
    return v;
  }

  /** The entry index of `key` (by Erlang equality), or -1. */
  #find(key: Term): number {
    const kv = this.#kv;
    const n = kv.length;
    if (n > 2 * SCAN_MAX) {
      this.#index ??= indexKeys(kv, n >>> 1);
      return this.#index.get(lookupKey(key, encodeKey)) ?? -1;
    }
    // identity first: atoms are interned, so are decoded binary keys of up to 32 bytes
    // (but 0 === -0, and the number -0 is the float -0.0: another key than the integer 0)
    if (key !== 0) for (let j = 0; j < n; j += 2) if (kv[j] === key) return j >>> 1;
    if (typeof key === 'boolean' || key instanceof Atom) return -1;
    if (typeof key === 'string') key = Buffer.from(key, 'utf8');
    for (let j = 0; j < n; j += 2) if (sameKey(kv[j], key)) return j >>> 1;
    return -1;
  }
}

/** Creates a decoded WireMap (the decoder's constructor). */
export const wireMapFromDecode = (kv: Term[], src: Buffer | undefined, lazy: number, index: Map<unknown, number> | undefined): WireMap =>
  makeWireMap(kv, src, lazy, index);

/**
 * A view of the unread binary at `off`. Its length is read from the input now, as its bytes are:
 * an input reused after decode changes both (so, as for every view, do not reuse the input).
 */
function binaryAt(src: Buffer, off: number): Buffer {
  return src.subarray(off, off + binaryLength(src, off));
}

/**
 * Two decoded keys are the same Erlang term (the decoder's duplicate check): like sameKey, but a
 * string (an atom or binary decoded as text) is only equal to the same string.
 */
export function sameWireKey(a: Term, b: Term): boolean {
  if (a === b) return typeof a !== 'number' || Object.is(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a instanceof Atom || b instanceof Atom) return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b);
  return termEquals(a, b);
}

/** Two map keys are the same Erlang term (keys that are not === ; byte arrays compared inline). */
function sameKey(a: Term, b: Term): boolean {
  if (a === b) return typeof a !== 'number' || Object.is(a, b); // 0 and -0 (a float) differ
  if (a instanceof Uint8Array) return b instanceof Uint8Array ? bytesEqual(a, b) : typeof b === 'string' && termEquals(a, b);
  if (typeof a !== 'object' && typeof b !== 'object') return typeof a === 'string' || typeof b === 'string' || typeof a === 'bigint' || typeof b === 'bigint' ? termEquals(a, b) : false;
  return termEquals(a, b);
}

/** lookupKey → entry index of the first `n` keys (the first of two equal keys). */
function indexKeys(kv: readonly Term[], n: number): Map<unknown, number> {
  const index = new Map<unknown, number>();
  for (let i = 0; i < n; i++) {
    const k = lookupKey(kv[2 * i], encodeKey);
    if (!index.has(k)) index.set(k, i);
  }
  return index;
}

/** Adds key `k` (entry `i`) to a decode's index; false when an equal key is already there. */
export function indexAdd(index: Map<unknown, number>, k: Term, i: number): boolean {
  const lk = lookupKey(k, encodeKey);
  if (index.has(lk)) return false;
  index.set(lk, i);
  return true;
}
