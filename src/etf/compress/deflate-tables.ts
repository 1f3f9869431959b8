/**
 * zlib's deflate constants, static Huffman tables and tree type (zlib deflate.h, trees.c
 * tr_static_init, gen_codes), shared by the deflater in deflate.ts.
 */
export const MIN_MATCH = 3;
export const MAX_MATCH = 258;
export const MIN_LOOKAHEAD = MAX_MATCH + MIN_MATCH + 1;
export const W_BITS = 15;
export const W_SIZE = 1 << W_BITS;
export const W_MASK = W_SIZE - 1;
export const WINDOW_SIZE = 2 * W_SIZE;
export const MAX_DIST = W_SIZE - MIN_LOOKAHEAD;
export const MEM_LEVEL = 8;
export const HASH_BITS = MEM_LEVEL + 7;
export const HASH_SIZE = 1 << HASH_BITS;
export const HASH_MASK = HASH_SIZE - 1;
export const HASH_SHIFT = Math.floor((HASH_BITS + MIN_MATCH - 1) / MIN_MATCH);
export const LIT_BUFSIZE = 1 << (MEM_LEVEL + 6);
export const SYM_END = (LIT_BUFSIZE - 1) * 3;
export const TOO_FAR = 4096;

export const LENGTH_CODES = 29;
export const LITERALS = 256;
export const L_CODES = LITERALS + 1 + LENGTH_CODES;
export const D_CODES = 30;
export const BL_CODES = 19;
export const HEAP_SIZE = 2 * L_CODES + 1;
export const MAX_BITS = 15;
export const MAX_BL_BITS = 7;
export const END_BLOCK = 256;
export const REP_3_6 = 16;
export const REPZ_3_10 = 17;
export const REPZ_11_138 = 18;

export const EXTRA_LBITS = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
export const EXTRA_DBITS = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
export const EXTRA_BLBITS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];
export const BL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** zlib's configuration_table: good_length, max_lazy, nice_length, max_chain, lazy (slow) or fast. */
export const CONFIG: readonly (readonly [number, number, number, number, boolean])[] = [
  [0, 0, 0, 0, false],
  [4, 4, 8, 4, false],
  [4, 5, 16, 8, false],
  [4, 6, 32, 32, false],
  [4, 4, 16, 16, true],
  [8, 16, 32, 32, true],
  [8, 16, 128, 128, true],
  [8, 32, 128, 256, true],
  [32, 128, 258, 1024, true],
  [32, 258, 258, 4096, true],
];

// ---- static tables (trees.c tr_static_init) -------------------------------------------------

export const BASE_LENGTH = new Int32Array(LENGTH_CODES);
export const LENGTH_CODE = new Uint8Array(MAX_MATCH - MIN_MATCH + 1);
export const BASE_DIST = new Int32Array(D_CODES);
export const DIST_CODE = new Uint8Array(512);
export const STATIC_LTREE_LEN = new Uint16Array(L_CODES + 2);
export const STATIC_LTREE_CODE = new Uint16Array(L_CODES + 2);
export const STATIC_DTREE_LEN = new Uint16Array(D_CODES);
export const STATIC_DTREE_CODE = new Uint16Array(D_CODES);

export function biReverse(code: number, len: number): number {
  let res = 0;
  do {
    res |= code & 1;
    code >>>= 1;
    res <<= 1;
  } while (--len > 0);
  return res >>> 1;
}

export function genCodes(len: Uint16Array, code: Uint16Array, maxCode: number, blCount: Uint16Array): void {
  const next = new Uint16Array(MAX_BITS + 1);
  let c = 0;
  for (let bits = 1; bits <= MAX_BITS; bits++) {
    c = (c + blCount[bits - 1]) << 1;
    next[bits] = c;
  }
  for (let n = 0; n <= maxCode; n++) {
    const l = len[n];
    if (l === 0) continue;
    code[n] = biReverse(next[l]++, l);
  }
}

(function staticInit() {
  let length = 0;
  let code: number;
  for (code = 0; code < LENGTH_CODES - 1; code++) {
    BASE_LENGTH[code] = length;
    for (let n = 0; n < 1 << EXTRA_LBITS[code]; n++) LENGTH_CODE[length++] = code;
  }
  LENGTH_CODE[length - 1] = code;
  let dist = 0;
  for (code = 0; code < 16; code++) {
    BASE_DIST[code] = dist;
    for (let n = 0; n < 1 << EXTRA_DBITS[code]; n++) DIST_CODE[dist++] = code;
  }
  dist >>= 7;
  for (; code < D_CODES; code++) {
    BASE_DIST[code] = dist << 7;
    for (let n = 0; n < 1 << (EXTRA_DBITS[code] - 7); n++) DIST_CODE[256 + dist++] = code;
  }
  const blCount = new Uint16Array(MAX_BITS + 1);
  let n = 0;
  while (n <= 143) (STATIC_LTREE_LEN[n++] = 8), blCount[8]++;
  while (n <= 255) (STATIC_LTREE_LEN[n++] = 9), blCount[9]++;
  while (n <= 279) (STATIC_LTREE_LEN[n++] = 7), blCount[7]++;
  while (n <= 287) (STATIC_LTREE_LEN[n++] = 8), blCount[8]++;
  genCodes(STATIC_LTREE_LEN, STATIC_LTREE_CODE, L_CODES + 1, blCount);
  for (n = 0; n < D_CODES; n++) {
    STATIC_DTREE_LEN[n] = 5;
    STATIC_DTREE_CODE[n] = biReverse(n, 5);
  }
})();

export const dCode = (dist: number): number => (dist < 256 ? DIST_CODE[dist] : DIST_CODE[256 + (dist >>> 7)]);

// ---- Huffman trees (trees.c) ----------------------------------------------------------------

/** A tree: Freq (reused as Code after gen_codes in zlib; kept apart here), Len, Dad. */
export class Tree {
  readonly freq: Uint32Array;
  readonly code: Uint16Array;
  readonly len: Uint16Array;
  readonly dad: Uint16Array;
  maxCode = 0;
  constructor(
    size: number,
    readonly elems: number,
    readonly base: number,
    readonly extra: readonly number[],
    readonly maxLength: number,
    readonly staticLen: Uint16Array | undefined,
  ) {
    this.freq = new Uint32Array(size);
    this.code = new Uint16Array(size);
    this.len = new Uint16Array(size);
    this.dad = new Uint16Array(size);
  }
}
