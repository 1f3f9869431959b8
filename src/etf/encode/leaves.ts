/**
 * The terms that hold no other terms, written into the encoder's Writer: atoms (with their byte
 * cache), integers, floats, binaries and bitstrings, pids, ports and references. Byte for byte as
 * OTP's term_to_binary/2 lays them out (erts/emulator/beam/external.c): the smallest integer tag,
 * NEW_FLOAT_EXT, Latin-1 ATOM_EXT under minor_version 1 and UTF-8 atom tags under 2.
 */
import { EncodeError } from '../errors.js';
import * as T from '../tags.js';
import { Atom, type BitBinary, type Pid, type Port, type Reference } from '../types.js';
import type { Writer } from '../writer.js';

interface FastWrite {
  utf8Write(s: string, offset: number): number;
}

const scratchF64 = new Float64Array(1);
const scratchU8 = new Uint8Array(scratchF64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encoder state for one encode: the writer, the atom flavour and the erlpack-compat switch. */
export interface Ctx {
  w: Writer;
  minor2: boolean;
  /** pack(): erlpack's mapping (null → nil, object keys as binaries, no STRING_EXT, …). */
  pack: boolean;
  depth: number;
}

// ---- atoms ---------------------------------------------------------------------------------

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

export function atomBytes(name: string, minor2: boolean): Buffer {
  if (!minor2 && isLatin1(name)) {
    if (name.length > 255) throw new EncodeError('BEAM_ERR_ETF_ATOM_TOO_LONG', `atom of ${name.length} characters (max 255)`);
    const b = Buffer.allocUnsafe(3 + name.length);
    b[0] = T.ATOM_EXT;
    b.writeUInt16BE(name.length, 1);
    b.write(name, 3, 'latin1');
    return b;
  }
  const chars = [...name].length;
  if (chars > 255) throw new EncodeError('BEAM_ERR_ETF_ATOM_TOO_LONG', `atom of ${chars} characters (max 255)`);
  const text = Buffer.from(name, 'utf8');
  if (text.length < 256) {
    const b = Buffer.allocUnsafe(2 + text.length);
    b[0] = T.SMALL_ATOM_UTF8_EXT;
    b[1] = text.length;
    text.copy(b, 2);
    return b;
  }
  const b = Buffer.allocUnsafe(3 + text.length);
  b[0] = T.ATOM_UTF8_EXT;
  b.writeUInt16BE(text.length, 1);
  text.copy(b, 3);
  return b;
}

function atomBytesCached(a: Atom, minor2: boolean): Buffer {
  if (minor2) return a.etf2 ?? (a.etf2 = atomBytes(a.name, true));
  return a.etf1 ?? (a.etf1 = atomBytes(a.name, false));
}

// erlpack writes true/false/nil as SMALL_ATOM_EXT.
export const PACK_NIL = Buffer.from([T.SMALL_ATOM_EXT, 3, 0x6e, 0x69, 0x6c]);
export const PACK_TRUE = Buffer.from([T.SMALL_ATOM_EXT, 4, 0x74, 0x72, 0x75, 0x65]);
export const PACK_FALSE = Buffer.from([T.SMALL_ATOM_EXT, 5, 0x66, 0x61, 0x6c, 0x73, 0x65]);
export const TRUE = Atom.of('true');
export const FALSE = Atom.of('false');

export function writeRaw(w: Writer, b: Buffer): void {
  const n = b.length;
  const dst = w.room(n);
  let p = w.pos;
  if (n < 16) for (let i = 0; i < n; i++) dst[p++] = b[i];
  else {
    b.copy(dst, p);
    p += n;
  }
  w.pos = p;
}

export function writeAtom(c: Ctx, a: Atom): void {
  writeRaw(c.w, atomBytesCached(a, c.minor2));
}

// ---- numbers -------------------------------------------------------------------------------

export function writeInteger(w: Writer, v: number): void {
  let p = w.pos;
  if (v >= 0 && v <= 255) {
    const b = w.room(2);
    b[p] = T.SMALL_INTEGER_EXT;
    b[p + 1] = v;
    w.pos = p + 2;
  } else if (v >= -2147483648 && v <= 2147483647) {
    const b = w.room(5);
    b[p] = T.INTEGER_EXT;
    b[p + 1] = v >>> 24;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 8;
    b[p + 4] = v;
    w.pos = p + 5;
  } else {
    // |v| ≥ 2^31: SMALL_BIG_EXT, little-endian magnitude, as few bytes as needed. Division by
    // 256 is exact on doubles, so integral numbers past 2^53 (1e20) encode exactly too.
    // (the largest double, ~2^1024, has a 128-byte magnitude)
    let m = Math.abs(v);
    const b = w.room(3 + 128);
    const lenAt = p + 1;
    b[p] = T.SMALL_BIG_EXT;
    b[p + 2] = v < 0 ? 1 : 0;
    p += 3;
    let n = 0;
    while (m > 0) {
      const d = m % 256;
      b[p++] = d;
      m = (m - d) / 256;
      n++;
    }
    b[lenAt] = n;
    w.pos = p;
  }
}

export function writeBigint(w: Writer, v: bigint): void {
  if (v >= -2147483648n && v <= 2147483647n) return writeInteger(w, Number(v));
  const neg = v < 0n;
  let hex = (neg ? -v : v).toString(16);
  if (hex.length & 1) hex = '0' + hex;
  const n = hex.length >>> 1;
  if (n > 0xffffffff) throw new EncodeError('BEAM_ERR_ETF_TOO_BIG', 'integer too large for LARGE_BIG_EXT');
  const b = w.room(6 + n);
  let p = w.pos;
  if (n < 256) {
    b[p++] = T.SMALL_BIG_EXT;
    b[p++] = n;
  } else {
    b[p++] = T.LARGE_BIG_EXT;
    b[p++] = n >>> 24;
    b[p++] = n >>> 16;
    b[p++] = n >>> 8;
    b[p++] = n;
  }
  b[p++] = neg ? 1 : 0;
  const be = Buffer.from(hex, 'hex'); // big-endian magnitude; ETF wants it little-endian
  for (let i = n - 1; i >= 0; i--) b[p++] = be[i];
  w.pos = p;
}

export function writeFloat(w: Writer, f: number): void {
  if (!Number.isFinite(f)) throw new EncodeError('BEAM_ERR_ETF_ENCODE_BAD_FLOAT', `${f} has no Erlang float`);
  const b = w.room(9);
  const p = w.pos;
  scratchF64[0] = f;
  b[p] = T.NEW_FLOAT_EXT;
  if (LITTLE_ENDIAN) {
    b[p + 1] = scratchU8[7]; b[p + 2] = scratchU8[6]; b[p + 3] = scratchU8[5]; b[p + 4] = scratchU8[4];
    b[p + 5] = scratchU8[3]; b[p + 6] = scratchU8[2]; b[p + 7] = scratchU8[1]; b[p + 8] = scratchU8[0];
  } else {
    for (let i = 0; i < 8; i++) b[p + 1 + i] = scratchU8[i];
  }
  w.pos = p + 9;
}

export function writeNumber(c: Ctx, v: number): void {
  if (c.pack) return packNumber(c.w, v);
  if (Number.isInteger(v) && (v !== 0 || 1 / v > 0)) writeInteger(c.w, v);
  else writeFloat(c.w, v);
}

/** erlpack: int32/uint32 as integers (uint32 ≥ 2^31 as SMALL_BIG), every other number a float. */
function packNumber(w: Writer, v: number): void {
  if (Number.isInteger(v) && v >= -2147483648 && v <= 4294967295 && (v !== 0 || 1 / v > 0)) writeInteger(w, v);
  else writeFloat(w, v);
}

// ---- binaries ------------------------------------------------------------------------------

export function writeString(w: Writer, s: string): void {
  const n = s.length;
  const b = w.room(5 + n * 3);
  const start = w.pos + 5;
  let p = start;
  b[w.pos] = T.BINARY_EXT;
  if (n < 64) {
    // Short ASCII strings: a JS loop beats the C++ utf8Write call.
    let i = 0;
    for (; i < n; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= 0x80) break;
      b[p++] = ch;
    }
    if (i < n) p = start + (b as unknown as FastWrite).utf8Write(s, start);
  } else {
    p = start + (b as unknown as FastWrite).utf8Write(s, start);
  }
  const len = p - start;
  const at = w.pos + 1;
  b[at] = len >>> 24;
  b[at + 1] = len >>> 16;
  b[at + 2] = len >>> 8;
  b[at + 3] = len;
  w.pos = p;
}

export function writeBinary(w: Writer, data: Uint8Array): void {
  writeBinaryBytes(w, data, 0, data.length);
}

/** BINARY_EXT of the `n` bytes of `src` from `start` (a decoded map's unread value is such a run of its input). */
export function writeBinaryBytes(w: Writer, src: Uint8Array, start: number, n: number): void {
  const b = w.room(5 + n);
  const p = w.pos;
  b[p] = T.BINARY_EXT;
  b[p + 1] = n >>> 24;
  b[p + 2] = n >>> 16;
  b[p + 3] = n >>> 8;
  b[p + 4] = n;
  // short runs by hand: cheaper than b.set, which also needs a view when start > 0
  if (n <= 64) for (let k = 0; k < n; k++) b[p + 5 + k] = src[start + k];
  else b.set(start === 0 && n === src.length ? src : src.subarray(start, start + n), p + 5);
  w.pos = p + 5 + n;
}

export function writeBitBinary(w: Writer, t: BitBinary): void {
  if (t.data.length === 0 || t.bits === 8) return writeBinary(w, t.data);
  if (t.bits < 1 || t.bits > 8) throw new EncodeError('BEAM_ERR_ETF_ENCODE_BAD_BITS', `BitBinary.bits is ${t.bits} (1–8)`);
  const n = t.data.length;
  w.u8(T.BIT_BINARY_EXT).u32(n).u8(t.bits).bytes(t.data.subarray(0, n - 1));
  // OTP zeroes the unused low bits of the last byte.
  w.u8(t.data[n - 1] & (0xff << (8 - t.bits)) & 0xff);
}

export function writePid(c: Ctx, p: Pid): void {
  c.w.u8(T.NEW_PID_EXT);
  writeAtom(c, p.node);
  c.w.u32(p.id).u32(p.serial).u32(p.creation);
}

export function writePort(c: Ctx, p: Port): void {
  const id = p.id;
  // OTP 25 writes NEW_PORT_EXT, OTP 27/29 V4_PORT_EXT for every port: Port.v4 remembers which.
  if (!p.v4 && typeof id === 'number' && id <= 0xffffffff) {
    c.w.u8(T.NEW_PORT_EXT);
    writeAtom(c, p.node);
    c.w.u32(id);
  } else {
    const big = BigInt(id);
    c.w.u8(T.V4_PORT_EXT);
    writeAtom(c, p.node);
    c.w.u32(Number((big >> 32n) & 0xffffffffn)).u32(Number(big & 0xffffffffn));
  }
  c.w.u32(p.creation);
}

export function writeReference(c: Ctx, r: Reference): void {
  const n = r.ids.length;
  if (n < 1 || n > 5) throw new EncodeError('BEAM_ERR_ETF_ENCODE_BAD_REFERENCE', `reference with ${n} id words (1–5)`);
  c.w.u8(T.NEWER_REFERENCE_EXT).u16(n);
  writeAtom(c, r.node);
  c.w.u32(r.creation);
  for (let i = 0; i < n; i++) c.w.u32(r.ids[i]);
}

