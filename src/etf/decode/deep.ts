/**
 * Decoding past RECURSION_MAX levels of nesting with an explicit stack of open containers instead
 * of recursion, so arbitrarily deep input meets maxDepth, never the JS stack's limit.
 */
import { DecodeError, LimitError } from '../errors.js';
import * as T from '../tags.js';
import { Tuple, type Term } from '../types.js';
import { SCAN_MAX, indexAdd, sameWireKey, wireMapFromDecode } from '../map/wire-map.js';
import { DecoderCore, objectKey, withTail, type FunHead, type RecordHead } from './core.js';

/** Past this many nested containers the decoder switches from recursion to an explicit stack (the JS stack holds ~2 000 levels). */
export const RECURSION_MAX = 500;
export const K_TUPLE = 0;
export const K_LIST = 1;
export const K_MAP = 2;
export const K_FUN = 3;
export const K_RECORD = 4;
export const EMPTY: Term[] = [];

export const duplicateKey = (kAt: number): DecodeError => new DecodeError('BEAM_ERR_ETF_DUPLICATE_KEY', 'a map key occurs twice', kAt);

/** Throws DUPLICATE_KEY when key `k` of entry `i` is the same Erlang term as an earlier key (a scan, for small maps). */
export function scanKey(kv: Term[], k: Term, i: number, kAt: number): void {
  for (let j = 0; j < 2 * i; j += 2) if (sameWireKey(kv[j], k)) throw duplicateKey(kAt);
}

/** Adds key `k` of entry `i` to a big map's index (which the WireMap keeps for lookups); throws on a duplicate. */
export function indexKey(index: Map<unknown, number> | undefined, k: Term, i: number, kAt: number): Map<unknown, number> {
  index ??= new Map();
  if (!indexAdd(index, k, i)) throw duplicateKey(kAt);
  return index;
}

/** One open container of the explicit-stack decoder. */
export interface Frame {
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

export abstract class DeepDecoder extends DecoderCore {
  /** A map key at kAt (the subclass: short binary keys come from a cache). */
  abstract mapKey(kAt: number): Term;

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
}
