/**
 * Fragmented messages (DFLAG_FRAGMENTS; erl_ext_dist "Distribution Header for fragmented
 * messages"). A sequence is `131,69,Seq:64,FragId:64, header, control, payload…`
 * then `131,70,Seq:64,FragId:64, payload…`; FragId counts down from the number of fragments to 1,
 * and other frames (other sequences, ticks, whole messages) may come between the fragments.
 *
 * Receiving: FragmentAssembler keeps the open sequences of one connection under a bound on bytes
 * and on open sequences, drops sequences that make no progress for `timeout` ms (their later
 * fragments are then ignored), and frees everything on clear() (connection closed).
 *
 * Sending: fragmentFrame() cuts one encoded `131,68` frame into 64 KiB fragments (OTP's
 * ERTS_DIST_FRAGMENT_SIZE), lazily, as views of the encoded bytes.
 */
import createDebug from 'debug';
import type { Atom } from '../../etf/types.js';
import { ProtocolError } from '../errors.js';

const log = createDebug('beamnode:dist:fragments');

/** OTP's ERTS_DIST_FRAGMENT_SIZE: payload bytes per fragment. */
export const DEFAULT_FRAGMENT_SIZE = 64 * 1024;

export interface FragmentLimits {
  /** Bytes held by all open sequences of a connection (default 128 MiB, as the frame limit). */
  maxBytes: number;
  /** Open sequences at once (default 64; each sending process of the peer may hold one). */
  maxSequences: number;
  /** A sequence with no fragment for this long is dropped (default 60000 ms). */
  timeout: number;
}

export const DEFAULT_FRAGMENT_LIMITS: Readonly<FragmentLimits> = Object.freeze({
  maxBytes: 128 * 1024 * 1024,
  maxSequences: 64,
  timeout: 60_000,
});

/** A sequence whose last fragment arrived: the atom refs of its header and control + message bytes. */
export interface AssembledMessage {
  refs: Atom[];
  body: Buffer;
}

interface OpenSequence {
  refs: Atom[];
  /** The FragmentId expected next. */
  next: bigint;
  chunks: Buffer[];
  bytes: number;
  touched: number;
}

/** Ids of dropped sequences remembered, so that their late fragments are skipped, not fatal. */
const MAX_DROPPED_REMEMBERED = 256;

/**
 * Reassembles the fragment sequences of one connection. Errors (a continuation of an unknown
 * sequence, a fragment out of order, a limit) are ProtocolErrors: the connection is then closed,
 * as OTP kills a connection on a bad fragment.
 */
export class FragmentAssembler {
  readonly limits: FragmentLimits;
  private readonly open = new Map<bigint, OpenSequence>();
  private readonly dropped = new Set<bigint>();
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Sequences dropped for want of progress (for stats and tests). */
  timedOut = 0;

  constructor(
    limits: Partial<FragmentLimits> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limits = { ...DEFAULT_FRAGMENT_LIMITS, ...limits };
    const { maxBytes, maxSequences, timeout } = this.limits;
    if (!(maxBytes > 0) || !(maxSequences >= 1) || !(timeout > 0)) {
      throw new RangeError(`bad fragment limits ${JSON.stringify(this.limits)}`);
    }
  }

  /** Bytes held by open sequences. */
  get pendingBytes(): number {
    return this.held;
  }

  /** Open sequences. */
  get pendingSequences(): number {
    return this.open.size;
  }

  /**
   * The first fragment (131,69): `refs` from its header, `payload` = control + first part of the
   * message. FragmentId 1 is a whole message. Payloads are kept as the views they are (into the
   * socket's chunks, which Node never reuses) until the last fragment joins them: copying each
   * one first would copy a 10 MB message twice. A view may hold its chunk's other bytes alive
   * (chunks are at most 64 KiB, so at most about one fragment's worth more than `held` says).
   */
  start(sequenceId: bigint, fragmentId: bigint, refs: Atom[], payload: Buffer): AssembledMessage | undefined {
    if (this.open.has(sequenceId)) {
      throw new ProtocolError('BEAM_ERR_DIST_FRAGMENT', `fragment sequence ${sequenceId} started twice`);
    }
    this.dropped.delete(sequenceId);
    if (fragmentId === 1n) return { refs, body: payload };
    if (this.open.size >= this.limits.maxSequences) {
      throw new ProtocolError('BEAM_ERR_DIST_FRAGMENT_LIMIT', `more than ${this.limits.maxSequences} fragmented messages open at once`);
    }
    this.reserve(payload.length);
    this.open.set(sequenceId, { refs, next: fragmentId - 1n, chunks: [payload], bytes: payload.length, touched: this.now() });
    this.arm();
    return undefined;
  }

  /** A continuation fragment (131,70) with its payload bytes. */
  continue(sequenceId: bigint, fragmentId: bigint, payload: Buffer): AssembledMessage | undefined {
    const s = this.open.get(sequenceId);
    if (s === undefined) {
      if (this.dropped.has(sequenceId)) {
        if (fragmentId === 1n) this.dropped.delete(sequenceId);
        return undefined;
      }
      throw new ProtocolError('BEAM_ERR_DIST_FRAGMENT', `fragment ${fragmentId} of unknown sequence ${sequenceId}`);
    }
    if (fragmentId !== s.next) {
      throw new ProtocolError('BEAM_ERR_DIST_FRAGMENT', `sequence ${sequenceId}: fragment ${fragmentId}, expected ${s.next}`);
    }
    this.reserve(payload.length);
    s.chunks.push(payload);
    s.bytes += payload.length;
    s.touched = this.now();
    if (fragmentId > 1n) {
      s.next = fragmentId - 1n;
      return undefined;
    }
    this.open.delete(sequenceId);
    this.held -= s.bytes;
    if (this.open.size === 0) this.disarm();
    return { refs: s.refs, body: s.chunks.length === 1 ? s.chunks[0] : Buffer.concat(s.chunks, s.bytes) };
  }

  /** Drops sequences idle for longer than the timeout; returns how many. */
  sweep(): number {
    const limit = this.now() - this.limits.timeout;
    let n = 0;
    for (const [id, s] of this.open) {
      if (s.touched > limit) continue;
      this.drop(id, s);
      n++;
    }
    this.timedOut += n;
    if (this.open.size === 0) this.disarm();
    return n;
  }

  /** Frees every open sequence (the connection is gone). */
  clear(): void {
    this.open.clear();
    this.dropped.clear();
    this.held = 0;
    this.disarm();
  }

  private drop(id: bigint, s: OpenSequence): void {
    log('drop sequence %s: no fragment for %d ms (%d bytes, next %s)', id, this.limits.timeout, s.bytes, s.next);
    this.open.delete(id);
    this.held -= s.bytes;
    if (this.dropped.size >= MAX_DROPPED_REMEMBERED) {
      const oldest = this.dropped.values().next().value;
      if (oldest !== undefined) this.dropped.delete(oldest);
    }
    this.dropped.add(id);
  }

  private reserve(n: number): void {
    if (this.held + n > this.limits.maxBytes) {
      throw new ProtocolError(
        'BEAM_ERR_DIST_FRAGMENT_LIMIT',
        `fragmented messages would hold ${this.held + n} bytes, over the limit of ${this.limits.maxBytes}`,
      );
    }
    this.held += n;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.limits.timeout / 2)));
    this.timer.unref();
  }

  private disarm(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Bytes before a fragment's payload: length:32, 131, 69|70, SequenceId:64, FragmentId:64. */
const FRAGMENT_HEAD_BYTES = 4 + 18;

function fragmentHead(tag: 69 | 70, sequenceId: bigint, fragmentId: bigint, bodyBytes: number): Buffer {
  const h = Buffer.allocUnsafe(FRAGMENT_HEAD_BYTES);
  h.writeUInt32BE(18 + bodyBytes, 0);
  h[4] = 131;
  h[5] = tag;
  h.writeBigUInt64BE(sequenceId, 6);
  h.writeBigUInt64BE(fragmentId, 14);
  return h;
}

/** How many fragments `fragmentFrame` makes of a message of `messageBytes`. */
export function fragmentCount(messageBytes: number, fragmentSize: number = DEFAULT_FRAGMENT_SIZE): number {
  return Math.max(1, Math.ceil(messageBytes / fragmentSize));
}

/**
 * Cuts a whole `len:32, 131, 68, header, control, message` frame into fragment frames, each given
 * as `[head, payload]` (write both, in order). `messageAt` is the offset of the message term in
 * `frame`; the header and control stay whole in the first fragment, the message is cut in
 * `fragmentSize` pieces. The payloads are views of `frame`.
 */
export function* fragmentFrame(
  frame: Buffer,
  messageAt: number,
  sequenceId: bigint,
  fragmentSize: number = DEFAULT_FRAGMENT_SIZE,
): Generator<[Buffer, Buffer]> {
  if (frame.length < 7 || frame[4] !== 131 || frame[5] !== 68) {
    throw new ProtocolError('BEAM_ERR_DIST_FRAGMENT', 'only a 131,68 frame can be fragmented');
  }
  if (!(messageAt >= 6 && messageAt <= frame.length)) throw new RangeError(`messageAt ${messageAt} outside the frame`);
  if (!(fragmentSize >= 1)) throw new RangeError(`fragment size ${fragmentSize}`);
  const total = fragmentCount(frame.length - messageAt, fragmentSize);
  let at = Math.min(frame.length, messageAt + fragmentSize);
  let id = BigInt(total);
  const first = frame.subarray(6, at);
  yield [fragmentHead(69, sequenceId, id, first.length), first];
  while (at < frame.length) {
    id--;
    const next = Math.min(frame.length, at + fragmentSize);
    const part = frame.subarray(at, next);
    yield [fragmentHead(70, sequenceId, id, part.length), part];
    at = next;
  }
}
