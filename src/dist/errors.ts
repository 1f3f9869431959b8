/**
 * Errors of the distribution layer. Every one has a stable `code`; none ever holds a cookie or a
 * digest (messages name the step and the peer instead).
 */
import { BeamnodeError } from '../errors.js';

/** What we learnt about the peer from its challenge (set on every handshake failure after it). */
export interface PeerInfo {
  /** The name the peer sent in its challenge (its true name, `node()` over there). */
  name: string;
  /** The flags it advertised (after MANDATORY_25_DIGEST expansion). */
  flags: bigint;
  creation: number;
}

/** The codes of DistError. */
export type DistErrorCode =
  | 'BEAM_ERR_DIST_BAD_NAME' // a node name that is not alive@host, or not legal in our names mode
  | 'BEAM_ERR_DIST_ILLEGAL_HOST' // a host part the names mode refuses (short name with a dot, long without)
  | 'BEAM_ERR_DIST_SELF' // dialing our own name
  | 'BEAM_ERR_DIST_UNRESOLVED' // the peer's host does not resolve
  | 'BEAM_ERR_DIST_CONNECT' // TCP connect refused or failed; an inbound handshake that failed
  | 'BEAM_ERR_DIST_TLS' // the TLS handshake failed (either way)
  | 'BEAM_ERR_DIST_ABORTED' // the caller's signal aborted a connect
  | 'BEAM_ERR_DIST_SIMULTANEOUS' // our attempt lost a simultaneous connect (callers get the peer's)
  | 'BEAM_ERR_DIST_BUSY' // maxInboundHandshakes reached: an inbound connection refused
  | 'BEAM_ERR_DIST_REPLACED' // a newer connection to the same peer replaced this one
  | 'BEAM_ERR_DIST_TICK_TIMEOUT' // nothing read for net_ticktime: the peer is gone
  | 'BEAM_ERR_DIST_SOCKET' // a socket error on an established connection
  | 'BEAM_ERR_DIST_CLOSED' // the connection or the network is closed
  | 'BEAM_ERR_DIST_USAGE' // API misuse (listen twice)
  | 'BEAM_ERR_COOKIE_MISSING' // no cookie option, no ERLANG_COOKIE, no ~/.erlang.cookie
  | 'BEAM_ERR_COOKIE_FILE' // the cookie file cannot be read (or is too large)
  | 'BEAM_ERR_COOKIE_FILE_TYPE' // the cookie file is not a regular file
  | 'BEAM_ERR_COOKIE_FILE_MODE' // the cookie file is readable by group or others (erl refuses it too)
  | 'BEAM_ERR_COOKIE_BAD'; // an empty, over-long or non-Latin-1 cookie

/**
 * A failure of the distribution layer outside the handshake: connection setup (bad name, EPMD,
 * TCP), a lost connection, a tick timeout, a cookie file that cannot be used.
 */
export class DistError extends BeamnodeError {
  static override readonly brand: string = 'DistError';
  declare readonly code: DistErrorCode;
  /** The peer's node name when the failure concerns one peer. */
  readonly peer: string | undefined;
  constructor(code: DistErrorCode, message: string, options?: ErrorOptions & { peer?: string }) {
    super(code, message, options);
    this.peer = options?.peer;
  }
}

/** The handshake steps, in the order the spec runs them (used in every HandshakeError). */
export type HandshakeStep =
  | 'connect'
  | 'send_name'
  | 'recv_name'
  | 'send_status'
  | 'recv_status'
  | 'send_status_reply'
  | 'recv_status_reply'
  | 'send_challenge'
  | 'recv_challenge'
  | 'recv_complement'
  | 'send_challenge_reply'
  | 'recv_challenge_reply'
  | 'send_challenge_ack'
  | 'recv_challenge_ack';

export type HandshakeErrorCode =
  | 'BEAM_ERR_HANDSHAKE_NAME_MISMATCH'
  | 'BEAM_ERR_HANDSHAKE_BAD_COOKIE'
  | 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED'
  | 'BEAM_ERR_HANDSHAKE_MISSING_FLAGS'
  | 'BEAM_ERR_HANDSHAKE_CLOSED'
  | 'BEAM_ERR_HANDSHAKE_PROTOCOL'
  | 'BEAM_ERR_HANDSHAKE_NOK'
  | 'BEAM_ERR_HANDSHAKE_ALIVE'
  | 'BEAM_ERR_HANDSHAKE_BAD_NAME'
  | 'BEAM_ERR_HANDSHAKE_ABORTED';

export interface HandshakeErrorDetails {
  /** The handshake step that failed. */
  step: HandshakeStep;
  /** The peer: the dialed name (initiator) or the name it sent / its address (acceptor). */
  peer: string;
  /** The peer's name, flags and creation, once its challenge (or name) has been read. */
  peerInfo?: PeerInfo;
  /** NAME_MISMATCH: the name we dialed. */
  dialed?: string;
  /** NAME_MISMATCH: the name the peer holds (from its challenge). */
  actual?: string;
  /** MISSING_FLAGS: the names of the mandatory flags the other side lacks. */
  missing?: string[];
  /**
   * The first bytes the peer sent (at most 64), when they never made a handshake message: lets a
   * caller tell a TLS listener, an HTTP proxy or another protocol from a BEAM node.
   */
  received?: Buffer;
}

/** The handshake failed. `step` and `peer` say where; `peerInfo` what we learnt before it did. */
export class HandshakeError extends BeamnodeError {
  static override readonly brand: string = 'HandshakeError';
  override readonly code: HandshakeErrorCode;
  readonly step: HandshakeStep;
  readonly peer: string;
  readonly peerInfo: PeerInfo | undefined;
  readonly dialed: string | undefined;
  readonly actual: string | undefined;
  readonly missing: string[] | undefined;
  readonly received: Buffer | undefined;
  constructor(code: HandshakeErrorCode, message: string, details: HandshakeErrorDetails, options?: ErrorOptions) {
    super(code, `${details.step} with ${details.peer}: ${message}`, options);
    this.code = code;
    this.step = details.step;
    this.peer = details.peer;
    this.peerInfo = details.peerInfo;
    this.dialed = details.dialed;
    this.actual = details.actual;
    this.missing = details.missing;
    this.received = details.received;
  }
}

/** The codes of ProtocolError. */
export type ProtocolErrorCode =
  | 'BEAM_ERR_DIST_UNDECODABLE' // a control or message term we cannot decode (or over a decode limit)
  | 'BEAM_ERR_DIST_BAD_CONTROL' // an invalid control message (OTP: "Invalid distribution message")
  | 'BEAM_ERR_DIST_PROTOCOL' // a malformed frame body (pass-through bytes, trailing bytes)
  | 'BEAM_ERR_DIST_HEADER' // a malformed distribution header or atom cache reference
  | 'BEAM_ERR_DIST_FRAGMENT' // fragments out of order or of an unknown sequence
  | 'BEAM_ERR_DIST_FRAGMENT_LIMIT' // fragmentLimits passed (bytes, open sequences)
  | 'BEAM_ERR_DIST_FRAME_TOO_LARGE' // a frame length over maxFrame
  | 'BEAM_ERR_DIST_FRAMING' // FrameReader misuse (push after stop)
  | 'BEAM_ERR_DIST_BAD_HANDSHAKE_MESSAGE'; // the handshake codec: a malformed handshake message

/** Where in a frame a ProtocolError was found (set when the bytes came from a peer). */
export interface ProtocolErrorDetails {
  /** The peer that sent the bytes. */
  peer?: string;
  /** Which term of the frame failed to decode. */
  part?: 'control' | 'message';
  /** The byte offset of the failure in the frame body (a fragmented message: its reassembled body). */
  offset?: number;
  /** The byte at `offset`: the term tag we refused, for an unknown tag (e.g. 67 RECORD_EXT before it was supported). */
  tag?: number;
}

/**
 * Malformed bytes or terms on an established connection (or in a handshake codec). A term we
 * cannot decode (BEAM_ERR_DIST_UNDECODABLE) keeps the codec's DecodeError as `cause`.
 */
export class ProtocolError extends BeamnodeError {
  static override readonly brand: string = 'ProtocolError';
  readonly peer: string | undefined;
  readonly part: 'control' | 'message' | undefined;
  readonly offset: number | undefined;
  readonly tag: number | undefined;
  declare readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string, options?: ErrorOptions & ProtocolErrorDetails) {
    super(code, message, options);
    this.peer = options?.peer;
    this.part = options?.part;
    this.offset = options?.offset;
    this.tag = options?.tag;
  }
}
