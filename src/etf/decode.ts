/**
 * ETF decoding: bytes → terms. One Decoder (a Reader) walks the input with an integer offset;
 * every length is checked against the bytes left before anything is allocated, and nesting is
 * bounded (maxDepth) so hostile input cannot blow the JS stack.
 */
import { inflateCompressed } from './compress/compressed.js';
import { binaryEvictions, internAtom, internBinary, internString } from './intern.js';
import { objectFromShape } from './shapes.js';
import { DecodeError, LimitError } from './errors.js';
import { Reader } from './reader.js';
import * as T from './tags.js';
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, NativeRecord, Pid, Port, Reference, Tuple, type Term } from './types.js';
import { LAZY_SLOTS, SCAN_MAX, indexAdd, sameWireKey, wireMapFromDecode, type WireMap } from './map/wire-map.js';
import { BeamnodeError } from '../errors.js';

export interface DecodeLimits {
  /** Deepest nesting of tuples/lists/maps/funs (default 10 000). */
  maxDepth: number;
  /** Largest size a COMPRESSED term may inflate to, in bytes (default 64 MiB). */
  maxInflatedSize: number;
  /** Most terms (every integer, atom, element…) one decode may produce (default: unlimited). */
  maxTerms: number;
}

export interface DecodeOptions {
  /** The connection's atom cache, for ATOM_CACHE_REF (82) after a distribution header. */
  atomCache?: readonly (Atom | undefined)[];
  /** Binaries become strings (UTF-8, invalid bytes replaced by U+FFFD) instead of Buffers. */
  binariesAsStrings?: boolean;
  /** Maps become plain objects (keys by their text) instead of `Map`s. */
  mapsAsObjects?: boolean;
  /** Atoms (other than true/false) become strings instead of `Atom`s. */
  atomsAsStrings?: boolean;
  /** Binaries are copied out of the input (default: zero-copy views into it). */
  copyBinaries?: boolean;
  limits?: Partial<DecodeLimits>;
}

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = {
  maxDepth: 10_000,
  maxInflatedSize: 64 * 1024 * 1024,
  maxTerms: Number.POSITIVE_INFINITY,
};

const EMPTY_OPTIONS: DecodeOptions = {};

/** unpack(): erlpack's JS mapping (tuples as arrays, nil/null as null, big integers as text…). */
export interface CompatOptions extends DecodeOptions {
  erlpack?: boolean;
}
const TWO_32 = 4294967296;

class Decoder extends Reader {
  depth = 0;
  terms = 0;
  readonly maxDepth: number;
  readonly maxTerms: number;
  readonly maxInflated: number;
  readonly atomCache: readonly (Atom | undefined)[] | undefined;
  readonly binStrings: boolean;
  readonly mapObjects: boolean;
  readonly atomStrings: boolean;
  readonly copyBins: boolean;
  readonly compat: boolean;
  /** The last mapKey() came from the intern cache (so compares by identity). */
  keyInterned = false;

  constructor(buf: Uint8Array, pos: number, o: CompatOptions) {
    super(buf, pos);
    const l = o.limits;
    this.maxDepth = l?.maxDepth ?? DEFAULT_LIMITS.maxDepth;
    this.maxTerms = l?.maxTerms ?? DEFAULT_LIMITS.maxTerms;
    this.maxInflated = l?.maxInflatedSize ?? DEFAULT_LIMITS.maxInflatedSize;
    this.atomCache = o.atomCache;
    this.binStrings = o.binariesAsStrings === true;
    this.mapObjects = o.mapsAsObjects === true;
    this.atomStrings = o.atomsAsStrings === true;
    this.copyBins = o.copyBinaries === true;
    this.compat = o.erlpack === true;
    if (this.compat) {
      this.binStrings = this.mapObjects = this.atomStrings = true;
    }
  }

  /** A decoder over inflated bytes that shares this one's options and counters. */
  child(buf: Buffer): Decoder {
    const d = new Decoder(buf, 0, EMPTY_OPTIONS);
    Object.assign(d, {
      maxDepth: this.maxDepth, maxTerms: this.maxTerms, maxInflated: this.maxInflated, atomCache: this.atomCache,
      binStrings: this.binStrings, mapObjects: this.mapObjects, atomStrings: this.atomStrings, copyBins: true, compat: this.compat,
    });
    d.depth = this.depth;
    d.terms = this.terms;
    return d;
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      throw new LimitError('maxDepth', this.maxDepth, `terms nested deeper than maxDepth ${this.maxDepth}`, this.pos);
    }
  }

  /** Throws unless `count` items of at least `min` bytes each can still follow. */
  claim(count: number, min: number, what: string, at: number): void {
    if (count * min > this.end - this.pos) {
      throw new DecodeError('BEAM_ERR_ETF_TRUNCATED', `${what} claims ${count} elements, only ${this.end - this.pos} bytes left`, at);
    }
  }

  term(): Term {
    if (++this.terms > this.maxTerms) {
      throw new LimitError('maxTerms', this.maxTerms, `more than maxTerms ${this.maxTerms} terms`, this.pos);
    }
    const b = this.buf;
    const at = this.pos;
    if (at >= this.end) this.need(1, 'term tag');
    const tag = b[at];
    this.pos = at + 1;
    switch (tag) {
      case T.SMALL_INTEGER_EXT:
        if (at + 2 > this.end) this.need(1, 'SMALL_INTEGER_EXT');
        this.pos = at + 2;
        return b[at + 1];
      case T.INTEGER_EXT:
        return this.i32();
      case T.NEW_FLOAT_EXT:
        return this.compat ? this.f64() : floatTerm(this.f64());
      case T.SMALL_ATOM_UTF8_EXT:
      case T.ATOM_UTF8_EXT:
      case T.ATOM_EXT:
      case T.SMALL_ATOM_EXT:
      case T.ATOM_CACHE_REF:
        this.pos = at;
        return this.atomTerm();
      case T.BINARY_EXT: {
        const n = this.u32();
        if (this.pos + n > this.end) this.need(n, 'BINARY_EXT');
        if (this.binStrings) return this.utf8Lossy(n);
        if (this.copyBins) return Buffer.from(this.view(n));
        return this.view(n);
      }
      case T.MAP_EXT:
        return this.map(at);
      case T.NIL_EXT:
        return [];
      case T.LIST_EXT:
        return this.list(at);
      case T.SMALL_TUPLE_EXT:
        return this.tuple(this.u8(), at);
      case T.LARGE_TUPLE_EXT:
        return this.tuple(this.u32(), at);
      case T.STRING_EXT: {
        const n = this.u16();
        if (this.pos + n > this.end) this.need(n, 'STRING_EXT');
        const out = new Array<number>(n);
        const p = this.pos;
        for (let i = 0; i < n; i++) out[i] = b[p + i];
        this.pos = p + n;
        return out;
      }
      case T.SMALL_BIG_EXT:
        return this.big(this.u8());
      case T.LARGE_BIG_EXT:
        return this.big(this.u32());
      case T.BIT_BINARY_EXT: {
        const n = this.u32();
        const bits = this.u8();
        if (this.pos + n > this.end) this.need(n, 'BIT_BINARY_EXT');
        if (n === 0 ? bits !== 0 && bits !== 8 : bits < 1 || bits > 8) {
          throw new DecodeError('BEAM_ERR_ETF_BAD_BITS', `BIT_BINARY_EXT with ${bits} bits in the last of ${n} bytes`, at);
        }
        const data = this.copyBins ? Buffer.from(this.view(n)) : this.view(n);
        return bits === 8 || n === 0 ? data : new BitBinary(data, bits);
      }
      case T.NEW_PID_EXT:
      case T.PID_EXT:
        this.pos = at;
        return this.pid();
      case T.NEWER_REFERENCE_EXT:
      case T.NEW_REFERENCE_EXT: {
        const len = this.u16();
        if (len < 1 || len > 5) throw new DecodeError('BEAM_ERR_ETF_BAD_REFERENCE', `reference with ${len} id words`, at);
        const node = this.atom();
        const creation = tag === T.NEWER_REFERENCE_EXT ? this.u32() : this.u8();
        this.need(4 * len, 'reference ids');
        const ids = new Array<number>(len);
        for (let i = 0; i < len; i++) ids[i] = this.u32();
        return new Reference(node, creation, ids);
      }
      case T.REFERENCE_EXT: {
        const node = this.atom();
        const id = this.u32();
        return new Reference(node, this.u8(), [id]);
      }
      case T.NEW_PORT_EXT:
      case T.V4_PORT_EXT:
      case T.PORT_EXT: {
        const node = this.atom();
        let id: number | bigint;
        if (tag === T.V4_PORT_EXT) {
          const hi = this.u32();
          const lo = this.u32();
          id = hi < 0x200000 ? hi * TWO_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
        } else {
          id = this.u32();
        }
        return new Port(node, id, tag === T.PORT_EXT ? this.u8() : this.u32(), tag === T.V4_PORT_EXT);
      }
      case T.NEW_FUN_EXT:
        return this.fun(at);
      case T.RECORD_EXT:
        return this.record(at);
      case T.EXPORT_EXT: {
        const module = this.atom();
        const fn = this.atom();
        const arityAt = this.pos;
        const arity = this.term();
        if (typeof arity !== 'number' || arity < 0 || arity > 255) {
          throw new DecodeError('BEAM_ERR_ETF_BAD_FUN', 'EXPORT_EXT arity is not a small integer', arityAt);
        }
        return new ExportFun(module, fn, arity);
      }
      case T.FLOAT_EXT: {
        this.need(31, 'FLOAT_EXT');
        const text = this.latin1(31);
        const nul = text.indexOf('\0');
        const s = (nul < 0 ? text : text.slice(0, nul)).trim();
        const f = Number(s);
        if (s === '' || !Number.isFinite(f)) throw new DecodeError('BEAM_ERR_ETF_BAD_FLOAT', 'FLOAT_EXT is not a number', at);
        return floatTerm(f);
      }
      case T.COMPRESSED:
        throw new DecodeError('BEAM_ERR_ETF_BAD_COMPRESSED', 'COMPRESSED (80) is only valid right after the version byte', at);
      case T.LOCAL_EXT:
        throw new DecodeError(
          'BEAM_ERR_ETF_LOCAL_EXT',
          'LOCAL_EXT (121): a term_to_binary(T, [local]) encoding, decodable only by the Erlang runtime that made it',
          at,
        );
      case T.FUN_EXT:
        throw new DecodeError('BEAM_ERR_ETF_BAD_TAG', 'FUN_EXT (117) is obsolete (not decoded since OTP 23)', at);
      default:
        throw new DecodeError('BEAM_ERR_ETF_BAD_TAG', `unknown term tag ${tag}`, at);
    }
  }

  /** An atom term: true/false become booleans; atomsAsStrings gives strings. */
  atomTerm(): Term {
    const a = this.atom();
    const name = a.name;
    if (name.length === 4 && name === 'true') return true;
    if (name.length === 5 && name === 'false') return false;
    if (this.compat && (name === 'nil' || name === 'null')) return null as unknown as Term;
    return this.atomStrings ? name : a;
  }

  /** An atom in any of its encodings (the node of a pid, a module…). */
  atom(): Atom {
    const at = this.pos;
    if (at >= this.end) this.need(1, 'atom tag');
    const tag = this.buf[at];
    this.pos = at + 1;
    let n: number;
    let utf8: boolean;
    switch (tag) {
      case T.SMALL_ATOM_UTF8_EXT:
        n = this.u8();
        utf8 = true;
        break;
      case T.ATOM_UTF8_EXT:
        n = this.u16();
        utf8 = true;
        break;
      case T.ATOM_EXT:
        n = this.u16();
        utf8 = false;
        break;
      case T.SMALL_ATOM_EXT:
        n = this.u8();
        utf8 = false;
        break;
      case T.ATOM_CACHE_REF: {
        const i = this.u8();
        const a = this.atomCache?.[i];
        if (a === undefined) throw new DecodeError('BEAM_ERR_ETF_ATOM_CACHE', `ATOM_CACHE_REF ${i} is not in the atom cache`, at);
        return a;
      }
      default:
        throw new DecodeError('BEAM_ERR_ETF_BAD_ATOM', `expected an atom, got tag ${tag} (${T.TAG_NAMES[tag] ?? 'unknown'})`, at);
    }
    if (this.pos + n > this.end) this.need(n, 'atom text');
    try {
      const cached = internAtom(this.buf, this.pos, n);
      if (cached !== undefined) {
        this.pos += n;
        return cached;
      }
      const name = utf8 ? this.utf8Strict(n) : this.latin1(n);
      if (n > 255 && [...name].length > 255) {
        throw new DecodeError('BEAM_ERR_ETF_BAD_ATOM', `atom of ${[...name].length} characters (OTP allows 255)`, at);
      }
      return Atom.of(name);
    } catch (e) {
      // The atom table is full (Atom.of): the same error, with the atom's offset.
      if (e instanceof LimitError && e.code === 'BEAM_ERR_ETF_LIMIT_ATOMS') throw new LimitError('maxAtoms', e.max, e.message, at);
      throw e;
    }
  }

  tuple(arity: number, at: number): Term {
    this.claim(arity, 1, 'tuple', at);
    if (this.depth >= RECURSION_MAX) return this.deep(at);
    this.enter();
    const els = new Array<Term>(arity);
    for (let i = 0; i < arity; i++) els[i] = this.term();
    this.depth--;
    return this.compat ? els : new Tuple(els);
  }

  list(at: number): Term {
    const n = this.u32();
    this.claim(n + 1, 1, 'LIST_EXT', at);
    if (this.depth >= RECURSION_MAX) return this.deep(at);
    this.enter();
    const els = new Array<Term>(n);
    for (let i = 0; i < n; i++) els[i] = this.term();
    let out: Term;
    if (this.pos < this.end && this.buf[this.pos] === T.NIL_EXT) {
      this.pos++;
      this.terms++;
      out = els;
    } else {
      out = withTail(els, this.term());
    }
    this.depth--;
    return out;
  }

  map(at: number): Term {
    const n = this.u32();
    this.claim(n, 2, 'MAP_EXT', at);
    if (this.depth >= RECURSION_MAX) return this.deep(at);
    this.enter();
    if (this.mapObjects) return this.object(n);
    return this.mapEntries(n, false) as WireMap;
  }

  /**
   * The entries of a map of `n` entries (its header read), as a WireMap; or, when `nested` (the
   * map is a value in another map), as its key/value array with the unread-values mask appended,
   * which the parent WireMap turns into a WireMap when the value is first read (see WireMap).
   */
  mapEntries(n: number, nested: boolean): WireMap | Term[] {
    const b = this.buf;
    const kv = new Array<Term>(nested ? 2 * n + 1 : 2 * n);
    // binary values stay unread (see WireMap) unless they must be copied out or become strings
    const lazyOk = !this.binStrings && !this.copyBins;
    let lazy = 0;
    let index: Map<unknown, number> | undefined;
    const evictions = binaryEvictions;
    let allCanonical = true;
    for (let i = 0; i < n; i++) {
      const kAt = this.pos;
      this.keyInterned = false;
      const k = this.mapKey(kAt);
      if (n > SCAN_MAX) {
        index = indexKey(index, k, i, kAt);
      } else if (allCanonical && (this.keyInterned || typeof k !== 'object' || k instanceof Atom)) {
        // the usual case: keys equal as terms are the same JS value
        for (let j = 0; j < 2 * i; j += 2) if (kv[j] === k) throw duplicateKey(kAt);
      } else {
        allCanonical = false;
        scanKey(kv, k, i, kAt);
      }
      kv[2 * i] = k;
      const p = this.pos;
      if (lazyOk && i < LAZY_SLOTS && b[p] === T.BINARY_EXT && p + 5 <= this.end && p < OFFSET_MAX) {
        const len = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        if (p + 5 + len <= this.end) {
          if (++this.terms > this.maxTerms) {
            throw new LimitError('maxTerms', this.maxTerms, `more than maxTerms ${this.maxTerms} terms`, p);
          }
          kv[2 * i + 1] = p + 5; // where the bytes start; the length is just before them
          lazy |= 1 << i;
          this.pos = p + 5 + len;
          continue;
        }
      } else if (lazyOk && i < LAZY_SLOTS && b[p] === T.MAP_EXT && p + 5 <= this.end && this.depth < RECURSION_MAX - 1) {
        const m = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        if (m > 0 && m <= SCAN_MAX) {
          // a map in a map: its entries now, its WireMap when it is read
          if (++this.terms > this.maxTerms) {
            throw new LimitError('maxTerms', this.maxTerms, `more than maxTerms ${this.maxTerms} terms`, p);
          }
          this.pos = p + 5;
          this.claim(m, 2, 'MAP_EXT', p);
          this.enter();
          kv[2 * i + 1] = this.mapEntries(m, true);
          lazy |= 1 << i;
          continue;
        }
      }
      kv[2 * i + 1] = this.term();
    }
    // a cached key was replaced meanwhile: equal keys may be two Buffers, compare bytes after all
    if (allCanonical && binaryEvictions !== evictions && n > 1 && n <= SCAN_MAX) {
      for (let i = 1; i < n; i++) scanKey(kv, kv[2 * i], i, this.pos);
    }
    this.depth--;
    if (nested) {
      kv[2 * n] = lazy;
      return kv;
    }
    return wireMapFromDecode(kv, lazy === 0 ? undefined : b, lazy, index);
  }

  /**
   * A map key. Short binary keys (Elixir/JSON-style field names, the same in every message) are
   * shared Buffers from a cache (see internBinary): a third of a gateway event's terms are such
   * keys, and one Buffer object each was most of what the GC had to copy.
   */
  mapKey(kAt: number): Term {
    const b = this.buf;
    if (kAt + 5 <= this.end && b[kAt] === T.BINARY_EXT && !this.binStrings) {
      const len = ((b[kAt + 1] << 24) | (b[kAt + 2] << 16) | (b[kAt + 3] << 8) | b[kAt + 4]) >>> 0;
      if (kAt + 5 + len <= this.end) {
        const k = internBinary(b, kAt + 5, len);
        if (k !== undefined) {
          this.keyInterned = true;
          if (++this.terms > this.maxTerms) {
            throw new LimitError('maxTerms', this.maxTerms, `more than maxTerms ${this.maxTerms} terms`, kAt);
          }
          this.pos = kAt + 5 + len;
          return k;
        }
      }
    }
    return this.term();
  }

  /**
   * mapsAsObjects: keys and values go to a shared scratch stack, then the object is made in one
   * step by a per-shape factory (see shapes.ts), or key by key when the shape is new.
   */
  object(n: number): Term {
    const keys = scratchKeys;
    const vals = scratchVals;
    const start = scratchTop;
    scratchTop += n;
    try {
      for (let i = 0; i < n; i++) {
        keys[start + i] = this.objectKeyAt(this.pos);
        vals[start + i] = this.term();
      }
      let o = objectFromShape(keys, vals, start, n) as { [key: string]: Term } | undefined;
      if (o === undefined) {
        o = {};
        for (let i = 0; i < n; i++) this.mapSet(o, keys[start + i], vals[start + i], this.pos);
      }
      this.depth--;
      return o;
    } finally {
      // drop references so the scratch stack does not keep decoded terms alive
      for (let i = start; i < start + n; i++) vals[i] = undefined as unknown as Term;
      scratchTop = start;
    }
  }

  /** A key for mapsAsObjects; short binary keys (erlpack/Elixir style) come from a cache. */
  objectKeyAt(kAt: number): string {
    const b = this.buf;
    if (this.binStrings && kAt + 5 <= this.end && b[kAt] === T.BINARY_EXT) {
      const len = ((b[kAt + 1] << 24) | (b[kAt + 2] << 16) | (b[kAt + 3] << 8) | b[kAt + 4]) >>> 0;
      if (kAt + 5 + len <= this.end) {
        const k = internString(b, kAt + 5, len);
        if (k !== undefined) {
          this.pos = kAt + 5 + len;
          this.terms++;
          return k;
        }
      }
    }
    return objectKey(this.term(), kAt);
  }

  mapSet(m: { [key: string]: Term }, k: Term, v: Term, kAt: number): void {
    const key = k as string;
    if (m[key] !== undefined && Object.hasOwn(m, key)) {
      throw new DecodeError('BEAM_ERR_ETF_DUPLICATE_KEY', `map key "${key}" occurs twice`, kAt);
    }
    // never let a "__proto__" key set the object's prototype
    if (key === '__proto__') Object.defineProperty(m, key, { value: v, enumerable: true, writable: true, configurable: true });
    else m[key] = v;
  }

  /**
   * Decodes the container at `at` with an explicit stack instead of recursion: used past
   * RECURSION_MAX levels, so arbitrarily deep input meets maxDepth, never the JS stack.
   */
  deep(at: number): Term {
    this.pos = at;
    const stack: Frame[] = [];
    for (;;) {
      let value: Term | undefined;
      const p = this.pos;
      if (p >= this.end) this.need(1, 'term tag');
      const tag = this.buf[p];
      let frame: Frame | undefined;
      if (tag === T.SMALL_TUPLE_EXT || tag === T.LARGE_TUPLE_EXT || tag === T.LIST_EXT || tag === T.MAP_EXT || tag === T.NEW_FUN_EXT || tag === T.RECORD_EXT) {
        if (++this.terms > this.maxTerms) {
          throw new LimitError('maxTerms', this.maxTerms, `more than maxTerms ${this.maxTerms} terms`, p);
        }
        this.pos = p + 1;
        if (tag === T.RECORD_EXT) {
          const h = this.recordHead(p);
          const n = h.fields.length;
          if (n === 0) value = this.recordEnd(h, []);
          else frame = { kind: K_RECORD, n, i: 0, els: new Array<Term>(n), fun: undefined, rec: h, tailNext: false, map: undefined, index: undefined, key: undefined, kAt: 0 };
        } else if (tag === T.NEW_FUN_EXT) {
          const h = this.funHead(p);
          if (h.numFree === 0) value = this.funEnd(h, []);
          else frame = { kind: K_FUN, n: h.numFree, i: 0, els: new Array<Term>(h.numFree), fun: h, rec: undefined, tailNext: false, map: undefined, index: undefined, key: undefined, kAt: 0 };
        } else {
          const n = tag === T.SMALL_TUPLE_EXT ? this.u8() : this.u32();
          if (tag === T.MAP_EXT) {
            this.claim(n, 2, 'MAP_EXT', p);
            if (n === 0) value = this.mapObjects ? {} : wireMapFromDecode([], undefined, 0, undefined);
            else if (this.mapObjects) frame = { kind: K_MAP, n, i: 0, els: EMPTY, fun: undefined, rec: undefined, tailNext: false, map: {}, index: undefined, key: undefined, kAt: this.pos };
            else frame = { kind: K_MAP, n, i: 0, els: new Array<Term>(2 * n), fun: undefined, rec: undefined, tailNext: false, map: undefined, index: undefined, key: undefined, kAt: this.pos };
          } else if (tag === T.LIST_EXT) {
            this.claim(n + 1, 1, 'LIST_EXT', p);
            // LIST_EXT of 0 elements is just its tail: read the tail as this value
            if (n === 0) continue;
            frame = { kind: K_LIST, n, i: 0, els: new Array<Term>(n), fun: undefined, rec: undefined, tailNext: false, map: undefined, index: undefined, key: undefined, kAt: 0 };
          } else {
            this.claim(n, 1, 'tuple', p);
            if (n === 0) value = this.compat ? [] : new Tuple([]);
            else frame = { kind: K_TUPLE, n, i: 0, els: new Array<Term>(n), fun: undefined, rec: undefined, tailNext: false, map: undefined, index: undefined, key: undefined, kAt: 0 };
          }
        }
        if (frame !== undefined) {
          this.enter();
          stack.push(frame);
          continue;
        }
      } else {
        // a leaf: term() does not recurse for these tags; a map's keys go through mapKey
        const top = stack[stack.length - 1];
        value = top !== undefined && top.kind === K_MAP && (top.i & 1) === 0 && !this.mapObjects ? this.mapKey(p) : this.term();
      }
      // hand the value up until a frame wants more
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return value as Term;
        if (this.deliver(top, value as Term)) break;
        stack.pop();
        this.depth--;
        value = this.finish(top);
      }
    }
  }

  /** Stores a child in its frame; true while the frame needs more children. */
  deliver(f: Frame, v: Term): boolean {
    switch (f.kind) {
      case K_TUPLE:
      case K_FUN:
      case K_RECORD:
        f.els[f.i++] = v;
        return f.i < f.n;
      case K_LIST:
        if (f.tailNext) {
          f.els = withTail(f.els, v) as Term[];
          f.tailNext = false;
          f.i = -1; // finished, els holds the result
          return false;
        }
        f.els[f.i++] = v;
        if (f.i < f.n) return true;
        if (this.pos < this.end && this.buf[this.pos] === T.NIL_EXT) {
          this.pos++;
          this.terms++;
          return false;
        }
        f.tailNext = true;
        return true;
      default: {
        // K_MAP: even steps are keys, odd steps values
        if ((f.i & 1) === 0) {
          if (this.mapObjects) {
            f.key = objectKey(v, f.kAt);
          } else {
            if (f.n > SCAN_MAX) f.index = indexKey(f.index, v, f.i >>> 1, f.kAt);
            else scanKey(f.els, v, f.i >>> 1, f.kAt);
            f.els[f.i] = v;
          }
        } else if (this.mapObjects) {
          this.mapSet(f.map!, f.key as Term, v, f.kAt);
        } else {
          f.els[f.i] = v;
        }
        f.i++;
        if ((f.i & 1) === 0) f.kAt = this.pos;
        return f.i < 2 * f.n;
      }
    }
  }

  finish(f: Frame): Term {
    switch (f.kind) {
      case K_TUPLE:
        return this.compat ? f.els : new Tuple(f.els);
      case K_LIST:
        return f.i === -1 ? (f.els as unknown as Term) : f.els;
      case K_FUN:
        return this.funEnd(f.fun!, f.els);
      case K_RECORD:
        return this.recordEnd(f.rec!, f.els);
      default:
        return f.map ?? wireMapFromDecode(f.els, undefined, 0, f.index);
    }
  }

  /** SMALL_BIG_EXT / LARGE_BIG_EXT: sign byte, then `n` little-endian magnitude bytes. */
  big(n: number): number | bigint | string {
    const at = this.pos;
    const sign = this.u8();
    if (this.pos + n > this.end) this.need(n, 'big integer digits');
    if (sign > 1) throw new DecodeError('BEAM_ERR_ETF_BAD_INTEGER', `big integer sign byte ${sign}`, at);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + n;
    if (n <= 6) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + b[p + i];
      // erlpack gives numbers only up to 32 bits, decimal text past that
      if (this.compat && (n > 4 || v > (sign === 1 ? 0x7fffffff : 0xffffffff))) return String(sign === 1 ? -v : v);
      return sign === 1 ? -v : v;
    }
    if (n <= 8) {
      // up to 64 bits: a double is exact below 2^53, which is when it is returned as a number
      let d = 0;
      for (let i = n - 1; i >= 0; i--) d = d * 256 + b[p + i];
      if (d <= Number.MAX_SAFE_INTEGER && !this.compat) return sign === 1 ? -d : d;
    }
    // big-endian hex of the little-endian magnitude, converted natively in one go
    const be = n <= SCRATCH.length ? SCRATCH : Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) be[i] = b[p + n - 1 - i];
    let v = BigInt('0x' + be.toString('hex', 0, n));
    if (sign === 1) v = -v;
    if (this.compat) return v.toString();
    if (v <= MAX_SAFE && v >= -MAX_SAFE) return Number(v);
    return v;
  }

  pid(): Pid {
    const tag = this.u8();
    const node = this.atom();
    const id = this.u32();
    const serial = this.u32();
    return new Pid(node, id, serial, tag === T.NEW_PID_EXT ? this.u32() : this.u8());
  }

  fun(at: number): Term {
    if (this.depth >= RECURSION_MAX) return this.deep(at);
    const h = this.funHead(at);
    this.enter();
    const free = new Array<Term>(h.numFree);
    for (let i = 0; i < h.numFree; i++) free[i] = this.term();
    this.depth--;
    return this.funEnd(h, free);
  }

  record(at: number): Term {
    if (this.depth >= RECURSION_MAX) return this.deep(at);
    const h = this.recordHead(at);
    this.enter();
    const values = new Array<Term>(h.fields.length);
    for (let i = 0; i < values.length; i++) values[i] = this.term();
    this.depth--;
    return this.recordEnd(h, values);
  }

  /**
   * RECORD_EXT up to its values (pos is just past the tag): the count is checked against the
   * bytes left before anything is allocated (a field name is ≥ 2 bytes, a value ≥ 1).
   */
  recordHead(at: number): RecordHead {
    const n = this.u32();
    const flags = this.u8();
    if (flags > 1) throw new DecodeError('BEAM_ERR_ETF_BAD_RECORD', `RECORD_EXT flags ${flags} (0 local, 1 exported)`, at);
    this.claim(n, 3, 'RECORD_EXT', at);
    const module = this.atom();
    const name = this.atom();
    const fields = new Array<Atom>(n);
    for (let i = 0; i < n; i++) fields[i] = this.atom();
    // OTP's binary_to_term refuses a record that names a field twice
    if (n > 1 && new Set(fields).size !== n) throw new DecodeError('BEAM_ERR_ETF_BAD_RECORD', 'RECORD_EXT names a field twice', at);
    return { module, name, exported: flags === 1, fields };
  }

  /** The record, or (erlpack's mapping, which has no records) a plain object of its fields. */
  recordEnd(h: RecordHead, values: Term[]): Term {
    if (!this.compat) return new NativeRecord(h.module, h.name, h.fields, values, h.exported);
    const o: { [key: string]: Term } = {};
    for (let i = 0; i < values.length; i++) this.mapSet(o, h.fields[i].name, values[i], 0);
    return o;
  }

  /** NEW_FUN_EXT up to its free variables (pos is just past the tag). */
  funHead(at: number): FunHead {
    const size = this.u32();
    if (size < 4 || at + 1 + size > this.end) {
      throw new DecodeError('BEAM_ERR_ETF_TRUNCATED', `NEW_FUN_EXT of ${size} bytes, ${this.end - at - 1} left`, at);
    }
    const arity = this.u8();
    this.need(16, 'fun uniq');
    const uniq = Buffer.from(this.view(16));
    const index = this.u32();
    const numFree = this.u32();
    this.claim(numFree, 1, 'NEW_FUN_EXT free variables', at);
    const module = this.atom();
    const oldIndexAt = this.pos;
    const oldIndex = this.term();
    const oldUniq = this.term();
    if (typeof oldIndex !== 'number' || typeof oldUniq !== 'number') {
      throw new DecodeError('BEAM_ERR_ETF_BAD_FUN', 'NEW_FUN_EXT OldIndex/OldUniq are not integers', oldIndexAt);
    }
    const pidAt = this.pos;
    if (this.pos >= this.end || (this.buf[this.pos] !== T.NEW_PID_EXT && this.buf[this.pos] !== T.PID_EXT)) {
      throw new DecodeError('BEAM_ERR_ETF_BAD_FUN', 'NEW_FUN_EXT Pid is not a pid', pidAt);
    }
    const pid = this.pid();
    return { at, size, arity, uniq, index, numFree, module, oldIndex, oldUniq, pid };
  }

  funEnd(h: FunHead, free: Term[]): Fun {
    if (this.pos !== h.at + 1 + h.size) {
      throw new DecodeError('BEAM_ERR_ETF_BAD_FUN', `NEW_FUN_EXT Size says ${h.size} bytes, its fields took ${this.pos - h.at - 1}`, h.at);
    }
    return new Fun(h.arity, h.uniq, h.index, h.module, h.oldIndex, h.oldUniq, h.pid, free);
  }
}

// The scratch stack of object(): nested maps push above their parent's entries.
const scratchKeys: string[] = [];
const scratchVals: Term[] = [];
let scratchTop = 0;

/** Past this many nested containers the decoder switches from recursion to an explicit stack (the JS stack holds ~2 000 levels). */
const RECURSION_MAX = 500;
const K_TUPLE = 0;
const K_LIST = 1;
const K_MAP = 2;
const K_FUN = 3;
const K_RECORD = 4;
const EMPTY: Term[] = [];
/** Offsets of unread binaries stay small integers (V8 Smis, no boxing) below this. */
const OFFSET_MAX = 2 ** 30;

const duplicateKey = (kAt: number): DecodeError => new DecodeError('BEAM_ERR_ETF_DUPLICATE_KEY', 'a map key occurs twice', kAt);

/** Throws DUPLICATE_KEY when key `k` of entry `i` is the same Erlang term as an earlier key (a scan, for small maps). */
function scanKey(kv: Term[], k: Term, i: number, kAt: number): void {
  for (let j = 0; j < 2 * i; j += 2) if (sameWireKey(kv[j], k)) throw duplicateKey(kAt);
}

/** Adds key `k` of entry `i` to a big map's index (which the WireMap keeps for lookups); throws on a duplicate. */
function indexKey(index: Map<unknown, number> | undefined, k: Term, i: number, kAt: number): Map<unknown, number> {
  index ??= new Map();
  if (!indexAdd(index, k, i)) throw duplicateKey(kAt);
  return index;
}

interface RecordHead {
  module: Atom;
  name: Atom;
  exported: boolean;
  fields: Atom[];
}

interface FunHead {
  at: number;
  size: number;
  arity: number;
  uniq: Buffer;
  index: number;
  numFree: number;
  module: Atom;
  oldIndex: number;
  oldUniq: number;
  pid: Pid;
}

/** One open container of the explicit-stack decoder. */
interface Frame {
  kind: number;
  n: number;
  i: number;
  els: Term[];
  fun: FunHead | undefined;
  rec: RecordHead | undefined;
  tailNext: boolean;
  /** mapsAsObjects: the object being filled (else els holds the WireMap's keys and values). */
  map: { [key: string]: Term } | undefined;
  /** A big map's key index (see indexKey). */
  index: Map<unknown, number> | undefined;
  key: Term | undefined;
  kAt: number;
}

/** `[els | tail]`: a list-valued tail (non-canonical, but valid) makes one longer list. */
function withTail(els: Term[], tail: Term): Term {
  if (els.length === 0) return tail;
  if (Array.isArray(tail)) return els.concat(tail);
  if (tail instanceof ImproperList) return new ImproperList(els.concat(tail.elements), tail.tail);
  return new ImproperList(els, tail);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const SCRATCH = Buffer.alloc(4096);

/**
 * Integral floats are boxed so they re-encode as floats. That includes -0.0 (Number.isInteger(-0)
 * is true): as a Map key a plain -0 would be the same key as 0 (SameValueZero), a box is not.
 */
function floatTerm(f: number): number | Float {
  return Number.isInteger(f) ? new Float(f) : f;
}

function objectKey(k: Term, at: number): string {
  switch (typeof k) {
    case 'string':
      return k;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(k);
    default:
      if (k instanceof Atom) return k.name;
      if (Buffer.isBuffer(k)) return k.toString('utf8');
      if (k instanceof Float) return String(k.value);
      if (k === null) return 'null';
      throw new DecodeError('BEAM_ERR_ETF_BAD_KEY', 'mapsAsObjects: a map key is not an atom, binary or number', at);
  }
}

/** Runs a decode, turning anything that is not already a DecodeError into one. */
function guarded<R>(d: Decoder, run: () => R): R {
  try {
    return run();
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new LimitError('maxDepth', d.maxDepth, `terms nested deeper than the JS stack allows (depth ${d.depth})`, d.pos, { cause: e });
    }
    if (e instanceof BeamnodeError) throw e;
    throw new DecodeError('BEAM_ERR_ETF_INVALID', `invalid term: ${(e as Error).message}`, d.pos, { cause: e });
  }
}

/** The version byte, then either COMPRESSED or one term. */
function versioned(d: Decoder): Term {
  const at = d.pos;
  if (at >= d.end) d.need(1, 'version byte');
  if (d.buf[at] !== T.VERSION) {
    throw new DecodeError('BEAM_ERR_ETF_BAD_VERSION', `expected version byte 131, got ${d.buf[at]}`, at);
  }
  d.pos = at + 1;
  if (d.pos < d.end && d.buf[d.pos] === T.COMPRESSED) {
    d.pos++;
    const size = d.u32();
    const { data, consumed } = inflateCompressed(d.buf.subarray(d.pos, d.end), size, d.maxInflated, d.pos);
    const c = d.child(data);
    const term = c.term();
    if (c.pos !== data.length) {
      throw new DecodeError('BEAM_ERR_ETF_TRAILING', `${data.length - c.pos} bytes after the compressed term`, d.pos);
    }
    d.pos += consumed;
    d.terms = c.terms;
    return term;
  }
  return d.term();
}

function checkOffset(buf: Uint8Array, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new DecodeError('BEAM_ERR_ETF_BAD_OFFSET', `offset ${offset} is outside the ${buf.length}-byte buffer`, 0);
  }
}

/** Decodes one whole term (`131`, then the term; COMPRESSED handled). Trailing bytes are an error. */
export function decode(buf: Uint8Array, opts: DecodeOptions = EMPTY_OPTIONS): Term {
  const d = new Decoder(buf, 0, opts);
  return guarded(d, () => {
    const t = versioned(d);
    if (d.pos !== d.end) throw new DecodeError('BEAM_ERR_ETF_TRAILING', `${d.end - d.pos} bytes after the term`, d.pos);
    return t;
  });
}

/** Decodes the term at `offset` (which must hold 131); `end` is where the next one starts. */
export function decodeAt(buf: Uint8Array, offset: number, opts: DecodeOptions = EMPTY_OPTIONS): { term: Term; end: number } {
  checkOffset(buf, offset);
  const d = new Decoder(buf, offset, opts);
  return guarded(d, () => ({ term: versioned(d), end: d.pos }));
}

/** Decodes a term without the version byte at `offset` (terms after a `131,68` dist header). */
/** decode() with erlpack's mapping (unpack). */
export function decodeCompat(buf: Uint8Array): Term {
  return decode(buf, { erlpack: true } as CompatOptions);
}

export function decodeBodyAt(buf: Uint8Array, offset: number, opts: DecodeOptions = EMPTY_OPTIONS): { term: Term; end: number } {
  checkOffset(buf, offset);
  const d = new Decoder(buf, offset, opts);
  return guarded(d, () => ({ term: d.term(), end: d.pos }));
}
