/**
 * The decoder's state and the pieces of a term that hold no other terms: the options and limits,
 * atoms (interned), big integers, pids, and the fixed heads of records and funs. The containers
 * are decoded by the subclasses (decode/deep.ts, then decode.ts), which provide term().
 */
import { internAtom } from '../intern.js';
import { DecodeError, LimitError } from '../errors.js';
import { Reader } from '../reader.js';
import * as T from '../tags.js';
import { Atom, Float, Fun, ImproperList, NativeRecord, Pid, type Term } from '../types.js';
import type { CompatOptions, DecodeLimits, DecodeOptions } from '../decode.js';

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = {
  maxDepth: 10_000,
  maxInflatedSize: 64 * 1024 * 1024,
  maxTerms: Number.POSITIVE_INFINITY,
};

export const EMPTY_OPTIONS: DecodeOptions = {};

export abstract class DecoderCore extends Reader {
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
  /** One whole term at pos (the subclass: every tag, containers included). */
  abstract term(): Term;

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

  mapSet(m: { [key: string]: Term }, k: Term, v: Term, kAt: number): void {
    const key = k as string;
    if (m[key] !== undefined && Object.hasOwn(m, key)) {
      throw new DecodeError('BEAM_ERR_ETF_DUPLICATE_KEY', `map key "${key}" occurs twice`, kAt);
    }
    // never let a "__proto__" key set the object's prototype
    if (key === '__proto__') Object.defineProperty(m, key, { value: v, enumerable: true, writable: true, configurable: true });
    else m[key] = v;
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

export interface RecordHead {
  module: Atom;
  name: Atom;
  exported: boolean;
  fields: Atom[];
}

export interface FunHead {
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

/** `[els | tail]`: a list-valued tail (non-canonical, but valid) makes one longer list. */
export function withTail(els: Term[], tail: Term): Term {
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
export function floatTerm(f: number): number | Float {
  return Number.isInteger(f) ? new Float(f) : f;
}

export function objectKey(k: Term, at: number): string {
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
