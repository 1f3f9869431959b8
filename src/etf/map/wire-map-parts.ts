/**
 * What the encoder needs to know of WireMap (wire-map.ts), without importing it: WireMap keys
 * big maps by their canonical bytes, so it imports the encoder; the encoder importing WireMap back
 * would make a cycle. WireMap registers itself here when its module loads (a WireMap cannot exist
 * before that), and the encoder asks here.
 */
import type { Term } from '../types.js';

/** Entries whose values may stay unread (binaries, maps): the positions fit a small-integer bit mask. */
export const LAZY_SLOTS = 30;
/** Maps up to this size are searched by a scan (OTP's flatmap size); bigger ones through an index. */
export const SCAN_MAX = 32;

/** The parts of a WireMap the codec reads directly. */
export interface WireMapParts {
  /** Keys and values interleaved, in order. */
  readonly kv: readonly Term[];
  /** The input the unread binaries are in. */
  readonly src: Buffer | undefined;
  /**
   * Bit i set: the value of entry i is not made yet. A number: a binary, the offset in `src` of its
   * bytes (their 4-byte length just before). An array: a map, its keys and values interleaved and
   * then its own mask (the same scheme, over the same `src`).
   */
  readonly lazy: number;
}

/** The length of the unread binary at `off` (BINARY_EXT's 4-byte length, just before its bytes). */
export const binaryLength = (src: Uint8Array, off: number): number =>
  ((src[off - 4] << 24) | (src[off - 3] << 16) | (src[off - 2] << 8) | src[off - 1]) >>> 0;

type MapClass = abstract new (...args: never[]) => Map<Term, Term>;
let wireMapClass: MapClass | undefined;
let partsOf: ((m: Map<Term, Term>) => WireMapParts) | undefined;

/** Called once by wire-map.ts. */
export function registerWireMap(cls: MapClass, parts: (m: Map<Term, Term>) => WireMapParts): void {
  wireMapClass = cls;
  partsOf = parts;
}

/** Whether `k` (a term's constructor) is WireMap. */
export const isWireMapClass = (k: unknown): boolean => k !== undefined && k === wireMapClass;

/** The entries of `m` as the encoder reads them when `m` is a WireMap (unread binaries included, not read), else undefined. */
export function wireMapPartsOf(m: Map<Term, Term>): WireMapParts | undefined {
  return wireMapClass !== undefined && m instanceof wireMapClass ? partsOf!(m) : undefined;
}
