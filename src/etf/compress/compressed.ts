/**
 * COMPRESSED (80): `131, 80, UncompressedSize:32, zlib stream`. Inflation is bounded by the
 * declared size and by maxInflatedSize, so a zip bomb stops at the limit instead of at memory.
 */
import { inflateSync, type ZlibOptions } from 'node:zlib';
import { zlibDeflate } from './deflate.js';
import { DecodeError, LimitError } from '../errors.js';

interface InflateInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/** Inflates `body` (the zlib stream after the size word); `consumed` = zlib bytes read. */
export function inflateCompressed(body: Buffer, size: number, maxInflated: number, at: number): { data: Buffer; consumed: number } {
  if (size > maxInflated) {
    throw new LimitError('maxInflatedSize', maxInflated, `COMPRESSED term declares ${size} bytes, more than maxInflatedSize ${maxInflated}`, at - 4);
  }
  let r: InflateInfo;
  try {
    // info:true reports how many input bytes zlib read, so decodeAt knows where the term ends.
    const opts: ZlibOptions & { info: true } = { maxOutputLength: Math.max(1, size), info: true };
    r = inflateSync(body, opts) as unknown as InflateInfo;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecodeError('BEAM_ERR_ETF_BAD_COMPRESSED', `COMPRESSED term inflates past its declared ${size} bytes`, at, { cause: e });
    }
    throw new DecodeError('BEAM_ERR_ETF_BAD_COMPRESSED', `COMPRESSED term is not a valid zlib stream (${code ?? (e as Error).message})`, at, { cause: e });
  }
  if (r.buffer.length !== size) {
    throw new DecodeError('BEAM_ERR_ETF_BAD_COMPRESSED', `COMPRESSED term declares ${size} bytes, inflates to ${r.buffer.length}`, at);
  }
  return { data: r.buffer, consumed: r.engine.bytesWritten };
}

/**
 * `131 + body` as term_to_binary(T, [{compressed, level}]) frames it: `131, 80, size, zlib` when
 * that is not longer than the plain form, else the plain `131 + body` (OTP keeps the smaller).
 */
export function compressBody(body: Buffer, level: number): Buffer {
  // Not node:zlib's deflate: Node bundles Chromium's zlib, whose output differs from the stock
  // zlib OTP links. zlibDeflate reproduces stock zlib byte for byte.
  const z = zlibDeflate(body, level);
  if (z.length + 6 > body.length + 1) {
    const plain = Buffer.allocUnsafe(body.length + 1);
    plain[0] = 131;
    body.copy(plain, 1);
    return plain;
  }
  const out = Buffer.allocUnsafe(z.length + 6);
  out[0] = 131;
  out[1] = 80;
  out.writeUInt32BE(body.length, 2);
  z.copy(out, 6);
  return out;
}
