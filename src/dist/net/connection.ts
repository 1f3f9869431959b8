/**
 * One established distribution connection: 4-byte frames in both directions, control messages
 * decoded into the `Control` union, ticks as net_kernel/dist_util keep them (OTP dist_util.erl send_tick/2).
 *
 * Liveness: every tickTime/4 we send a tick when nothing was written since the last check, and
 * we close with BEAM_ERR_DIST_TICK_TIMEOUT when nothing at all was read for tickTime (4 checks in
 * a row; OTP's detection window is thus between 3/4 and 5/4 of net_ticktime). A received tick is
 * answered with a tick unless we wrote something a moment ago (no echo storms between two of us).
 *
 * A malformed frame closes this connection with a ProtocolError; it never throws out of the
 * socket's event handler.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import createDebug from 'debug';
import { Writer, type DecodeOptions } from '../../etf/index.js';
import { atom, type Atom, type Term } from '../../etf/types.js';
import { adaptToFlags, controlToTuple, hasMessage, tupleToControl, type Control } from '../protocol/control.js';
import { DistError, ProtocolError } from '../errors.js';
import { distHeaderCodec } from '../protocol/dist-header.js';
import { DFLAG, flagsHex, HOT_PATH_FLAGS, isHidden } from '../protocol/flags.js';
import type { FragmentLimits } from '../protocol/fragments.js';
import { FrameSender } from './frame-sender.js';
import { DEFAULT_MAX_FRAME, FrameReader, passThroughCodec, TICK_FRAME, type FrameCodec } from '../protocol/framing.js';
import type { HandshakeResult } from './handshake.js';

const log = createDebug('beamnode:dist:connection');

/** net_ticktime's default, in ms. */
export const DEFAULT_TICK_TIME = 60_000;

/** Checks per tickTime, as net_tickintensity's default. */
const TICK_INTENSITY = 4;

export interface ConnectionOptions {
  /** net_ticktime in ms (default 60000). Use the same value as the peers (`-kernel net_ticktime`). */
  tickTime?: number;
  /** Largest frame accepted (default 128 MiB); a bigger length prefix closes the connection. */
  maxFrame?: number;
  /**
   * Frame body codec. Default: by the negotiated flags, the distribution header codec
   * (dist-header.ts) when DIST_HDR_ATOM_CACHE or FRAGMENTS is set, else pass-through.
   */
  codec?: FrameCodec;
  /** Message bytes per fragment when FRAGMENTS is negotiated (default 64 KiB, as OTP). */
  fragmentSize?: number;
  /** Bounds on the peer's fragmented messages being reassembled (see fragments.ts). */
  fragmentLimits?: Partial<FragmentLimits>;
  /** Bytes queued for the socket above which send() returns false (default 1 MiB). */
  highWater?: number;
  /** Options for decoding incoming terms (limits, atom/binary mapping). */
  decodeOptions?: DecodeOptions;
}

export interface ConnectionEvents {
  control: [control: Control, message: Term | undefined];
  close: [reason: Error | undefined];
  drain: [];
  tick: [];
}

/**
 * A handshaken connection. Events: `'control'(control, message)`, `'close'(reason)` (once;
 * reason undefined after our own close()), `'drain'` (after send() returned false), `'tick'`.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  /** The peer's node name. */
  readonly peer: string;
  readonly peerAtom: Atom;
  /** Negotiated flags (ours AND theirs). */
  readonly flags: bigint;
  /** The flags the peer advertised. */
  readonly peerFlags: bigint;
  readonly peerCreation: number;
  /** True when the connection is hidden (PUBLISHED not negotiated). */
  readonly hidden: boolean;
  /** True when we dialed. */
  readonly initiator: boolean;
  /** Our node name and creation on this connection. */
  readonly ourName: string;
  readonly ourCreation: number;
  readonly tickTime: number;

  private readonly reader: FrameReader;
  private readonly codec: FrameCodec;
  private readonly writer = new Writer(256);
  private readonly sender: FrameSender;
  private readonly timer: NodeJS.Timeout;
  private readSinceCheck = false;
  private wroteSinceCheck = false;
  /** performance.now() of our last write, and the least gap before we answer a tick. */
  private lastWrite = -Infinity;
  private readonly tickReplyGap: number;
  private silentChecks = 0;
  private closedWith: { reason: Error | undefined } | undefined;

  constructor(
    private readonly socket: Socket,
    hs: HandshakeResult,
    o: ConnectionOptions = {},
  ) {
    super();
    this.peer = hs.peer;
    this.peerAtom = atom(hs.peer);
    this.flags = hs.flags;
    this.peerFlags = hs.peerFlags;
    this.peerCreation = hs.peerCreation;
    this.hidden = isHidden(hs.flags);
    this.initiator = hs.initiator;
    this.ourName = hs.ourName;
    this.ourCreation = hs.ourCreation;
    this.tickTime = o.tickTime ?? DEFAULT_TICK_TIME;
    if (!(this.tickTime >= TICK_INTENSITY)) throw new RangeError(`tickTime ${this.tickTime} ms is too small`);
    // Well below any peer's tick interval (net_ticktime/4 ≥ 250 ms), and at most 2 echoes a second.
    this.tickReplyGap = Math.min(500, this.tickTime / 8);
    this.reader = new FrameReader(4, o.maxFrame ?? DEFAULT_MAX_FRAME);
    this.codec =
      o.codec ??
      (hs.flags & HOT_PATH_FLAGS
        ? distHeaderCodec({
            atomCache: (hs.flags & DFLAG.DIST_HDR_ATOM_CACHE) !== 0n,
            fragments: (hs.flags & DFLAG.FRAGMENTS) !== 0n,
            fragmentSize: o.fragmentSize,
            fragmentLimits: o.fragmentLimits,
            decodeOptions: o.decodeOptions,
          })
        : passThroughCodec(o.decodeOptions));
    // Frames of one event-loop turn go out in one write; fragments a few per turn (fragments.ts).
    this.sender = new FrameSender(socket, { highWater: o.highWater, onDrain: this.onDrain });
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('close', this.onSocketClose);
    socket.on('error', this.onSocketError);
    this.timer = setInterval(this.onTickTimer, Math.floor(this.tickTime / TICK_INTENSITY));
    this.timer.unref();
    log('%s up (%s, flags %s, tick %d ms)', this.peer, this.hidden ? 'hidden' : 'visible', flagsHex(this.flags), this.tickTime);
    // Bytes read together with the last handshake message are the first frames (OTP may send
    // them right after challenge_ack). They
    // are handled on the next tick, so that whoever builds the Connection can attach listeners.
    process.nextTick(() => {
      if (hs.rest.length > 0) this.onData(hs.rest);
      if (this.closedWith) return;
      // The peer may have closed right after the handshake, before we listened for 'close'.
      if (socket.destroyed) this.onSocketClose();
      else socket.resume();
    });
  }

  /** True once the connection is closed (no more events but the one 'close'). */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Bytes held for the peer's fragmented messages still being reassembled (see fragments.ts). */
  get pendingFragmentBytes(): number {
    return this.codec.pendingBytes?.() ?? 0;
  }

  /** Bytes queued or written but not yet handed to the kernel (back-pressure). */
  get bufferedBytes(): number {
    return this.sender.bufferedBytes;
  }

  /**
   * Sends a control message (and its message term, for the ops that carry one). The control is
   * first adapted to the negotiated flags (adaptToFlags): e.g. send_sender becomes send without
   * SEND_SENDER. Returns false under back-pressure (wait for 'drain') or when the signal cannot be
   * delivered to this peer (closed connection, or a signal its flags do not support: then nothing
   * was sent; check `closed`). Throws the codec's EncodeError for a term that cannot be encoded.
   */
  send(control: Control, message?: Term): boolean {
    if (this.closedWith) return false;
    if (hasMessage(control.op) !== (message !== undefined)) {
      throw new ProtocolError(
        'BEAM_ERR_DIST_BAD_CONTROL',
        hasMessage(control.op) ? `control ${control.op} needs a message term` : `control ${control.op} takes no message term`,
      );
    }
    const adapted = adaptToFlags(control, message, this.flags);
    if (!adapted) {
      log('%s drop %s: not supported by the negotiated flags', this.peer, control.op);
      return false;
    }
    const w = this.writer;
    w.reset();
    try {
      this.codec.encodeFrame(w, controlToTuple(adapted.control), adapted.message);
    } catch (e) {
      w.reset();
      throw e;
    }
    const frame = w.take();
    const parts = this.codec.splitFrame?.(frame);
    this.wroteSinceCheck = true;
    this.lastWrite = performance.now();
    if (parts) this.sender.fragments(parts, frame.length);
    else this.sender.frame(frame);
    return this.sender.accepting();
  }

  /** Writes one already-framed buffer (4-byte length included). For tests and raw tools. */
  sendRaw(frame: Buffer): boolean {
    if (this.closedWith) return false;
    return this.write(frame);
  }

  private write(b: Buffer, urgent = false): boolean {
    this.wroteSinceCheck = true;
    this.lastWrite = performance.now();
    this.sender.frame(b, urgent);
    return this.sender.accepting();
  }

  /** Closes the connection: 'close' is emitted with `reason` (undefined for a normal close). */
  close(reason?: Error): void {
    if (this.closedWith) return;
    this.closedWith = { reason };
    clearInterval(this.timer);
    this.socket.off('data', this.onData);
    // Flush the whole frames queued, but never wait long for a peer that does not read.
    this.sender.flushNow();
    this.sender.close();
    this.codec.close?.();
    this.socket.end();
    const kill = setTimeout(() => this.socket.destroy(), 1000);
    kill.unref();
    this.socket.once('close', () => clearTimeout(kill));
    log('%s closed: %s', this.peer, reason ? `${(reason as { code?: string }).code ?? ''} ${reason.message}` : 'by us');
    this.emit('close', reason);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closedWith) return;
    this.readSinceCheck = true;
    try {
      this.reader.push(chunk, this.onFrame);
    } catch (e) {
      this.close(e instanceof Error ? e : new ProtocolError('BEAM_ERR_DIST_PROTOCOL', String(e)));
    }
  };

  private readonly onFrame = (payload: Buffer): boolean => {
    if (this.closedWith) return false;
    if (payload.length === 0) {
      // A tick. Answer it (any bytes we write count as liveness for the peer), unless we wrote
      // a moment ago: two beamnode nodes would otherwise echo ticks back and forth forever.
      if (performance.now() - this.lastWrite >= this.tickReplyGap) this.write(TICK_FRAME, true);
      this.emit('tick');
      return true;
    }
    let control: Control;
    let message: Term | undefined;
    try {
      const body = this.codec.decodeFrame(payload);
      if (body === undefined) return true; // a fragment; the message is not complete yet
      control = tupleToControl(body.control);
      message = body.message;
      if (hasMessage(control.op) !== (message !== undefined)) {
        throw new ProtocolError(
          'BEAM_ERR_DIST_BAD_CONTROL',
          `invalid distribution message: ${control.op} ${message === undefined ? 'without' : 'with'} a message term`,
        );
      }
    } catch (e) {
      if (log.enabled) log('%s bad frame %s', this.peer, payload.subarray(0, 64).toString('hex'));
      const err = e instanceof ProtocolError ? e : new ProtocolError('BEAM_ERR_DIST_PROTOCOL', `undecodable frame from ${this.peer}: ${(e as Error).message}`, { cause: e });
      this.close(err);
      return false;
    }
    try {
      this.emit('control', control, message);
    } catch (e) {
      // A listener's bug is not the peer's fault: report it without corrupting the frame stream.
      queueMicrotask(() => {
        throw e;
      });
    }
    return true;
  };

  private readonly onTickTimer = (): void => {
    if (this.closedWith) return;
    if (this.readSinceCheck) {
      this.silentChecks = 0;
    } else if (++this.silentChecks >= TICK_INTENSITY) {
      this.close(new DistError('BEAM_ERR_DIST_TICK_TIMEOUT', `node ${this.peer} not responding: nothing read for ${this.tickTime} ms (net_ticktime)`, { peer: this.peer }));
      return;
    }
    this.readSinceCheck = false;
    if (!this.wroteSinceCheck) this.write(TICK_FRAME, true);
    this.wroteSinceCheck = false;
  };

  private readonly onDrain = (): void => {
    if (!this.closedWith) this.emit('drain');
  };

  private readonly onSocketError = (e: Error): void => {
    this.close(new DistError('BEAM_ERR_DIST_SOCKET', `connection to ${this.peer}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e, peer: this.peer }));
  };

  private readonly onSocketClose = (): void => {
    this.close(new DistError('BEAM_ERR_DIST_CLOSED', `connection to ${this.peer} closed by the peer`, { peer: this.peer }));
  };
}
