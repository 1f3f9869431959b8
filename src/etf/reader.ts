import { DecodeError } from './errors.js';

/** Node's fast, undocumented slice methods (present on Buffer.prototype since Node 0.x). */
interface FastSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

// ignoreBOM: keep a leading U+FEFF (the default strips it: atom '\uFEFFx' would decode as 'x')
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const scratchF64 = new Float64Array(1);
const scratchU8 = new Uint8Array(scratchF64.buffer);
// Float64Array uses the host's byte order; ETF floats are big-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A Buffer view of any Uint8Array, without copying. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A cursor over received bytes. `buf`/`pos`/`end` are public so the decoder's hot paths do their
 * own byte math; the methods check bounds and throw DecodeError with the failing offset.
 */
export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = asBuffer(buf);
    this.pos = pos;
    this.end = end;
  }

  /** Bytes left. */
  left(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are present. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new DecodeError('BEAM_ERR_ETF_TRUNCATED', `truncated ${what}: needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }

  u8(): number {
    if (this.pos >= this.end) this.need(1, 'byte');
    return this.buf[this.pos++];
  }

  u16(): number {
    if (this.pos + 2 > this.end) this.need(2, 'u16');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p] << 8) | b[p + 1];
  }

  u32(): number {
    if (this.pos + 4 > this.end) this.need(4, 'u32');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  i32(): number {
    if (this.pos + 4 > this.end) this.need(4, 'i32');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  /** A big-endian IEEE-754 double. */
  f64(): number {
    if (this.pos + 8 > this.end) this.need(8, 'float');
    const b = this.buf;
    const p = this.pos;
    if (LITTLE_ENDIAN) {
      scratchU8[0] = b[p + 7]; scratchU8[1] = b[p + 6]; scratchU8[2] = b[p + 5]; scratchU8[3] = b[p + 4];
      scratchU8[4] = b[p + 3]; scratchU8[5] = b[p + 2]; scratchU8[6] = b[p + 1]; scratchU8[7] = b[p];
    } else {
      for (let i = 0; i < 8; i++) scratchU8[i] = b[p + i];
    }
    this.pos = p + 8;
    return scratchF64[0];
  }

  /** `n` bytes as Latin-1 text (each byte one character). */
  latin1(n: number): string {
    const p = this.pos;
    this.pos = p + n;
    return (this.buf as unknown as FastSlices).latin1Slice(p, p + n);
  }

  /** `n` bytes of UTF-8; invalid UTF-8 is a DecodeError (as OTP refuses such atoms). */
  utf8Strict(n: number): string {
    const p = this.pos;
    const b = this.buf;
    let ascii = true;
    for (let i = p; i < p + n; i++) {
      if (b[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    this.pos = p + n;
    if (ascii) return (b as unknown as FastSlices).latin1Slice(p, p + n);
    try {
      return fatalUtf8.decode(b.subarray(p, p + n));
    } catch (e) {
      throw new DecodeError('BEAM_ERR_ETF_BAD_UTF8', 'invalid UTF-8 in an atom', p, { cause: e });
    }
  }

  /** `n` bytes of UTF-8, invalid sequences replaced by U+FFFD (binariesAsStrings). */
  utf8Lossy(n: number): string {
    const p = this.pos;
    this.pos = p + n;
    const b = this.buf;
    // ASCII text takes the cheaper Latin-1 path (one flat string, no UTF-8 decoding).
    if (n < 64) {
      for (let i = p; i < p + n; i++) {
        if (b[i] >= 0x80) return (b as unknown as FastSlices).utf8Slice(p, p + n);
      }
      return (b as unknown as FastSlices).latin1Slice(p, p + n);
    }
    return (b as unknown as FastSlices).utf8Slice(p, p + n);
  }

  /** A zero-copy view of the next `n` bytes. */
  view(n: number): Buffer {
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }
}
