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

/**
 * A failure of the distribution layer outside the handshake: connection setup (bad name, EPMD,
 * TCP), a lost connection, a tick timeout, a cookie file that cannot be used.
 */
export class DistError extends BeamnodeError {
  /** The peer's node name when the failure concerns one peer. */
  readonly peer: string | undefined;
  constructor(code: `BEAM_ERR_${string}`, message: string, options?: ErrorOptions & { peer?: string }) {
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
  | 'BEAM_ERR_HANDSHAKE_TIMEOUT'
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

/** Malformed bytes or terms on an established connection (or in a handshake codec). */
export class ProtocolError extends BeamnodeError {
  constructor(code: `BEAM_ERR_${string}`, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
