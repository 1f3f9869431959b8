/**
 * zlib's deflate (as in stock zlib 1.2.12 – 1.3.x, `deflateInit(strm, level)`: window 15 bits,
 * memLevel 8, default strategy), written from the algorithm so that the output is the very bytes
 * stock zlib writes — which is what OTP's `term_to_binary(T, [compressed])` writes. Node's bundled
 * zlib (Chromium's fork) finds other matches, so its stream differs from OTP's; this one does not.
 *
 * One-shot only (the whole input at hand), levels 1–9. Match finding, lazy evaluation, block
 * splitting and Huffman tree construction follow zlib step for step (tie-breaks included), since
 * every choice shows in the output.
 */

import {
  MIN_MATCH, MAX_MATCH, MIN_LOOKAHEAD, W_BITS, W_SIZE, W_MASK, WINDOW_SIZE, MAX_DIST, HASH_SIZE,
  HASH_MASK, HASH_SHIFT, LIT_BUFSIZE, SYM_END, TOO_FAR, LITERALS, L_CODES, D_CODES, BL_CODES,
  HEAP_SIZE, MAX_BITS, MAX_BL_BITS, END_BLOCK, REP_3_6, REPZ_3_10, REPZ_11_138, EXTRA_LBITS,
  EXTRA_DBITS, EXTRA_BLBITS, BL_ORDER, CONFIG, BASE_LENGTH, LENGTH_CODE, BASE_DIST,
  STATIC_LTREE_LEN, STATIC_LTREE_CODE, STATIC_DTREE_LEN, STATIC_DTREE_CODE, genCodes, dCode, Tree
} from './deflate-tables.js';

class Deflater {
  readonly window = new Uint8Array(WINDOW_SIZE);
  readonly prev = new Uint16Array(W_SIZE);
  readonly head = new Uint16Array(HASH_SIZE);
  insH = 0;
  strstart = 0;
  blockStart = 0;
  lookahead = 0;
  insert = 0;
  matchStart = 0;
  matchLength = MIN_MATCH - 1;
  prevLength = MIN_MATCH - 1;
  prevMatch = 0;
  matchAvailable = false;
  // input
  readonly input: Uint8Array;
  next = 0;
  // config
  readonly goodMatch: number;
  readonly maxLazy: number;
  readonly niceMatch: number;
  readonly maxChain: number;
  readonly lazy: boolean;
  // trees
  readonly ltree = new Tree(HEAP_SIZE, L_CODES, LITERALS + 1, EXTRA_LBITS, MAX_BITS, STATIC_LTREE_LEN);
  readonly dtree = new Tree(2 * D_CODES + 1, D_CODES, 0, EXTRA_DBITS, MAX_BITS, STATIC_DTREE_LEN);
  readonly bltree = new Tree(2 * BL_CODES + 1, BL_CODES, 0, EXTRA_BLBITS, MAX_BL_BITS, undefined);
  readonly heap = new Int32Array(HEAP_SIZE);
  heapLen = 0;
  heapMax = 0;
  readonly depth = new Uint8Array(HEAP_SIZE);
  readonly blCount = new Uint16Array(MAX_BITS + 1);
  optLen = 0;
  staticLen = 0;
  readonly symBuf = new Uint8Array(LIT_BUFSIZE * 3);
  symNext = 0;
  // output
  out: Uint8Array;
  outPos = 0;
  biBuf = 0;
  biValid = 0;

  constructor(input: Uint8Array, level: number) {
    this.input = input;
    const c = CONFIG[level];
    this.goodMatch = c[0];
    this.maxLazy = c[1];
    this.niceMatch = c[2];
    this.maxChain = c[3];
    this.lazy = c[4];
    this.out = new Uint8Array(Math.max(64, (input.length >>> 1) + 64));
    this.initBlock();
  }

  // -- output --
  ensure(n: number): void {
    if (this.outPos + n <= this.out.length) return;
    let size = this.out.length * 2;
    while (size < this.outPos + n) size *= 2;
    const o = new Uint8Array(size);
    o.set(this.out.subarray(0, this.outPos));
    this.out = o;
  }
  putByte(b: number): void {
    this.ensure(1);
    this.out[this.outPos++] = b & 0xff;
  }
  sendBits(value: number, length: number): void {
    this.biBuf |= value << this.biValid;
    this.biValid += length;
    while (this.biValid >= 16) {
      this.ensure(2);
      this.out[this.outPos++] = this.biBuf & 0xff;
      this.out[this.outPos++] = (this.biBuf >>> 8) & 0xff;
      this.biBuf >>>= 16;
      this.biValid -= 16;
    }
  }
  biWindup(): void {
    if (this.biValid > 8) {
      this.putByte(this.biBuf);
      this.putByte(this.biBuf >>> 8);
    } else if (this.biValid > 0) {
      this.putByte(this.biBuf);
    }
    this.biBuf = 0;
    this.biValid = 0;
  }

  // -- window and hash --
  fillWindow(): void {
    do {
      let more = WINDOW_SIZE - this.lookahead - this.strstart;
      if (this.strstart >= W_SIZE + MAX_DIST) {
        this.window.copyWithin(0, W_SIZE, W_SIZE + W_SIZE - more);
        this.matchStart -= W_SIZE;
        this.strstart -= W_SIZE;
        this.blockStart -= W_SIZE;
        if (this.insert > this.strstart) this.insert = this.strstart;
        this.slideHash();
        more += W_SIZE;
      }
      const avail = this.input.length - this.next;
      if (avail === 0) break;
      const n = Math.min(avail, more);
      this.window.set(this.input.subarray(this.next, this.next + n), this.strstart + this.lookahead);
      this.next += n;
      this.lookahead += n;
      if (this.lookahead + this.insert >= MIN_MATCH) {
        let str = this.strstart - this.insert;
        this.insH = this.window[str];
        this.insH = ((this.insH << HASH_SHIFT) ^ this.window[str + 1]) & HASH_MASK;
        while (this.insert) {
          this.insH = ((this.insH << HASH_SHIFT) ^ this.window[str + MIN_MATCH - 1]) & HASH_MASK;
          this.prev[str & W_MASK] = this.head[this.insH];
          this.head[this.insH] = str;
          str++;
          this.insert--;
          if (this.lookahead + this.insert < MIN_MATCH) break;
        }
      }
    } while (this.lookahead < MIN_LOOKAHEAD && this.next < this.input.length);
  }

  slideHash(): void {
    const head = this.head;
    for (let n = 0; n < HASH_SIZE; n++) {
      const m = head[n];
      head[n] = m >= W_SIZE ? m - W_SIZE : 0;
    }
    const prev = this.prev;
    for (let n = 0; n < W_SIZE; n++) {
      const m = prev[n];
      prev[n] = m >= W_SIZE ? m - W_SIZE : 0;
    }
  }

  /** INSERT_STRING: returns the previous head of the hash chain. */
  insertString(str: number): number {
    this.insH = ((this.insH << HASH_SHIFT) ^ this.window[str + MIN_MATCH - 1]) & HASH_MASK;
    const h = this.head[this.insH];
    this.prev[str & W_MASK] = h;
    this.head[this.insH] = str;
    return h;
  }

  longestMatch(curMatch: number): number {
    let chainLength = this.maxChain;
    const w = this.window;
    const scan = this.strstart;
    let bestLen = this.prevLength;
    let niceMatch = this.niceMatch;
    const limit = this.strstart > MAX_DIST ? this.strstart - MAX_DIST : 0;
    const strend = this.strstart + MAX_MATCH;
    let scanEnd1 = w[scan + bestLen - 1];
    let scanEnd = w[scan + bestLen];
    if (this.prevLength >= this.goodMatch) chainLength >>= 2;
    if (niceMatch > this.lookahead) niceMatch = this.lookahead;
    do {
      const match = curMatch;
      if (w[match + bestLen] !== scanEnd || w[match + bestLen - 1] !== scanEnd1 || w[match] !== w[scan] || w[match + 1] !== w[scan + 1]) continue;
      // zlib skips scan[2]/match[2]: equal hashes imply them equal
      let s = scan + 2;
      let m = match + 2;
      while (s < strend) {
        s++;
        m++;
        if (w[s] !== w[m]) break;
      }
      const len = MAX_MATCH - (strend - s);
      if (len > bestLen) {
        this.matchStart = curMatch;
        bestLen = len;
        if (len >= niceMatch) break;
        scanEnd1 = w[scan + bestLen - 1];
        scanEnd = w[scan + bestLen];
      }
    } while ((curMatch = this.prev[curMatch & W_MASK]) > limit && --chainLength !== 0);
    return bestLen <= this.lookahead ? bestLen : this.lookahead;
  }

  // -- symbols --
  tallyLit(c: number): boolean {
    const b = this.symBuf;
    b[this.symNext++] = 0;
    b[this.symNext++] = 0;
    b[this.symNext++] = c;
    this.ltree.freq[c]++;
    return this.symNext === SYM_END;
  }
  tallyDist(dist: number, len: number): boolean {
    const b = this.symBuf;
    b[this.symNext++] = dist & 0xff;
    b[this.symNext++] = dist >>> 8;
    b[this.symNext++] = len;
    dist--;
    this.ltree.freq[LENGTH_CODE[len] + LITERALS + 1]++;
    this.dtree.freq[dCode(dist)]++;
    return this.symNext === SYM_END;
  }

  flushBlock(last: boolean): void {
    const stored = this.blockStart >= 0 ? this.window.subarray(this.blockStart, this.strstart) : undefined;
    this.trFlushBlock(stored, this.strstart - this.blockStart, last);
    this.blockStart = this.strstart;
  }

  // -- the two strategies --
  deflateSlow(): void {
    for (;;) {
      if (this.lookahead < MIN_LOOKAHEAD) {
        this.fillWindow();
        if (this.lookahead === 0) break;
      }
      let hashHead = 0;
      if (this.lookahead >= MIN_MATCH) hashHead = this.insertString(this.strstart);
      this.prevLength = this.matchLength;
      this.prevMatch = this.matchStart;
      this.matchLength = MIN_MATCH - 1;
      if (hashHead !== 0 && this.prevLength < this.maxLazy && this.strstart - hashHead <= MAX_DIST) {
        this.matchLength = this.longestMatch(hashHead);
        if (this.matchLength <= 5 && this.matchLength === MIN_MATCH && this.strstart - this.matchStart > TOO_FAR) {
          this.matchLength = MIN_MATCH - 1;
        }
      }
      if (this.prevLength >= MIN_MATCH && this.matchLength <= this.prevLength) {
        const maxInsert = this.strstart + this.lookahead - MIN_MATCH;
        const bflush = this.tallyDist(this.strstart - 1 - this.prevMatch, this.prevLength - MIN_MATCH);
        this.lookahead -= this.prevLength - 1;
        this.prevLength -= 2;
        do {
          if (++this.strstart <= maxInsert) this.insertString(this.strstart);
        } while (--this.prevLength !== 0);
        this.matchAvailable = false;
        this.matchLength = MIN_MATCH - 1;
        this.strstart++;
        if (bflush) this.flushBlock(false);
      } else if (this.matchAvailable) {
        if (this.tallyLit(this.window[this.strstart - 1])) this.flushBlock(false);
        this.strstart++;
        this.lookahead--;
      } else {
        this.matchAvailable = true;
        this.strstart++;
        this.lookahead--;
      }
    }
    if (this.matchAvailable) {
      this.tallyLit(this.window[this.strstart - 1]);
      this.matchAvailable = false;
    }
    this.insert = this.strstart < MIN_MATCH - 1 ? this.strstart : MIN_MATCH - 1;
    this.flushBlock(true);
  }

  deflateFast(): void {
    for (;;) {
      if (this.lookahead < MIN_LOOKAHEAD) {
        this.fillWindow();
        if (this.lookahead === 0) break;
      }
      let hashHead = 0;
      if (this.lookahead >= MIN_MATCH) hashHead = this.insertString(this.strstart);
      if (hashHead !== 0 && this.strstart - hashHead <= MAX_DIST) {
        this.matchLength = this.longestMatch(hashHead);
      }
      let bflush: boolean;
      if (this.matchLength >= MIN_MATCH) {
        bflush = this.tallyDist(this.strstart - this.matchStart, this.matchLength - MIN_MATCH);
        this.lookahead -= this.matchLength;
        if (this.matchLength <= this.maxLazy && this.lookahead >= MIN_MATCH) {
          this.matchLength--;
          do {
            this.strstart++;
            this.insertString(this.strstart);
          } while (--this.matchLength !== 0);
          this.strstart++;
        } else {
          this.strstart += this.matchLength;
          this.matchLength = 0;
          this.insH = this.window[this.strstart];
          this.insH = ((this.insH << HASH_SHIFT) ^ this.window[this.strstart + 1]) & HASH_MASK;
        }
      } else {
        bflush = this.tallyLit(this.window[this.strstart]);
        this.lookahead--;
        this.strstart++;
      }
      if (bflush) this.flushBlock(false);
    }
    this.insert = this.strstart < MIN_MATCH - 1 ? this.strstart : MIN_MATCH - 1;
    this.flushBlock(true);
  }

  // -- trees.c --
  initBlock(): void {
    this.ltree.freq.fill(0, 0, L_CODES);
    this.dtree.freq.fill(0, 0, D_CODES);
    this.bltree.freq.fill(0, 0, BL_CODES);
    this.ltree.freq[END_BLOCK] = 1;
    this.optLen = this.staticLen = 0;
    this.symNext = 0;
  }

  smaller(t: Tree, n: number, m: number): boolean {
    const fn = t.freq[n];
    const fm = t.freq[m];
    return fn < fm || (fn === fm && this.depth[n] <= this.depth[m]);
  }

  pqdownheap(t: Tree, k: number): void {
    const heap = this.heap;
    const v = heap[k];
    let j = k << 1;
    while (j <= this.heapLen) {
      if (j < this.heapLen && this.smaller(t, heap[j + 1], heap[j])) j++;
      if (this.smaller(t, v, heap[j])) break;
      heap[k] = heap[j];
      k = j;
      j <<= 1;
    }
    heap[k] = v;
  }

  genBitlen(t: Tree): void {
    const heap = this.heap;
    const blCount = this.blCount;
    const maxCode = t.maxCode;
    const maxLength = t.maxLength;
    let overflow = 0;
    blCount.fill(0);
    t.len[heap[this.heapMax]] = 0;
    let h: number;
    for (h = this.heapMax + 1; h < HEAP_SIZE; h++) {
      const n = heap[h];
      let bits = t.len[t.dad[n]] + 1;
      if (bits > maxLength) {
        bits = maxLength;
        overflow++;
      }
      t.len[n] = bits;
      if (n > maxCode) continue;
      blCount[bits]++;
      const xbits = n >= t.base ? t.extra[n - t.base] : 0;
      const f = t.freq[n];
      this.optLen += f * (bits + xbits);
      if (t.staticLen) this.staticLen += f * (t.staticLen[n] + xbits);
    }
    if (overflow === 0) return;
    do {
      let bits = maxLength - 1;
      while (blCount[bits] === 0) bits--;
      blCount[bits]--;
      blCount[bits + 1] += 2;
      blCount[maxLength]--;
      overflow -= 2;
    } while (overflow > 0);
    for (let bits = maxLength; bits !== 0; bits--) {
      let n = blCount[bits];
      while (n !== 0) {
        const m = heap[--h];
        if (m > maxCode) continue;
        if (t.len[m] !== bits) {
          this.optLen += (bits - t.len[m]) * t.freq[m];
          t.len[m] = bits;
        }
        n--;
      }
    }
  }

  buildTree(t: Tree): void {
    const heap = this.heap;
    const elems = t.elems;
    let maxCode = -1;
    this.heapLen = 0;
    this.heapMax = HEAP_SIZE;
    for (let n = 0; n < elems; n++) {
      if (t.freq[n] !== 0) {
        heap[++this.heapLen] = maxCode = n;
        this.depth[n] = 0;
      } else {
        t.len[n] = 0;
      }
    }
    while (this.heapLen < 2) {
      const node = (heap[++this.heapLen] = maxCode < 2 ? ++maxCode : 0);
      t.freq[node] = 1;
      this.depth[node] = 0;
      this.optLen--;
      if (t.staticLen) this.staticLen -= t.staticLen[node];
    }
    t.maxCode = maxCode;
    for (let n = this.heapLen >> 1; n >= 1; n--) this.pqdownheap(t, n);
    let node = elems;
    do {
      const n = heap[1];
      heap[1] = heap[this.heapLen--];
      this.pqdownheap(t, 1);
      const m = heap[1];
      heap[--this.heapMax] = n;
      heap[--this.heapMax] = m;
      t.freq[node] = t.freq[n] + t.freq[m];
      this.depth[node] = (this.depth[n] >= this.depth[m] ? this.depth[n] : this.depth[m]) + 1;
      t.dad[n] = t.dad[m] = node;
      heap[1] = node++;
      this.pqdownheap(t, 1);
    } while (this.heapLen >= 2);
    heap[--this.heapMax] = heap[1];
    this.genBitlen(t);
    genCodes(t.len, t.code, maxCode, this.blCount);
  }

  scanTree(t: Tree, maxCode: number): void {
    const bl = this.bltree.freq;
    let prevlen = -1;
    let nextlen = t.len[0];
    let count = 0;
    let maxCount = 7;
    let minCount = 4;
    if (nextlen === 0) (maxCount = 138), (minCount = 3);
    t.len[maxCode + 1] = 0xffff;
    for (let n = 0; n <= maxCode; n++) {
      const curlen = nextlen;
      nextlen = t.len[n + 1];
      if (++count < maxCount && curlen === nextlen) continue;
      else if (count < minCount) bl[curlen] += count;
      else if (curlen !== 0) {
        if (curlen !== prevlen) bl[curlen]++;
        bl[REP_3_6]++;
      } else if (count <= 10) bl[REPZ_3_10]++;
      else bl[REPZ_11_138]++;
      count = 0;
      prevlen = curlen;
      if (nextlen === 0) (maxCount = 138), (minCount = 3);
      else if (curlen === nextlen) (maxCount = 6), (minCount = 3);
      else (maxCount = 7), (minCount = 4);
    }
  }

  sendCode(c: number, t: Tree): void {
    this.sendBits(t.code[c], t.len[c]);
  }

  sendTree(t: Tree, maxCode: number): void {
    const bl = this.bltree;
    let prevlen = -1;
    let nextlen = t.len[0];
    let count = 0;
    let maxCount = 7;
    let minCount = 4;
    if (nextlen === 0) (maxCount = 138), (minCount = 3);
    for (let n = 0; n <= maxCode; n++) {
      const curlen = nextlen;
      nextlen = t.len[n + 1];
      if (++count < maxCount && curlen === nextlen) continue;
      else if (count < minCount) {
        do this.sendCode(curlen, bl);
        while (--count !== 0);
      } else if (curlen !== 0) {
        if (curlen !== prevlen) {
          this.sendCode(curlen, bl);
          count--;
        }
        this.sendCode(REP_3_6, bl);
        this.sendBits(count - 3, 2);
      } else if (count <= 10) {
        this.sendCode(REPZ_3_10, bl);
        this.sendBits(count - 3, 3);
      } else {
        this.sendCode(REPZ_11_138, bl);
        this.sendBits(count - 11, 7);
      }
      count = 0;
      prevlen = curlen;
      if (nextlen === 0) (maxCount = 138), (minCount = 3);
      else if (curlen === nextlen) (maxCount = 6), (minCount = 3);
      else (maxCount = 7), (minCount = 4);
    }
  }

  buildBlTree(): number {
    this.scanTree(this.ltree, this.ltree.maxCode);
    this.scanTree(this.dtree, this.dtree.maxCode);
    this.buildTree(this.bltree);
    let maxBlindex: number;
    for (maxBlindex = BL_CODES - 1; maxBlindex >= 3; maxBlindex--) {
      if (this.bltree.len[BL_ORDER[maxBlindex]] !== 0) break;
    }
    this.optLen += 3 * (maxBlindex + 1) + 5 + 5 + 4;
    return maxBlindex;
  }

  sendAllTrees(lcodes: number, dcodes: number, blcodes: number): void {
    this.sendBits(lcodes - 257, 5);
    this.sendBits(dcodes - 1, 5);
    this.sendBits(blcodes - 4, 4);
    for (let rank = 0; rank < blcodes; rank++) this.sendBits(this.bltree.len[BL_ORDER[rank]], 3);
    this.sendTree(this.ltree, lcodes - 1);
    this.sendTree(this.dtree, dcodes - 1);
  }

  compressBlock(lcode: Uint16Array, llen: Uint16Array, dcode: Uint16Array, dlen: Uint16Array): void {
    const b = this.symBuf;
    for (let sx = 0; sx < this.symNext; ) {
      let dist = b[sx++];
      dist += b[sx++] << 8;
      let lc = b[sx++];
      if (dist === 0) {
        this.sendBits(lcode[lc], llen[lc]);
      } else {
        let code = LENGTH_CODE[lc];
        this.sendBits(lcode[code + LITERALS + 1], llen[code + LITERALS + 1]);
        let extra = EXTRA_LBITS[code];
        if (extra !== 0) {
          lc -= BASE_LENGTH[code];
          this.sendBits(lc, extra);
        }
        dist--;
        code = dCode(dist);
        this.sendBits(dcode[code], dlen[code]);
        extra = EXTRA_DBITS[code];
        if (extra !== 0) {
          dist -= BASE_DIST[code];
          this.sendBits(dist, extra);
        }
      }
    }
    this.sendBits(lcode[END_BLOCK], llen[END_BLOCK]);
  }

  trFlushBlock(buf: Uint8Array | undefined, storedLen: number, last: boolean): void {
    this.buildTree(this.ltree);
    this.buildTree(this.dtree);
    const maxBlindex = this.buildBlTree();
    let optLenb = (this.optLen + 3 + 7) >>> 3;
    const staticLenb = (this.staticLen + 3 + 7) >>> 3;
    if (staticLenb <= optLenb) optLenb = staticLenb;
    const lastBit = last ? 1 : 0;
    if (storedLen + 4 <= optLenb && buf !== undefined) {
      this.sendBits((0 << 1) + lastBit, 3);
      this.biWindup();
      this.putByte(storedLen);
      this.putByte(storedLen >>> 8);
      this.putByte(~storedLen);
      this.putByte(~storedLen >>> 8);
      this.ensure(storedLen);
      this.out.set(buf.subarray(0, storedLen), this.outPos);
      this.outPos += storedLen;
    } else if (staticLenb === optLenb) {
      this.sendBits((1 << 1) + lastBit, 3);
      this.compressBlock(STATIC_LTREE_CODE, STATIC_LTREE_LEN, STATIC_DTREE_CODE, STATIC_DTREE_LEN);
    } else {
      this.sendBits((2 << 1) + lastBit, 3);
      this.sendAllTrees(this.ltree.maxCode + 1, this.dtree.maxCode + 1, maxBlindex + 1);
      this.compressBlock(this.ltree.code, this.ltree.len, this.dtree.code, this.dtree.len);
    }
    this.initBlock();
    if (last) this.biWindup();
  }
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  const n = data.length;
  let i = 0;
  while (i < n) {
    const end = Math.min(n, i + 3800); // keeps b below 2^53 between reductions
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** zlib-wrapped deflate of `input` at `level` (1–9), byte-identical to stock zlib's `compress2`. */
export function zlibDeflate(input: Uint8Array, level: number): Buffer {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`deflate level ${level}`);
  const d = new Deflater(input, level);
  // zlib header: CMF 0x78 (deflate, 32 KiB window), FLG with the level class and the check bits
  const levelFlags = level < 2 ? 0 : level < 6 ? 1 : level === 6 ? 2 : 3;
  let header = ((8 + ((W_BITS - 8) << 4)) << 8) | (levelFlags << 6);
  header += 31 - (header % 31);
  d.putByte(header >>> 8);
  d.putByte(header);
  if (d.lazy) d.deflateSlow();
  else d.deflateFast();
  const sum = adler32(input);
  d.putByte(sum >>> 24);
  d.putByte(sum >>> 16);
  d.putByte(sum >>> 8);
  d.putByte(sum);
  return Buffer.from(d.out.buffer, d.out.byteOffset, d.outPos);
}
