/**
 * A growable byte buffer for encoding. One Writer is reused across encodes: `take()` copies the
 * bytes out and resets it, so the scratch buffer never escapes (callers may hand the copy to a
 * socket while the writer is reused).
 *
 * The buffer itself is private: growing replaces it, so a caller that kept it across a write
 * would write into a dead copy. Hot paths get it from `room(n)`, which makes room first and then
 * returns the buffer to write into at `pos`; hold that buffer only until the next write call
 * (test/etf/writer-lint.test.ts checks every `room()` caller in src/ for that).
 */
/** From this size on, take() hands over the buffer rather than a copy (see take()). */
const TAKE_WHOLE_BYTES = 256 * 1024;

export class Writer {
  private buf: Buffer;
  /** Bytes [0, pos) are written. Offsets stay valid when the buffer grows. */
  pos = 0;

  private readonly initialSize: number;

  constructor(initialSize = 4096) {
    this.initialSize = Math.max(16, initialSize | 0);
    this.buf = Buffer.allocUnsafe(this.initialSize);
  }

  /**
   * Makes room for `n` more bytes and returns the buffer to write them into, from `pos`. The
   * caller sets `pos` past what it wrote. Valid only until the next call that writes.
   */
  room(n: number): Buffer {
    if (this.pos + n > this.buf.length) this.grow(n);
    return this.buf;
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(n: number): this {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = n;
    return this;
  }

  u16(n: number): this {
    if (this.pos + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = n >>> 8;
    b[p + 1] = n;
    this.pos = p + 2;
    return this;
  }

  u32(n: number): this {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = n >>> 24;
    b[p + 1] = n >>> 16;
    b[p + 2] = n >>> 8;
    b[p + 3] = n;
    this.pos = p + 4;
    return this;
  }

  bytes(src: Uint8Array): this {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(src, this.pos);
    this.pos += n;
    return this;
  }

  /** Skips `n` bytes to fill in later (e.g. a length); returns their offset. */
  reserve(n: number): number {
    if (this.pos + n > this.buf.length) this.grow(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Overwrites the (already written or reserved) 4 bytes at `at`. */
  patchU32(at: number, n: number): void {
    if (at < 0 || at + 4 > this.pos) throw new RangeError(`patch at ${at} outside the ${this.pos} written bytes`);
    const b = this.buf;
    b[at] = n >>> 24;
    b[at + 1] = n >>> 16;
    b[at + 2] = n >>> 8;
    b[at + 3] = n;
  }

  get length(): number {
    return this.pos;
  }

  /** How many bytes fit before the buffer must grow (for tests that straddle a growth). */
  get capacity(): number {
    return this.buf.length;
  }

  /**
   * The written bytes, for the caller to keep; the writer is reset for reuse. Small results are
   * copied out. A big one that fills at least half the buffer takes the buffer itself (the writer
   * starts a new one): copying a 10 MB message again would cost more than the allocation.
   */
  take(): Buffer {
    const n = this.pos;
    this.pos = 0;
    if (n >= TAKE_WHOLE_BYTES && n * 2 >= this.buf.length) {
      const out = this.buf.subarray(0, n);
      this.buf = Buffer.allocUnsafe(this.initialSize);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, 0, n);
    return out;
  }

  /** A view of the written bytes (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Resets, and drops a scratch buffer grown past `max` bytes (one huge encode should not pin it). */
  release(max: number, initialSize: number): void {
    this.pos = 0;
    if (this.buf.length > max) this.buf = Buffer.allocUnsafe(Math.max(16, initialSize | 0));
  }
}
