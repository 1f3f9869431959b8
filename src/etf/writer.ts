/**
 * A growable byte buffer for encoding. One Writer is reused across encodes: `take()` copies the
 * bytes out and resets it, so the scratch buffer never escapes (callers may hand the copy to a
 * socket while the writer is reused).
 */
export class Writer {
  /** The scratch buffer; bytes [0, pos) are written. Exposed for the encoder's hot paths. */
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize | 0));
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
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

  patchU32(at: number, n: number): void {
    const b = this.buf;
    b[at] = n >>> 24;
    b[at + 1] = n >>> 16;
    b[at + 2] = n >>> 8;
    b[at + 3] = n;
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of the written bytes; the writer is reset for reuse. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }

  /** A view of the written bytes (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}
