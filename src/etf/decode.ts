/**
 * ETF decoding: bytes → terms. One Decoder (a Reader) walks the input with an integer offset;
 * every length is checked against the bytes left before anything is allocated, and nesting is
 * bounded (maxDepth) so hostile input cannot blow the JS stack. The Decoder is built in layers:
 * decode/core.ts (options, limits, atoms, big integers, pids, record and fun heads),
 * decode/deep.ts (an explicit stack past RECURSION_MAX levels), and here every tag, the
 * containers (maps: a WireMap, or plain objects for mapsAsObjects) and the entry points.
 */
import { inflateCompressed } from './compress/compressed.js';
import { binaryEvictions, internBinary, internString } from './intern.js';
import { objectFromShape } from './shapes.js';
import { DecodeError, LimitError } from './errors.js';
import * as T from './tags.js';
import { Atom, BitBinary, ExportFun, Float, ImproperList, Port, Reference, Tuple, type Term } from './types.js';
import { LAZY_SLOTS, SCAN_MAX, wireMapFromDecode, type WireMap } from './map/wire-map.js';
import { BeamnodeError } from '../errors.js';
import { EMPTY_OPTIONS, floatTerm, objectKey, withTail } from './decode/core.js';
import { EMPTY, K_TUPLE, RECURSION_MAX, DeepDecoder, duplicateKey, indexKey, scanKey, type Frame } from './decode/deep.js';

export { DEFAULT_LIMITS } from './decode/core.js';

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

/** unpack(): erlpack's JS mapping (tuples as arrays, nil/null as null, big integers as text…). */
export interface CompatOptions extends DecodeOptions {
  erlpack?: boolean;
}

const TWO_32 = 4294967296;

class Decoder extends DeepDecoder {
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
}

// The scratch stack of object(): nested maps push above their parent's entries.
const scratchKeys: string[] = [];
const scratchVals: Term[] = [];
let scratchTop = 0;

/** Offsets of unread binaries stay small integers (V8 Smis, no boxing) below this. */
const OFFSET_MAX = 2 ** 30;

/**
 * One live, empty object of each class a decode makes. V8 forgets a hidden class (its "map") once
 * no object of it is alive, and then throws away every optimized function specialized on it (a
 * "weak objects" deoptimization, `node --trace-deopt`). A full GC after the terms of the last
 * decode died (between two bursts of messages; before each round of the benchmark) did exactly
 * that, and the decoder ran deoptimized until V8 re-optimized it: a gateway event took ~130 µs
 * instead of ~5 µs, deep nesting lost a frame per level. These objects keep the classes alive.
 * They are made at the first decode, not while the module loads: objects made then got other
 * maps than later ones (Node 20), and kept nothing.
 */
let keptShapes: readonly unknown[] | undefined;

function keepShapes(): readonly unknown[] {
  const none = Buffer.alloc(0);
  const frame: Frame = { kind: K_TUPLE, n: 0, i: 0, els: EMPTY, fun: undefined, rec: undefined, tailNext: false, map: undefined, index: undefined, key: undefined, kAt: 0 };
  return [
    new Decoder(none, 0, EMPTY_OPTIONS),
    wireMapFromDecode([], undefined, 0, undefined),
    new Tuple([]),
    new Float(0),
    new ImproperList([0], 0),
    new BitBinary(none, 1),
    frame,
  ];
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
  keptShapes ??= keepShapes();
  const d = new Decoder(buf, 0, opts);
  return guarded(d, () => {
    const t = versioned(d);
    if (d.pos !== d.end) throw new DecodeError('BEAM_ERR_ETF_TRAILING', `${d.end - d.pos} bytes after the term`, d.pos);
    return t;
  });
}

/** Decodes the term at `offset` (which must hold 131); `end` is where the next one starts. */
export function decodeAt(buf: Uint8Array, offset: number, opts: DecodeOptions = EMPTY_OPTIONS): { term: Term; end: number } {
  keptShapes ??= keepShapes();
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
  keptShapes ??= keepShapes();
  checkOffset(buf, offset);
  const d = new Decoder(buf, offset, opts);
  return guarded(d, () => ({ term: d.term(), end: d.pos }));
}
