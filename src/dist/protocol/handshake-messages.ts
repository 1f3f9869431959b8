/**
 * Pure codecs for the handshake messages (the payload after the 2-byte length), in spec order
 * (OTP erts/doc/guides/erl_dist_protocol.md; lib/kernel/src/dist_util.erl send_X and recv_X). No sockets here.
 *
 * Node names travel as Latin-1 bytes (dist_util sends atom_to_binary(Node, latin1)); the `named:`
 * status is the one place OTP uses UTF-8.
 */
import { ProtocolError } from '../errors.js';

export const TAG_NAME_NEW = 0x4e; // 'N' send_name v6, and the v6 challenge
export const TAG_NAME_OLD = 0x6e; // 'n' send_name v5
export const TAG_STATUS = 0x73; // 's'
export const TAG_COMPLEMENT = 0x63; // 'c'
export const TAG_CHALLENGE_REPLY = 0x72; // 'r'
export const TAG_CHALLENGE_ACK = 0x61; // 'a'

const malformed = (what: string, detail: string): ProtocolError =>
  new ProtocolError('BEAM_ERR_HANDSHAKE_PROTOCOL', `malformed ${what}: ${detail}`);

function latin1Name(name: string, what: string): Buffer {
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) > 0xff) throw malformed(what, `node name ${JSON.stringify(name)} has a character above U+00FF`);
  }
  const b = Buffer.from(name, 'latin1');
  if (b.length > 0xffff) throw malformed(what, 'node name longer than 65535 bytes');
  return b;
}

function u64(buf: Uint8Array, at: number): bigint {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readBigUInt64BE(at);
}

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

// ---- send_name ------------------------------------------------------------------------------

/** send_name v6: 'N', Flags:64, Creation:32, Nlen:16, Name. */
export interface SendName {
  version: 6;
  flags: bigint;
  creation: number;
  name: string;
}
/** send_name v5 (OTP ≤ 24 peers that do not know our version): 'n', Version:16, Flags:32, Name. */
export interface SendNameOld {
  version: 5;
  /** The version field as sent (5). */
  wireVersion: number;
  flags: bigint;
  name: string;
}

export function encodeSendName(m: { flags: bigint; creation: number; name: string }): Buffer {
  const name = latin1Name(m.name, 'send_name');
  const b = Buffer.allocUnsafe(15 + name.length);
  b[0] = TAG_NAME_NEW;
  b.writeBigUInt64BE(BigInt.asUintN(64, m.flags), 1);
  b.writeUInt32BE(m.creation >>> 0, 9);
  b.writeUInt16BE(name.length, 13);
  name.copy(b, 15);
  return b;
}

export function encodeSendNameOld(m: { flags: bigint; name: string; version?: number }): Buffer {
  const name = latin1Name(m.name, 'send_name');
  const b = Buffer.allocUnsafe(7 + name.length);
  b[0] = TAG_NAME_OLD;
  b.writeUInt16BE(m.version ?? 5, 1);
  b.writeUInt32BE(Number(m.flags & 0xffffffffn), 3);
  name.copy(b, 7);
  return b;
}

/** Decodes either send_name form; bytes after the name of an 'N' are ignored, as OTP does. */
export function decodeSendName(p: Uint8Array): SendName | SendNameOld {
  if (p.length === 0) throw malformed('send_name', 'empty message');
  const v = view(p);
  if (p[0] === TAG_NAME_NEW) {
    if (p.length < 15) throw malformed('send_name', `${p.length} bytes, at least 15 needed`);
    const len = v.readUInt16BE(13);
    if (15 + len > p.length) throw malformed('send_name', `name length ${len} but ${p.length - 15} bytes left`);
    return { version: 6, flags: u64(p, 1), creation: v.readUInt32BE(9), name: v.toString('latin1', 15, 15 + len) };
  }
  if (p[0] === TAG_NAME_OLD) {
    if (p.length < 7) throw malformed('send_name', `old form of ${p.length} bytes, at least 7 needed`);
    return { version: 5, wireVersion: v.readUInt16BE(1), flags: BigInt(v.readUInt32BE(3)), name: v.toString('latin1', 7) };
  }
  throw malformed('send_name', `tag ${p[0]} is neither 'N' nor 'n'`);
}

// ---- status -----------------------------------------------------------------------------------

/** The plain statuses the acceptor sends, and the initiator's reply to `alive`. */
export type PlainStatus = 'ok' | 'ok_simultaneous' | 'nok' | 'not_allowed' | 'alive' | 'true' | 'false';
export type Status = { status: PlainStatus } | { status: 'named'; name: string; creation: number } | { status: 'unknown'; text: string };

const PLAIN: ReadonlySet<string> = new Set(['ok', 'ok_simultaneous', 'nok', 'not_allowed', 'alive', 'true', 'false']);

export function encodeStatus(status: PlainStatus): Buffer {
  return Buffer.concat([Buffer.of(TAG_STATUS), Buffer.from(status, 'latin1')]);
}

/** `s named:` Nlen:16 Name(UTF-8) Creation:32 — the acceptor names a NAME_ME initiator. */
export function encodeStatusNamed(name: string, creation: number): Buffer {
  const n = Buffer.from(name, 'utf8');
  if (n.length > 0xffff) throw malformed('send_status', 'name longer than 65535 bytes');
  const b = Buffer.allocUnsafe(1 + 6 + 2 + n.length + 4);
  b[0] = TAG_STATUS;
  b.write('named:', 1, 'latin1');
  b.writeUInt16BE(n.length, 7);
  n.copy(b, 9);
  b.writeUInt32BE(creation >>> 0, 9 + n.length);
  return b;
}

/** Decodes a status message; an unknown text is returned as such (the caller decides). */
export function decodeStatus(p: Uint8Array): Status {
  if (p.length === 0 || p[0] !== TAG_STATUS) throw malformed('status', p.length === 0 ? 'empty message' : `tag ${p[0]} is not 's'`);
  const v = view(p);
  if (p.length >= 7 && v.toString('latin1', 1, 7) === 'named:') {
    if (p.length < 9) throw malformed('status named:', 'no name length');
    const len = v.readUInt16BE(7);
    if (9 + len + 4 > p.length) throw malformed('status named:', `name length ${len} but ${p.length - 9} bytes left`);
    return { status: 'named', name: v.toString('utf8', 9, 9 + len), creation: v.readUInt32BE(9 + len) };
  }
  const text = v.toString('latin1', 1);
  return PLAIN.has(text) ? { status: text as PlainStatus } : { status: 'unknown', text };
}

// ---- challenge ------------------------------------------------------------------------------

/** send_challenge v6: 'N', Flags:64, Challenge:32, Creation:32, Nlen:16, Name. */
export interface Challenge {
  flags: bigint;
  challenge: number;
  creation: number;
  name: string;
}

export function encodeChallenge(m: Challenge): Buffer {
  const name = latin1Name(m.name, 'send_challenge');
  const b = Buffer.allocUnsafe(19 + name.length);
  b[0] = TAG_NAME_NEW;
  b.writeBigUInt64BE(BigInt.asUintN(64, m.flags), 1);
  b.writeUInt32BE(m.challenge >>> 0, 9);
  b.writeUInt32BE(m.creation >>> 0, 13);
  b.writeUInt16BE(name.length, 17);
  name.copy(b, 19);
  return b;
}

export function decodeChallenge(p: Uint8Array): Challenge {
  if (p.length === 0) throw malformed('challenge', 'empty message');
  if (p[0] !== TAG_NAME_NEW) throw malformed('challenge', `tag ${p[0]} is not 'N' (OTP 23+ only sends the v6 challenge)`);
  if (p.length < 19) throw malformed('challenge', `${p.length} bytes, at least 19 needed`);
  const v = view(p);
  const len = v.readUInt16BE(17);
  if (19 + len > p.length) throw malformed('challenge', `name length ${len} but ${p.length - 19} bytes left`);
  return {
    flags: u64(p, 1),
    challenge: v.readUInt32BE(9),
    creation: v.readUInt32BE(13),
    name: v.toString('latin1', 19, 19 + len),
  };
}

// ---- complement (only after an old 'n' send_name) ---------------------------------------------

/** send_complement: 'c', FlagsHigh:32, Creation:32 (exactly 9 bytes). */
export interface Complement {
  flagsHigh: number;
  creation: number;
}

export function encodeComplement(m: Complement): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = TAG_COMPLEMENT;
  b.writeUInt32BE(m.flagsHigh >>> 0, 1);
  b.writeUInt32BE(m.creation >>> 0, 5);
  return b;
}

export function decodeComplement(p: Uint8Array): Complement {
  if (p.length !== 9 || p[0] !== TAG_COMPLEMENT) throw malformed('complement', `expected 'c' and 8 bytes, got ${p.length} bytes tag ${p[0]}`);
  const v = view(p);
  return { flagsHigh: v.readUInt32BE(1), creation: v.readUInt32BE(5) };
}

// ---- challenge_reply / challenge_ack ------------------------------------------------------------

/** challenge_reply: 'r', Challenge:32, Digest:16 (exactly 21 bytes). */
export interface ChallengeReply {
  challenge: number;
  digest: Buffer;
}

export function encodeChallengeReply(m: ChallengeReply): Buffer {
  if (m.digest.length !== 16) throw malformed('challenge_reply', 'digest must be 16 bytes');
  const b = Buffer.allocUnsafe(21);
  b[0] = TAG_CHALLENGE_REPLY;
  b.writeUInt32BE(m.challenge >>> 0, 1);
  m.digest.copy(b, 5);
  return b;
}

export function decodeChallengeReply(p: Uint8Array): ChallengeReply {
  if (p.length !== 21 || p[0] !== TAG_CHALLENGE_REPLY) {
    throw malformed('challenge_reply', `expected 'r' and 20 bytes, got ${p.length} bytes tag ${p[0]}`);
  }
  const v = view(p);
  return { challenge: v.readUInt32BE(1), digest: Buffer.from(v.subarray(5, 21)) };
}

/** challenge_ack: 'a', Digest:16 (exactly 17 bytes). */
export function encodeChallengeAck(digest: Buffer): Buffer {
  if (digest.length !== 16) throw malformed('challenge_ack', 'digest must be 16 bytes');
  return Buffer.concat([Buffer.of(TAG_CHALLENGE_ACK), digest]);
}

export function decodeChallengeAck(p: Uint8Array): { digest: Buffer } {
  if (p.length !== 17 || p[0] !== TAG_CHALLENGE_ACK) {
    throw malformed('challenge_ack', `expected 'a' and 16 bytes, got ${p.length} bytes tag ${p[0]}`);
  }
  return { digest: Buffer.from(p.subarray(1, 17)) };
}

/** Prefixes a handshake payload with its 2-byte length (handshake framing, {packet,2}). */
export function frame2(payload: Buffer): Buffer {
  if (payload.length > 0xffff) throw malformed('handshake frame', `${payload.length} bytes exceed 65535`);
  const b = Buffer.allocUnsafe(2 + payload.length);
  b.writeUInt16BE(payload.length, 0);
  payload.copy(b, 2);
  return b;
}
