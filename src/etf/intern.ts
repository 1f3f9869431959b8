/**
 * Small direct-mapped caches from short ASCII byte runs to the strings/atoms they spell, so the
 * decoder does not build (and V8 does not re-internalize) the same map key or atom text for every
 * message. A slot is verified byte by byte before use; a miss simply overwrites it.
 */
import { Atom } from './types.js';

const SLOTS = 4096; // power of two
const MAX_LEN = 32;
const strSlots: (string | undefined)[] = new Array(SLOTS).fill(undefined);
const atomSlots: (Atom | undefined)[] = new Array(SLOTS).fill(undefined);
const binSlots: (Buffer | undefined)[] = new Array(SLOTS).fill(undefined);

/** Hash of b[p, p+n) if every byte is ASCII, else -1. */
function asciiHash(b: Uint8Array, p: number, n: number): number {
  let h = n | 0;
  for (let i = 0; i < n; i++) {
    const c = b[p + i];
    if (c >= 0x80) return -1;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return (h ^ (h >>> 15)) & (SLOTS - 1);
}

function same(s: string, b: Uint8Array, p: number, n: number): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== b[p + i]) return false;
  return true;
}

function ascii(b: Uint8Array, p: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[p + i]);
  return s;
}

/** The string for short ASCII bytes (cached), or undefined when too long or not ASCII. */
export function internString(b: Uint8Array, p: number, n: number): string | undefined {
  if (n > MAX_LEN) return undefined;
  const h = asciiHash(b, p, n);
  if (h < 0) return undefined;
  const s = strSlots[h];
  if (s !== undefined && same(s, b, p, n)) return s;
  const t = ascii(b, p, n);
  strSlots[h] = t;
  return t;
}

/** The atom for short ASCII bytes (cached), or undefined when too long or not ASCII. */
export function internAtom(b: Uint8Array, p: number, n: number): Atom | undefined {
  if (n > MAX_LEN) return undefined;
  const h = asciiHash(b, p, n);
  if (h < 0) return undefined;
  const a = atomSlots[h];
  if (a !== undefined && same(a.name, b, p, n)) return a;
  const t = Atom.of(ascii(b, p, n));
  atomSlots[h] = t;
  return t;
}

/** Hash of any bytes b[p, p+n). */
function byteHash(b: Uint8Array, p: number, n: number): number {
  let h = n | 0;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[p + i], 0x01000193);
  return (h ^ (h >>> 15)) & (SLOTS - 1);
}

/**
 * How many times a cached binary was replaced. While it does not change, equal bytes gave the same
 * Buffer, so the decoder may compare interned keys by identity (see mapEntries in decode.ts).
 */
export let binaryEvictions = 0;

/** @internal The cache slot of these bytes (tests build keys that evict one another). */
export const binarySlot = (b: Uint8Array): number => byteHash(b, 0, b.length);

/**
 * A shared copy of the short binary b[p, p+n) (map keys: the same few dozen names in every
 * message), or undefined when longer than MAX_LEN. The Buffer is shared by every decode that
 * meets these bytes, so it must not be mutated; it is a copy, never a view into the input.
 */
export function internBinary(b: Uint8Array, p: number, n: number): Buffer | undefined {
  if (n > MAX_LEN) return undefined;
  const h = byteHash(b, p, n);
  const s = binSlots[h];
  if (s !== undefined && s.length === n) {
    let i = 0;
    while (i < n && s[i] === b[p + i]) i++;
    if (i === n) return s;
  }
  // its own memory, not a slice of Node's shared allocation pool: a cached key must not keep an
  // 8 KiB pool chunk (and whatever else was written into it) alive
  const t = Buffer.alloc(n);
  for (let i = 0; i < n; i++) t[i] = b[p + i];
  if (s !== undefined) binaryEvictions++;
  binSlots[h] = t;
  return t;
}
