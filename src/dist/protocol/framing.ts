/**
 * Length-prefixed framing: 2-byte lengths during the handshake ({packet,2}), 4-byte lengths after
 * it ({packet,4}; an empty frame is a tick). And the frame body codec: without a negotiated
 * distribution header, a frame is `112, 131 Control [, 131 Message]` (pass-through;
 * OTP erts/doc/guides/erl_ext_dist.md).
 *
 * The body codec is an interface so that a later atom-cache/fragments codec (`131, 68/69/70`)
 * can replace the pass-through one without touching the connection.
 */
import { decodeAt, decodeBodyAt, encodeInto, type DecodeOptions, type Writer } from '../../etf/index.js';
import type { Term } from '../../etf/types.js';
import { DecodeError } from '../../etf/errors.js';
import { ProtocolError } from '../errors.js';

const EMPTY = Buffer.alloc(0);

/** The 4-byte frame of length 0: a tick. */
export const TICK_FRAME: Buffer = Buffer.alloc(4);

/** Default bound on one frame (4-byte framing): 128 MiB. */
export const DEFAULT_MAX_FRAME = 128 * 1024 * 1024;

/**
 * Reads length-prefixed frames from a byte stream: chunks may hold half a frame or many. Each
 * frame is handed out as a view (valid until the callback returns unless copied). A length above
 * `maxFrame` throws a ProtocolError before anything is buffered for it.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being collected, -1 while its header is incomplete. */
  private need = -1;
  private stopped = false;

  constructor(
    readonly headerBytes: 2 | 4,
    readonly maxFrame: number = headerBytes === 2 ? 0xffff : DEFAULT_MAX_FRAME,
  ) {}

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds a chunk; calls `onFrame` for every whole frame. If `onFrame` returns `false`, reading
   * stops there and the remaining bytes stay for `takeRest()` (the handshake hands them over to
   * the 4-byte reader after challenge_ack).
   */
  push(chunk: Uint8Array, onFrame: (payload: Buffer) => boolean | void): void {
    if (this.stopped) throw new ProtocolError('BEAM_ERR_DIST_FRAMING', 'push after the reader was stopped');
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (c.length === 0) return;
    let buf: Buffer;
    if (this.buffered === 0) {
      buf = c;
    } else {
      this.chunks.push(c);
      this.buffered += c.length;
      // A large frame arrives in many chunks: only join once the whole frame is here.
      if (this.need < 0 && this.buffered >= this.headerBytes) {
        const head = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
        this.chunks = [head];
        this.need = this.lengthAt(head, 0);
      }
      if (this.need < 0 || this.buffered < this.headerBytes + this.need) return;
      // The frame is whole: join its own bytes (each copied once), and go on with the rest of the
      // last chunk as it is (joining it too would copy those bytes again with the next frame).
      const size = this.headerBytes + this.need;
      const frame = Buffer.allocUnsafe(size);
      let filled = 0;
      let rest: Buffer = EMPTY;
      for (const part of this.chunks) {
        const n = Math.min(part.length, size - filled);
        part.copy(frame, filled, 0, n);
        filled += n;
        if (filled === size) {
          rest = part.subarray(n); // only the last chunk reaches past the frame
          break;
        }
      }
      this.chunks = [];
      this.buffered = 0;
      this.need = -1;
      if (onFrame(frame.subarray(this.headerBytes)) === false) {
        this.stopped = true;
        if (rest.length > 0) {
          this.chunks = [rest];
          this.buffered = rest.length;
        }
        return;
      }
      if (rest.length === 0) return;
      buf = rest;
    }
    let at = 0;
    while (buf.length - at >= this.headerBytes) {
      const n = this.lengthAt(buf, at);
      if (buf.length - at - this.headerBytes < n) break;
      const start = at + this.headerBytes;
      at = start + n;
      if (onFrame(buf.subarray(start, at)) === false) {
        this.stopped = true;
        break;
      }
    }
    if (at < buf.length) {
      // Keep the tail; copy when small so that one big socket buffer is not pinned.
      const tail = buf.subarray(at);
      const kept = tail.length < 4096 ? Buffer.from(tail) : tail;
      this.chunks = [kept];
      this.buffered = kept.length;
      this.need = kept.length >= this.headerBytes ? this.lengthAt(kept, 0) : -1;
    }
  }

  /** The unparsed bytes (after a stop), and the reader is emptied. */
  takeRest(): Buffer {
    const rest = this.chunks.length === 0 ? EMPTY : this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    this.need = -1;
    return rest;
  }

  private lengthAt(buf: Buffer, at: number): number {
    const n = this.headerBytes === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
    if (n > this.maxFrame) {
      throw new ProtocolError('BEAM_ERR_DIST_FRAME_TOO_LARGE', `frame of ${n} bytes exceeds the limit of ${this.maxFrame}`);
    }
    return n;
  }
}

/** A decoded frame body. */
export interface FrameBody {
  control: Term;
  message: Term | undefined;
}

/** How frame bodies are encoded and decoded for one connection (negotiation decides which). */
export interface FrameCodec {
  /** Appends one whole frame (4-byte length included) for `control` [+ `message`] to `w`. */
  encodeFrame(w: Writer, control: Term, message?: Term): void;
  /**
   * Decodes a non-empty frame body. Throws ProtocolError (or the codec's DecodeError). Returns
   * undefined for a fragment that does not complete a message yet (dist-header.ts).
   */
  decodeFrame(payload: Buffer): FrameBody | undefined;
  /** The fragments of the frame just encoded, when it must be fragmented (dist-header.ts). */
  splitFrame?(frame: Buffer): Iterable<[Buffer, Buffer]> | undefined;
  /** Frees per-connection state (reassembly buffers) when the connection closes. */
  close?(): void;
  /** Bytes held for messages still being reassembled from fragments. */
  pendingBytes?(): number;
}

/** PASS_THROUGH: the first byte of a frame without a distribution header. */
export const PASS_THROUGH = 112;

/** The pass-through codec: every frame is a whole message. */
export interface PassThroughCodec extends FrameCodec {
  decodeFrame(payload: Buffer): FrameBody;
}

/** A DecodeError of the control or message term as a ProtocolError saying where (other errors as they are). */
export function undecodable(e: unknown, part: 'control' | 'message', buf: Uint8Array): unknown {
  if (!(e instanceof DecodeError)) return e;
  const tag = buf[e.offset];
  const why = e.message.replace(/ \(at byte \d+\)$/, '');
  return new ProtocolError('BEAM_ERR_DIST_UNDECODABLE', `a ${part} term we cannot decode: ${why} (${e.code}, tag ${tag ?? 'none'} at byte ${e.offset})`, {
    cause: e,
    part,
    offset: e.offset,
    tag,
  });
}

/** decodeAt, its DecodeError turned into an undecodable() ProtocolError. */
export function decodePart(part: 'control' | 'message', buf: Buffer, at: number, o: DecodeOptions, body = false): { term: Term; end: number } {
  try {
    return body ? decodeBodyAt(buf, at, o) : decodeAt(buf, at, o);
  } catch (e) {
    throw undecodable(e, part, buf);
  }
}

/**
 * The options a control term is decoded with: the limits only. Mappings (atoms or binaries as
 * strings, maps as objects) are for the message a user receives; the control must stay lossless,
 * or its pids, atoms and refs would not be recognised.
 */
export function controlDecodeOptions(o: DecodeOptions): DecodeOptions {
  return o.limits ? { limits: o.limits } : {};
}

/** The `112, 131 Control [131 Message]` codec used when neither DIST_HDR_ATOM_CACHE nor FRAGMENTS is negotiated. */
export function passThroughCodec(decodeOptions: DecodeOptions = {}): PassThroughCodec {
  const controlOptions = controlDecodeOptions(decodeOptions);
  return {
    encodeFrame(w: Writer, control: Term, message?: Term): void {
      const lenAt = w.reserve(4);
      w.u8(PASS_THROUGH);
      encodeInto(w, control);
      if (message !== undefined) encodeInto(w, message);
      w.patchU32(lenAt, w.length - lenAt - 4);
    },
    decodeFrame(payload: Buffer): FrameBody {
      if (payload[0] !== PASS_THROUGH) {
        const what = payload[0] === 131 ? `a distribution header (131, ${payload[1]}) we did not negotiate` : `byte ${payload[0]}`;
        throw new ProtocolError('BEAM_ERR_DIST_PROTOCOL', `frame starts with ${what}, expected 112 (pass-through)`);
      }
      if (payload.length < 2 || payload[1] !== 131) {
        throw new ProtocolError('BEAM_ERR_DIST_PROTOCOL', 'pass-through frame without a 131-tagged control term');
      }
      const c = decodePart('control', payload, 1, controlOptions);
      if (c.end === payload.length) return { control: c.term, message: undefined };
      if (payload[c.end] !== 131) {
        throw new ProtocolError('BEAM_ERR_DIST_PROTOCOL', `byte ${payload[c.end]} after the control term, expected 131`);
      }
      const m = decodePart('message', payload, c.end, decodeOptions);
      if (m.end !== payload.length) {
        throw new ProtocolError('BEAM_ERR_DIST_PROTOCOL', `${payload.length - m.end} bytes after the message term`);
      }
      return { control: c.term, message: m.term };
    },
  };
}
