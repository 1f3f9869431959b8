/**
 * The distribution handshake (erl_dist_protocol.md "Distribution Handshake"; OTP's dist_util.erl
 * is the model): one function per message, named after it, called in spec order.
 *
 *   initiator (handshakeWeStarted):   send_name → recv_status → recv_challenge →
 *                                     send_challenge_reply → recv_challenge_ack
 *   acceptor (handshakeOtherStarted): recv_name → send_status → send_challenge →
 *                                     [recv_complement] → recv_challenge_reply → send_challenge_ack
 *
 * Messages are framed with 2-byte lengths. Bytes that arrive after the last handshake message
 * belong to the 4-byte framing that follows and are handed over in `rest`: OTP's first frames
 * after challenge_ack can come in the same read.
 * Each network wait has its own timer (`setupTime`, like net_setuptime, default 7000 ms) and the
 * whole handshake honours an AbortSignal. The cookie and the digests are never logged.
 */
import type { Socket } from 'node:net';
import createDebug from 'debug';
import { digest, digestEquals, newChallenge } from './cookie.js';
import { TimeoutError } from '../../errors.js';
import { HandshakeError, ProtocolError, type HandshakeErrorCode, type HandshakeStep, type PeerInfo } from '../errors.js';
import { DFLAG, expandMandatory25, flagsHex, MANDATORY_26, missingMandatory, negotiate } from '../protocol/flags.js';
import {
  decodeChallenge, decodeChallengeAck, decodeChallengeReply, decodeComplement, decodeSendName, decodeStatus,
  encodeChallenge, encodeChallengeAck, encodeChallengeReply, encodeSendName, encodeStatus, encodeStatusNamed,
  frame2, type PlainStatus,
} from '../protocol/handshake-messages.js';
import { isAllowed, isNameOk } from '../protocol/names.js';

const log = createDebug('beamnode:dist:handshake');

/** net_setuptime's default: each handshake step must finish within 7 s. */
export const DEFAULT_SETUP_TIME = 7000;

/** Bytes a handshake may hold unparsed (the last message can arrive with the first data frames). */
const MAX_HANDSHAKE_BUFFER = 1024 * 1024;

/** Who we are in a handshake. */
export interface HandshakeIdentity {
  /** Our full node name, `alive@host` (for a NAME_ME initiator: only the host). */
  name: string;
  /** The cookie (never logged, never in an error). */
  cookie: string;
  /** Our creation (from EPMD's ALIVE2_X_RESP, or any non-zero 32-bit value). */
  creation: number;
  /** The flags we advertise (see flags.ts ourFlags()). */
  flags: bigint;
  /** Flags the peer must have (after DIGEST expansion). Default: the OTP 26 mandatory set. */
  requiredFlags?: bigint;
}

export interface HandshakeOptions {
  /** Per-step timeout in ms (net_setuptime). Default 7000. */
  setupTime?: number;
  signal?: AbortSignal;
  /**
   * Length prefix of the handshake messages: 2 over TCP (inet_tcp_dist, {packet,2}); 4 over TLS
   * (inet_tls_dist runs the whole handshake with {packet,4}). Default 2.
   */
  headerBytes?: 2 | 4;
}

/** What a completed handshake gives the connection. */
export interface HandshakeResult {
  /** The peer's node name (its true name, from its challenge or its send_name). */
  peer: string;
  /** Flags the peer advertised (MANDATORY_25_DIGEST expanded). */
  peerFlags: bigint;
  /** Negotiated flags: ours AND theirs. What both sides encode with. */
  flags: bigint;
  peerCreation: number;
  /** Our name on this connection (differs from the identity only when a peer named us, NAME_ME). */
  ourName: string;
  ourCreation: number;
  /** True when we dialed. */
  initiator: boolean;
  /** Bytes already read after the last handshake message: the start of the 4-byte framed stream. */
  rest: Buffer;
}

/** The acceptor's verdict on a peer, after its name (net_kernel's accept_pending answers). */
export type AcceptDecision =
  /** No connection or attempt to that node: go on. */
  | 'ok'
  /** We were dialing it too and lose (our name is the smaller atom): our attempt was cancelled. */
  | 'ok_simultaneous'
  /** We were dialing it too and win: tell it `nok`, it will wait for our attempt. */
  | 'nok'
  /** A connection to it is up: ask it whether that one is dead (`alive`), then replace it. */
  | 'alive'
  /** Something is already replacing the connection: close silently. */
  | 'already_pending';

/** The acceptor's callbacks into the connection table. */
export interface AcceptHooks {
  /** net_kernel:allow/1 list: when non-empty, other names get `not_allowed`. */
  allow?: readonly string[];
  /** Decide the status for this peer (default: 'ok'). `hidden` = the peer did not ask for PUBLISHED. */
  markPending?(peer: string, hidden: boolean): AcceptDecision | Promise<AcceptDecision>;
  /** After a valid reply to `alive`: close the old connection and wait for it to be gone. */
  waitPending?(peer: string): Promise<void>;
  /** Called when a handshake that `markPending` accepted fails, to clear the pending entry. */
  abandon?(peer: string): void;
  /** A name for a NAME_ME initiator that sent only its host; default: a random one. */
  nameForHost?(host: string): string;
}

/** The initiator's callbacks. */
export interface InitiatorHooks {
  /**
   * The peer says a connection with us is up (`alive`). Return true when that connection is dead
   * (we have none), so the peer replaces it; false to give up. Default: true.
   */
  onAlive?(peer: string): boolean;
}

/** Bytes of a peer that never sent a whole message kept for the error (a TLS alert is 7, an HTTP status line ~20). */
const RECEIVED_KEPT = 64;

/** Reads 2-byte framed handshake messages from a socket, one at a time, each within a timeout. */
class HandshakeChannel {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void; step: HandshakeStep } | undefined;
  private ended: Error | undefined;
  private socketError: Error | undefined;
  /** The first bytes received (≤ RECEIVED_KEPT), kept for errors until a whole message arrives. */
  private head: Buffer | undefined = Buffer.alloc(0);
  /** Context for errors: who the peer is and what we know of it. */
  peer: string;
  peerInfo: PeerInfo | undefined;

  constructor(
    readonly socket: Socket,
    peer: string,
    private readonly setupTime: number,
    private readonly signal: AbortSignal | undefined,
    private readonly headerBytes: 2 | 4 = 2,
  ) {
    this.peer = peer;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  error(code: HandshakeErrorCode, step: HandshakeStep, message: string, extra: { cause?: unknown; dialed?: string; actual?: string; missing?: string[] } = {}): HandshakeError {
    return new HandshakeError(
      code,
      message,
      { step, peer: this.peer, peerInfo: this.peerInfo, dialed: extra.dialed, actual: extra.actual, missing: extra.missing, received: this.head?.length ? this.head : undefined },
      extra.cause === undefined ? undefined : { cause: extra.cause },
    );
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.head && this.head.length < RECEIVED_KEPT) this.head = Buffer.concat([this.head, chunk.subarray(0, RECEIVED_KEPT - this.head.length)]);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.buf.length > MAX_HANDSHAKE_BUFFER) {
      this.fail(this.error('BEAM_ERR_HANDSHAKE_PROTOCOL', this.waiter?.step ?? 'recv_name', `more than ${MAX_HANDSHAKE_BUFFER} bytes buffered`));
      return;
    }
    this.pump();
  };

  private readonly onEnd = (): void => {
    if (!this.ended) this.ended = new Error('socket closed');
    this.pump();
  };

  private readonly onError = (e: Error): void => {
    this.socketError = e;
    this.onEnd();
  };

  private readonly onAbort = (): void => {
    const step = this.waiter?.step ?? 'connect';
    this.fail(this.error('BEAM_ERR_HANDSHAKE_ABORTED', step, 'aborted', { cause: this.signal?.reason }));
  };

  /** The next whole frame (2- or 4-byte length) out of the buffer, if there is one. */
  private takeFrame(): Buffer | undefined {
    const h = this.headerBytes;
    if (this.buf.length < h) return undefined;
    const n = h === 2 ? this.buf.readUInt16BE(0) : this.buf.readUInt32BE(0);
    if (this.buf.length < h + n) return undefined;
    const f = this.buf.subarray(h, h + n);
    this.buf = this.buf.subarray(h + n);
    this.head = undefined; // a whole message came: the peer speaks the protocol
    return f;
  }

  private pump(): void {
    const w = this.waiter;
    if (!w) return;
    const f = this.takeFrame();
    if (f) {
      this.waiter = undefined;
      w.resolve(f);
    } else if (this.ended) {
      this.waiter = undefined;
      const why = this.socketError ? `socket error ${(this.socketError as NodeJS.ErrnoException).code ?? this.socketError.message}` : 'the peer closed the connection';
      w.reject(this.error('BEAM_ERR_HANDSHAKE_CLOSED', w.step, `${why} at ${w.step}`, { cause: this.socketError }));
    }
  }

  /** The next handshake message, within setupTime. */
  recv(step: HandshakeStep): Promise<Buffer> {
    if (this.signal?.aborted) return Promise.reject(this.error('BEAM_ERR_HANDSHAKE_ABORTED', step, 'aborted', { cause: this.signal.reason }));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiter?.step !== step) return;
        this.waiter = undefined;
        // setupTime is per step, as net_setuptime is (OTP lib/kernel/src/dist_util.erl reset_timer).
        reject(new TimeoutError('handshake', `handshake step ${step} with ${this.peer} (setupTime)`, this.setupTime, { peer: this.peer, step, received: this.head?.length ? this.head : undefined }));
      }, this.setupTime);
      this.waiter = {
        step,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.pump();
    });
  }

  send(step: HandshakeStep, payload: Buffer): void {
    if (this.ended || this.socket.destroyed) throw this.error('BEAM_ERR_HANDSHAKE_CLOSED', step, `the connection was closed before ${step}`);
    if (log.enabled) log('%s %s (%d bytes)', this.peer, step, payload.length);
    this.socket.write(this.headerBytes === 2 ? frame2(payload) : frame4(payload));
  }

  /** Fails the current wait (if any) and closes the socket. */
  fail(e: HandshakeError | TimeoutError): void {
    const w = this.waiter;
    this.waiter = undefined;
    this.detach();
    this.socket.on('error', () => {}); // nobody listens any more; a late error must not crash us
    this.socket.destroy();
    w?.reject(e);
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  /** Handshake done: stop reading (the connection takes over) and return the unread bytes. */
  finish(): Buffer {
    this.socket.pause();
    this.detach();
    const rest = Buffer.from(this.buf);
    this.buf = Buffer.alloc(0);
    return rest;
  }
}

/** A step's failure as a HandshakeError naming the step; a step's deadline stays a TimeoutError. */
function asHandshakeError(ch: HandshakeChannel, step: HandshakeStep, e: unknown): HandshakeError | TimeoutError {
  if (e instanceof HandshakeError || e instanceof TimeoutError) return e;
  if (e instanceof ProtocolError) return ch.error('BEAM_ERR_HANDSHAKE_PROTOCOL', step, e.message, { cause: e });
  return ch.error('BEAM_ERR_HANDSHAKE_PROTOCOL', step, e instanceof Error ? e.message : String(e), { cause: e });
}

/** Runs one step; turns codec errors into a HandshakeError that names the step. */
async function step<T>(ch: HandshakeChannel, name: HandshakeStep, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw asHandshakeError(ch, name, e);
  }
}

// ---------------------------------------------------------------------------------------------
// Initiator
// ---------------------------------------------------------------------------------------------

interface InitiatorState {
  ch: HandshakeChannel;
  me: HandshakeIdentity;
  dialed: string;
  hooks: InitiatorHooks;
  ourName: string;
  ourCreation: number;
  nameMe: boolean;
}

/**
 * Runs the handshake on a connected socket to `dialed` (the name we dialed, which the peer's
 * challenge must carry). On failure the socket is destroyed and a HandshakeError is thrown.
 */
export async function handshakeWeStarted(
  socket: Socket,
  me: HandshakeIdentity,
  dialed: string,
  o: HandshakeOptions & InitiatorHooks = {},
): Promise<HandshakeResult> {
  const ch = new HandshakeChannel(socket, dialed, o.setupTime ?? DEFAULT_SETUP_TIME, o.signal, o.headerBytes);
  const nameMe = (me.flags & DFLAG.NAME_ME) !== 0n;
  const s: InitiatorState = { ch, me, dialed, hooks: o, ourName: me.name, ourCreation: nameMe ? 0 : me.creation, nameMe };
  try {
    sendName(s);
    await recvStatus(s);
    const { challenge, peerFlags, peerCreation } = await recvChallenge(s);
    const ours = newChallenge();
    sendChallengeReply(s, ours, digest(challenge, me.cookie));
    await recvChallengeAck(s, ours);
    const rest = ch.finish();
    const flags = negotiate(me.flags, peerFlags);
    log('%s up as initiator, negotiated %s', dialed, flagsHex(flags));
    return { peer: dialed, peerFlags, flags, peerCreation, ourName: s.ourName, ourCreation: s.ourCreation, initiator: true, rest };
  } catch (e) {
    const err = asHandshakeError(ch, 'connect', e);
    log('%s initiator failed: %s %s', dialed, err.code, err.message);
    ch.fail(err);
    throw err;
  }
}

/** 'N', Flags:64, Creation:32, Nlen:16, Name (we never send the old 'n'). */
function sendName(s: InitiatorState): void {
  const payload = encodeSendName({ flags: s.me.flags, creation: s.ourCreation, name: s.me.name });
  s.ch.send('send_name', payload);
}

/** 's' ok | ok_simultaneous | nok | not_allowed | alive | named: … */
async function recvStatus(s: InitiatorState): Promise<void> {
  const p = await s.ch.recv('recv_status');
  const st = await step(s.ch, 'recv_status', () => decodeStatus(p));
  log('%s recv_status %s', s.dialed, st.status);
  switch (st.status) {
    case 'ok':
    case 'ok_simultaneous':
      if (s.nameMe) throw s.ch.error('BEAM_ERR_HANDSHAKE_PROTOCOL', 'recv_status', `status ${st.status} to a NAME_ME request (expected named:)`);
      return;
    case 'named':
      if (!s.nameMe) throw s.ch.error('BEAM_ERR_HANDSHAKE_PROTOCOL', 'recv_status', 'status named: although we did not ask for a name');
      s.ourName = st.name;
      s.ourCreation = st.creation;
      return;
    case 'nok':
      throw s.ch.error('BEAM_ERR_HANDSHAKE_NOK', 'recv_status', 'the peer is connecting to us at the same time and its attempt wins (status nok)');
    case 'not_allowed':
      throw s.ch.error(
        'BEAM_ERR_HANDSHAKE_NOT_ALLOWED',
        'recv_status',
        'the peer does not allow us (status not_allowed: net_kernel:allow/1 list, or we lack flags it requires)',
      );
    case 'alive': {
      const replace = s.hooks.onAlive ? s.hooks.onAlive(s.dialed) : true;
      s.ch.send('send_status_reply', encodeStatus(replace ? 'true' : 'false'));
      if (!replace) throw s.ch.error('BEAM_ERR_HANDSHAKE_ALIVE', 'recv_status', 'the peer has a live connection with us and we chose to keep it (status alive, replied false)');
      return;
    }
    case 'true':
    case 'false':
    case 'unknown':
      throw s.ch.error('BEAM_ERR_HANDSHAKE_PROTOCOL', 'recv_status', `unexpected status ${JSON.stringify(st.status === 'unknown' ? st.text : st.status)}`);
    default:
      return st satisfies never;
  }
}

/** 'N', Flags:64, Challenge:32, Creation:32, Nlen:16, Name — the name must be the one we dialed. */
async function recvChallenge(s: InitiatorState): Promise<{ challenge: number; peerFlags: bigint; peerCreation: number }> {
  const p = await s.ch.recv('recv_challenge');
  const c = await step(s.ch, 'recv_challenge', () => decodeChallenge(p));
  const peerFlags = expandMandatory25(c.flags);
  s.ch.peerInfo = { name: c.name, flags: peerFlags, creation: c.creation };
  log('%s recv_challenge name=%s flags=%s creation=%d', s.dialed, c.name, flagsHex(c.flags), c.creation);
  if (c.name !== s.dialed) {
    throw s.ch.error(
      'BEAM_ERR_HANDSHAKE_NAME_MISMATCH',
      'recv_challenge',
      `we dialed ${s.dialed} but the node there is named ${c.name}; a BEAM node would refuse this connection ({recv_challenge_failed,no_node,"${c.name}"}): dial it by exactly its own name`,
      { dialed: s.dialed, actual: c.name },
    );
  }
  const missing = missingMandatory(peerFlags, s.me.requiredFlags ?? MANDATORY_26);
  if (missing.length > 0) {
    throw s.ch.error('BEAM_ERR_HANDSHAKE_MISSING_FLAGS', 'recv_challenge', `the peer cannot handle ${missing.join(', ')}`, { missing });
  }
  return { challenge: c.challenge, peerFlags, peerCreation: c.creation };
}

/** 'r', Challenge:32, Digest:16 */
function sendChallengeReply(s: InitiatorState, ours: number, d: Buffer): void {
  s.ch.send('send_challenge_reply', encodeChallengeReply({ challenge: ours, digest: d }));
}

/** 'a', Digest:16 — the peer closes instead when our digest was wrong (the cookies differ). */
async function recvChallengeAck(s: InitiatorState, ours: number): Promise<void> {
  let p: Buffer;
  try {
    p = await s.ch.recv('recv_challenge_ack');
  } catch (e) {
    if (e instanceof HandshakeError && e.code === 'BEAM_ERR_HANDSHAKE_CLOSED') {
      throw s.ch.error(
        'BEAM_ERR_HANDSHAKE_BAD_COOKIE',
        'recv_challenge_ack',
        'the peer rejected our challenge reply: the cookies differ (it closed the connection instead of acknowledging)',
        { cause: e },
      );
    }
    throw e;
  }
  const a = await step(s.ch, 'recv_challenge_ack', () => decodeChallengeAck(p));
  if (!digestEquals(a.digest, digest(ours, s.me.cookie))) {
    throw s.ch.error('BEAM_ERR_HANDSHAKE_BAD_COOKIE', 'recv_challenge_ack', "the peer's challenge ack does not match: the cookies differ");
  }
}

// ---------------------------------------------------------------------------------------------
// Acceptor
// ---------------------------------------------------------------------------------------------

interface AcceptorState {
  ch: HandshakeChannel;
  me: HandshakeIdentity;
  hooks: AcceptHooks;
  peer: string;
  peerFlags: bigint;
  peerCreation: number;
  /** The peer sent the old 'n' send_name: a 'c' complement follows our challenge. */
  old: boolean;
  nameMe: boolean;
  ourFlags: bigint;
  decision: AcceptDecision;
  /** markPending registered the peer as pending (so a failure must be reported back). */
  pending: boolean;
}

/**
 * Runs the acceptor's side on an accepted socket. `from` labels the peer until its name is read
 * (e.g. `127.0.0.1:51234`). On failure the socket is destroyed and a HandshakeError is thrown.
 */
export async function handshakeOtherStarted(
  socket: Socket,
  me: HandshakeIdentity,
  from: string,
  o: HandshakeOptions & AcceptHooks = {},
): Promise<HandshakeResult> {
  const ch = new HandshakeChannel(socket, from, o.setupTime ?? DEFAULT_SETUP_TIME, o.signal, o.headerBytes);
  const s: AcceptorState = {
    ch,
    me,
    hooks: o,
    peer: from,
    peerFlags: 0n,
    peerCreation: 0,
    old: false,
    nameMe: false,
    ourFlags: me.flags,
    decision: 'ok',
    pending: false,
  };
  try {
    await recvName(s);
    checkDflags(s, 'recv_name');
    await markPending(s);
    const ours = newChallenge();
    sendChallenge(s, ours);
    if (s.old) {
      await recvComplement(s);
      checkDflags(s, 'recv_complement');
    }
    const theirs = await recvChallengeReply(s, ours);
    if (s.decision === 'alive' && s.hooks.waitPending) await s.hooks.waitPending(s.peer);
    sendChallengeAck(s, digest(theirs, me.cookie));
    const rest = ch.finish();
    const flags = negotiate(s.ourFlags, s.peerFlags);
    log('%s up as acceptor, negotiated %s', s.peer, flagsHex(flags));
    return {
      peer: s.peer,
      peerFlags: s.peerFlags,
      flags,
      peerCreation: s.peerCreation,
      ourName: me.name,
      ourCreation: me.creation,
      initiator: false,
      rest,
    };
  } catch (e) {
    const err = asHandshakeError(ch, 'recv_name', e);
    log('%s acceptor failed: %s %s', s.peer, err.code, err.message);
    if (s.pending) s.hooks.abandon?.(s.peer);
    ch.fail(err);
    throw err;
  }
}

/** 'N' (v6) or 'n' (v5, accepted as OTP 25.3+ does): the peer's name, flags and creation. */
async function recvName(s: AcceptorState): Promise<void> {
  const p = await s.ch.recv('recv_name');
  const n = await step(s.ch, 'recv_name', () => decodeSendName(p));
  s.old = n.version === 5;
  s.peerFlags = expandMandatory25(n.flags);
  s.nameMe = (s.peerFlags & DFLAG.NAME_ME) !== 0n && !s.old;
  log('%s recv_name %s name=%s flags=%s', s.ch.peer, s.old ? "'n'" : "'N'", n.name, flagsHex(n.flags));
  if (!isNameOk(n.name, s.nameMe)) {
    // OTP closes silently here (dist_util:is_name_ok/2 false → shutdown, no status).
    throw s.ch.error('BEAM_ERR_HANDSHAKE_BAD_NAME', 'recv_name', `illegal node name ${JSON.stringify(n.name)} in send_name`);
  }
  const allow = s.hooks.allow ?? [];
  if (allow.length > 0 && !isAllowed(n.name, allow)) {
    s.ch.peer = n.name;
    s.ch.send('send_status', encodeStatus('not_allowed'));
    throw s.ch.error('BEAM_ERR_HANDSHAKE_NOT_ALLOWED', 'recv_name', `connection attempt from disallowed node ${n.name}`);
  }
  if (s.nameMe) {
    const name = s.hooks.nameForHost ? s.hooks.nameForHost(n.name) : `${randomAlive()}@${n.name}`;
    s.peer = name;
    s.peerCreation = newCreation();
    // dist_util:publish_flag/3: answer a NAME_ME request with NAME_ME instead of PUBLISHED.
    s.ourFlags = (s.me.flags & ~DFLAG.PUBLISHED) | DFLAG.NAME_ME;
  } else {
    s.peer = n.name;
    s.peerCreation = n.version === 6 ? n.creation : 0;
  }
  s.ch.peer = s.peer;
  s.ch.peerInfo = { name: s.peer, flags: s.peerFlags, creation: s.peerCreation };
}

/** dist_util:check_dflags/2 on the acceptor: missing mandatory flags → `not_allowed`. */
function checkDflags(s: AcceptorState, at: HandshakeStep): void {
  let required = s.me.requiredFlags ?? MANDATORY_26;
  // After an old 'n' only the low 32 bits are known until the complement arrives.
  if (s.old && at === 'recv_name') required &= 0xffffffffn;
  const missing = missingMandatory(s.peerFlags, required);
  if (missing.length === 0) return;
  if (at === 'recv_name') s.ch.send('send_status', encodeStatus('not_allowed'));
  throw s.ch.error('BEAM_ERR_HANDSHAKE_MISSING_FLAGS', at, `connection attempt from node ${s.peer} rejected since it cannot handle ${missing.join(', ')}`, {
    missing,
  });
}

/** Ask the connection table what to answer, then send_status (and handle `alive`). */
async function markPending(s: AcceptorState): Promise<void> {
  s.decision = s.hooks.markPending ? await s.hooks.markPending(s.peer, (s.peerFlags & DFLAG.PUBLISHED) === 0n) : 'ok';
  log('%s mark_pending → %s', s.peer, s.decision);
  switch (s.decision) {
    case 'ok':
    case 'ok_simultaneous':
      s.pending = true;
      if (s.nameMe) sendStatusNamed(s);
      else sendStatus(s, s.decision);
      return;
    case 'nok':
      sendStatus(s, 'nok');
      throw s.ch.error('BEAM_ERR_HANDSHAKE_NOK', 'send_status', `simultaneous connect with ${s.peer}: our own attempt wins (status nok)`);
    case 'alive':
      s.pending = true;
      sendStatus(s, 'alive');
      await recvStatusReply(s);
      return;
    case 'already_pending':
      throw s.ch.error('BEAM_ERR_HANDSHAKE_ALIVE', 'send_status', `a connection with ${s.peer} is already being replaced`);
    default:
      return s.decision satisfies never;
  }
}

/** 's' + status text. */
function sendStatus(s: AcceptorState, status: PlainStatus): void {
  s.ch.send('send_status', encodeStatus(status));
}

/** 's' named: Nlen:16 Name Creation:32 — the name we give a NAME_ME initiator. */
function sendStatusNamed(s: AcceptorState): void {
  s.ch.send('send_status', encodeStatusNamed(s.peer, s.peerCreation));
}

/** After `alive`: 's' true (replace the old connection) or 's' false (give up). */
async function recvStatusReply(s: AcceptorState): Promise<void> {
  const p = await s.ch.recv('recv_status_reply');
  const st = await step(s.ch, 'recv_status_reply', () => decodeStatus(p));
  if (st.status === 'true') return;
  if (st.status === 'false') throw s.ch.error('BEAM_ERR_HANDSHAKE_ALIVE', 'recv_status_reply', 'the peer keeps its existing connection (replied false to alive)');
  throw s.ch.error('BEAM_ERR_HANDSHAKE_PROTOCOL', 'recv_status_reply', `unexpected reply ${JSON.stringify(st.status === 'unknown' ? st.text : st.status)} to alive`);
}

/** 'N', Flags:64, Challenge:32, Creation:32, Nlen:16, Name (also after an old 'n'). */
function sendChallenge(s: AcceptorState, challenge: number): void {
  s.ch.send('send_challenge', encodeChallenge({ flags: s.ourFlags, challenge, creation: s.me.creation, name: s.me.name }));
}

/** 'c', FlagsHigh:32, Creation:32 — only after an old 'n' send_name. */
async function recvComplement(s: AcceptorState): Promise<void> {
  const p = await s.ch.recv('recv_complement');
  const c = await step(s.ch, 'recv_complement', () => decodeComplement(p));
  s.peerFlags = expandMandatory25(s.peerFlags | (BigInt(c.flagsHigh) << 32n));
  s.peerCreation = c.creation;
  s.ch.peerInfo = { name: s.peer, flags: s.peerFlags, creation: s.peerCreation };
}

/** 'r', Challenge:32, Digest:16 — a wrong digest means a wrong cookie: close without an ack. */
async function recvChallengeReply(s: AcceptorState, ours: number): Promise<number> {
  const p = await s.ch.recv('recv_challenge_reply');
  const r = await step(s.ch, 'recv_challenge_reply', () => decodeChallengeReply(p));
  if (!digestEquals(r.digest, digest(ours, s.me.cookie))) {
    log('** Connection attempt from node %s rejected. Invalid challenge reply. **', s.peer);
    throw s.ch.error('BEAM_ERR_HANDSHAKE_BAD_COOKIE', 'recv_challenge_reply', `connection attempt from node ${s.peer} rejected: invalid challenge reply (the cookies differ)`);
  }
  return r.challenge;
}

/** 'a', Digest:16 */
function sendChallengeAck(s: AcceptorState, d: Buffer): void {
  s.ch.send('send_challenge_ack', encodeChallengeAck(d));
}

// ---------------------------------------------------------------------------------------------

const ALIVE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A random alive part for a NAME_ME peer (OTP makes 13 characters of this alphabet). */
function randomAlive(): string {
  let s = '';
  for (let i = 0; i < 13; i++) s += ALIVE_CHARS[Math.floor(Math.random() * ALIVE_CHARS.length)];
  return s;
}

/** A non-zero 32-bit creation. */
function newCreation(): number {
  return (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
}

/** A handshake message with a 4-byte length (TLS distribution). */
function frame4(payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeUInt32BE(payload.length, 0);
  payload.copy(b, 4);
  return b;
}
