/**
 * EPMD codec: pure functions over bytes, no sockets. Encoders build whole messages; reply decoders
 * are incremental (they return `undefined` while the bytes are incomplete, so a socket reader can
 * call them on every chunk); every length is checked against a bound and against the bytes present
 * before anything is allocated; anything else throws `EpmdError` with a code.
 */
import { EpmdError } from './errors.js';
import {
  EpmdTag,
  FAILURE_CREATION,
  MAX_EXTRA_BYTES,
  MAX_NAME_BYTES,
  MAX_NAME_CHARS,
  MAX_REQUEST_BODY,
  NODE_TYPE_HIDDEN,
  PROTOCOL_TCP,
  type Alive2Reply,
  type DumpEntry,
  type DumpReply,
  type EpmdRequest,
  type NamesEntry,
  type NamesReply,
  type NodeInfo,
  type Port2Reply,
} from './messages.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // keep a leading U+FEFF
const utf8Lenient = new TextDecoder('utf-8', { ignoreBOM: true });

function malformed(what: string): EpmdError {
  return new EpmdError('BEAM_ERR_EPMD_MALFORMED', what);
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * Validates an alive name the way epmd does (verify_utf8 and MAXSYMLEN in epmd_srv.c): valid UTF-8
 * (no overlongs, no surrogates, ≤ U+10FFFF), no NUL, 1..255 characters. Returns the text.
 */
export function nodeNameFromBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', 'empty node name');
  if (bytes.length > MAX_NAME_BYTES) {
    throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', `node name of ${bytes.length} bytes (at most ${MAX_NAME_BYTES})`);
  }
  if (bytes.includes(0)) throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', 'node name contains NUL');
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch (cause) {
    throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', 'node name is not valid UTF-8', { cause });
  }
  const chars = countCodePoints(text);
  if (chars > MAX_NAME_CHARS) {
    throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', `node name of ${chars} characters (at most ${MAX_NAME_CHARS})`);
  }
  return text;
}

/** The UTF-8 bytes of an alive name after the same checks (the encoders' side). */
export function nodeNameToBytes(name: string): Buffer {
  if (typeof name !== 'string') throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', 'node name must be a string');
  if (name.includes('@')) {
    // Not an epmd rule, but always a caller mistake: epmd knows only the part before '@'.
    throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', `'${name}' is a full node name; EPMD takes the alive part (before '@')`);
  }
  if (LONE_SURROGATE.test(name)) throw new EpmdError('BEAM_ERR_EPMD_INVALID_NAME', 'node name has a lone surrogate');
  const bytes = Buffer.from(name, 'utf8');
  nodeNameFromBytes(bytes);
  return bytes;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) i++; // a well-formed pair counts once
    n++;
  }
  return n;
}

function checkU16(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new EpmdError('BEAM_ERR_EPMD_USAGE', `${what} ${n} is not 0..65535`);
}
function checkU8(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new EpmdError('BEAM_ERR_EPMD_USAGE', `${what} ${n} is not 0..255`);
}

/** Prefixes a request body with its 16-bit length. */
function frame(body: Buffer): Buffer {
  if (body.length < 1 || body.length > MAX_REQUEST_BODY) {
    throw new EpmdError('BEAM_ERR_EPMD_USAGE', `request of ${body.length} bytes (epmd takes 1..${MAX_REQUEST_BODY})`);
  }
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests: encoders (client side)

export interface Alive2Request {
  port: number;
  name: string;
  nodeType?: number;
  protocol?: number;
  highestVersion?: number;
  lowestVersion?: number;
  extra?: Uint8Array;
}

/** ALIVE2_REQ: `120, PortNo:16, NodeType:8, Protocol:8, Hi:16, Lo:16, Nlen:16, Name, Elen:16, Extra`. */
export function encodeAlive2Req(r: Alive2Request): Buffer {
  const name = nodeNameToBytes(r.name);
  const extra = Buffer.from(r.extra ?? []);
  const nodeType = r.nodeType ?? NODE_TYPE_HIDDEN;
  const protocol = r.protocol ?? PROTOCOL_TCP;
  const hi = r.highestVersion ?? 6;
  const lo = r.lowestVersion ?? 5;
  checkU16('port', r.port);
  checkU8('node type', nodeType);
  checkU8('protocol', protocol);
  checkU16('highest version', hi);
  checkU16('lowest version', lo);
  if (extra.length > MAX_EXTRA_BYTES) {
    throw new EpmdError('BEAM_ERR_EPMD_USAGE', `extra of ${extra.length} bytes (epmd takes at most ${MAX_EXTRA_BYTES})`);
  }
  const body = Buffer.allocUnsafe(13 + name.length + extra.length);
  let at = body.writeUInt8(EpmdTag.ALIVE2_REQ, 0);
  at = body.writeUInt16BE(r.port, at);
  at = body.writeUInt8(nodeType, at);
  at = body.writeUInt8(protocol, at);
  at = body.writeUInt16BE(hi, at);
  at = body.writeUInt16BE(lo, at);
  at = body.writeUInt16BE(name.length, at);
  at += name.copy(body, at);
  at = body.writeUInt16BE(extra.length, at);
  extra.copy(body, at);
  return frame(body);
}

/** PORT_PLEASE2_REQ: `122, Name` (the name runs to the end of the request). */
export function encodePortPlease2Req(name: string): Buffer {
  return frame(Buffer.concat([Buffer.of(EpmdTag.PORT_PLEASE2_REQ), nodeNameToBytes(name)]));
}

export function encodeNamesReq(): Buffer {
  return frame(Buffer.of(EpmdTag.NAMES_REQ));
}
export function encodeDumpReq(): Buffer {
  return frame(Buffer.of(EpmdTag.DUMP_REQ));
}
export function encodeKillReq(): Buffer {
  return frame(Buffer.of(EpmdTag.KILL_REQ));
}
/** STOP_REQ: `115, Name` (honoured only by an epmd started with -relaxed_command_check). */
export function encodeStopReq(name: string): Buffer {
  return frame(Buffer.concat([Buffer.of(EpmdTag.STOP_REQ), nodeNameToBytes(name)]));
}

// ---------------------------------------------------------------------------------------------
// Requests: framing and decoding (server side)

/**
 * How many bytes the request at the start of `buf` occupies (2 + Length), or `undefined` when
 * fewer than 2 bytes are present. Throws MALFORMED for a length epmd refuses (0, or so large
 * that `Length + 2 >= 3060`).
 */
export function requestFrameLength(buf: Uint8Array): number | undefined {
  if (buf.length < 2) return undefined;
  const len = (buf[0] << 8) | buf[1];
  if (len < 1 || len > MAX_REQUEST_BODY) throw malformed(`request length ${len} (epmd takes 1..${MAX_REQUEST_BODY})`);
  return len + 2;
}

/**
 * Decodes one request body (the bytes after the 2-byte length). Structural errors (short packet,
 * a name or extra length past the end, NUL in a name) throw MALFORMED: epmd closes the
 * connection without a reply for those. Name validity beyond NUL is left to the server, since
 * epmd answers an invalid ALIVE2 name with a failure reply rather than a close.
 */
export function decodeRequest(body: Uint8Array): EpmdRequest {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b.length < 1) throw malformed('empty request');
  switch (b[0]) {
    case EpmdTag.ALIVE2_REQ: {
      // epmd: "at least one character for the node name", i.e. body > 13 bytes.
      if (b.length <= 13) throw malformed(`ALIVE2_REQ of ${b.length} bytes (needs more than 13)`);
      const nlen = b.readUInt16BE(9);
      if (nlen + 13 > b.length) throw malformed(`ALIVE2_REQ name length ${nlen} past the end (${b.length} bytes)`);
      const elen = b.readUInt16BE(11 + nlen);
      if (elen + nlen + 13 > b.length) throw malformed(`ALIVE2_REQ extra length ${elen} past the end`);
      const name = b.subarray(11, 11 + nlen);
      if (name.includes(0)) throw malformed('ALIVE2_REQ node name contains NUL');
      return {
        kind: 'alive2',
        port: b.readUInt16BE(1),
        nodeType: b[3],
        protocol: b[4],
        highestVersion: b.readUInt16BE(5),
        lowestVersion: b.readUInt16BE(7),
        name: Buffer.from(name),
        extra: Buffer.from(b.subarray(13 + nlen, 13 + nlen + elen)),
      };
    }
    case EpmdTag.PORT_PLEASE2_REQ: {
      let end = b.length;
      if (end > 1 && b[end - 1] === 0) end--; // old clients NUL-terminate; epmd skips one
      const name = b.subarray(1, end);
      if (name.length === 0) throw malformed('PORT_PLEASE2_REQ without a name');
      if (name.includes(0)) throw malformed('PORT_PLEASE2_REQ node name contains NUL');
      return { kind: 'port_please2', name: Buffer.from(name) };
    }
    case EpmdTag.NAMES_REQ:
      return { kind: 'names' };
    case EpmdTag.DUMP_REQ:
      return { kind: 'dump' };
    case EpmdTag.KILL_REQ:
      return { kind: 'kill' };
    case EpmdTag.STOP_REQ: {
      if (b.length <= 1) throw malformed('STOP_REQ without a name');
      let end = b.indexOf(0, 1); // epmd reads the name as a C string
      if (end < 0) end = b.length;
      return { kind: 'stop', name: Buffer.from(b.subarray(1, end)) };
    }
    default:
      throw malformed(`unknown request tag ${b[0]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Replies: encoders (server side)

/** ALIVE2_X_RESP (118, Result, Creation:32) when `extended`, else ALIVE2_RESP (121, Result, Creation:16). */
export function encodeAlive2Reply(result: number, creation: number, extended: boolean): Buffer {
  checkU8('result', result);
  if (extended) {
    const out = Buffer.allocUnsafe(6);
    out[0] = EpmdTag.ALIVE2_X_RESP;
    out[1] = result;
    out.writeUInt32BE(creation >>> 0, 2);
    return out;
  }
  const out = Buffer.allocUnsafe(4);
  out[0] = EpmdTag.ALIVE2_RESP;
  out[1] = result;
  out.writeUInt16BE(creation & 0xffff, 2);
  return out;
}

/** The failure reply epmd sends for a refused ALIVE2_REQ: result 1, creation 99. */
export function encodeAlive2Failure(extended: boolean): Buffer {
  return encodeAlive2Reply(1, FAILURE_CREATION, extended);
}

/** PORT2_RESP for a registered node, or `119, 1` when `node` is undefined. */
export function encodePort2Reply(node: NodeInfo | undefined): Buffer {
  if (!node) return Buffer.of(EpmdTag.PORT2_RESP, 1);
  const name = Buffer.from(node.name, 'utf8');
  const out = Buffer.allocUnsafe(14 + name.length + node.extra.length);
  let at = out.writeUInt8(EpmdTag.PORT2_RESP, 0);
  at = out.writeUInt8(0, at);
  at = out.writeUInt16BE(node.port, at);
  at = out.writeUInt8(node.nodeType, at);
  at = out.writeUInt8(node.protocol, at);
  at = out.writeUInt16BE(node.highestVersion, at);
  at = out.writeUInt16BE(node.lowestVersion, at);
  at = out.writeUInt16BE(name.length, at);
  at += name.copy(out, at);
  at = out.writeUInt16BE(node.extra.length, at);
  node.extra.copy(out, at);
  return out;
}

/** NAMES reply exactly as epmd writes it: `EPMDPortNo:32` then `name <N> at port <P>\n` per node. */
export function encodeNamesReply(epmdPort: number, nodes: readonly NamesEntry[]): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(epmdPort >>> 0, 0);
  const text = nodes.map((n) => `name ${n.name} at port ${n.port}\n`).join('');
  return Buffer.concat([head, Buffer.from(text, 'utf8')]);
}

/** DUMP reply as epmd writes it: each entry NUL-terminated, old entries with a space before `\n`. */
export function encodeDumpReply(epmdPort: number, active: readonly DumpEntry[], old: readonly DumpEntry[]): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(epmdPort >>> 0, 0);
  const text =
    active.map((n) => `active name     <${n.name}> at port ${n.port}, fd = ${n.fd}\n\0`).join('') +
    old.map((n) => `old/unused name <${n.name}>, port = ${n.port}, fd = ${n.fd} \n\0`).join('');
  return Buffer.concat([head, Buffer.from(text, 'utf8')]);
}

// ---------------------------------------------------------------------------------------------
// Replies: incremental decoders (client side)

export interface Decoded<T> {
  value: T;
  /** Bytes consumed. */
  end: number;
}

/** ALIVE2_RESP / ALIVE2_X_RESP, or `undefined` while incomplete. */
export function decodeAlive2Reply(buf: Uint8Array): Decoded<Alive2Reply> | undefined {
  if (buf.length < 1) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] === EpmdTag.ALIVE2_X_RESP) {
    if (b.length < 6) return undefined;
    return { value: { kind: 'alive2_x_resp', result: b[1], creation: b.readUInt32BE(2) }, end: 6 };
  }
  if (b[0] === EpmdTag.ALIVE2_RESP) {
    if (b.length < 4) return undefined;
    return { value: { kind: 'alive2_resp', result: b[1], creation: b.readUInt16BE(2) }, end: 4 };
  }
  throw malformed(`ALIVE2 reply starts with ${b[0]} (expected 118 or 121)`);
}

/** PORT2_RESP, or `undefined` while incomplete. */
export function decodePort2Reply(buf: Uint8Array): Decoded<Port2Reply> | undefined {
  if (buf.length < 1) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] !== EpmdTag.PORT2_RESP) throw malformed(`PORT2 reply starts with ${b[0]} (expected 119)`);
  if (b.length < 2) return undefined;
  const result = b[1];
  if (result !== 0) return { value: { kind: 'port2_resp', result }, end: 2 };
  if (b.length < 12) return undefined;
  const nlen = b.readUInt16BE(10);
  if (nlen === 0 || nlen > MAX_NAME_BYTES) throw malformed(`PORT2_RESP name length ${nlen} (1..${MAX_NAME_BYTES})`);
  if (b.length < 12 + nlen + 2) return undefined;
  const elen = b.readUInt16BE(12 + nlen);
  if (elen > MAX_EXTRA_BYTES) throw malformed(`PORT2_RESP extra length ${elen} (at most ${MAX_EXTRA_BYTES})`);
  const end = 14 + nlen + elen;
  if (b.length < end) return undefined;
  let name: string;
  try {
    name = nodeNameFromBytes(b.subarray(12, 12 + nlen));
  } catch (cause) {
    throw new EpmdError('BEAM_ERR_EPMD_MALFORMED', `PORT2_RESP carries an invalid name`, { cause });
  }
  const node: NodeInfo = {
    port: b.readUInt16BE(2),
    nodeType: b[4],
    protocol: b[5],
    highestVersion: b.readUInt16BE(6),
    lowestVersion: b.readUInt16BE(8),
    name,
    extra: Buffer.from(b.subarray(14 + nlen, end)),
  };
  return { value: { kind: 'port2_resp', result: 0, node }, end };
}

const NAMES_LINE = /^name (.+) at port (\d{1,5})$/;

/**
 * A whole NAMES reply (epmd closes the socket after it). Lines that do not match are returned in
 * `unparsed`; a port outside 0..65535 is unparsed too. `\r\n` endings and a missing final newline
 * are tolerated. Throws MALFORMED only when the 4-byte port header is missing.
 */
export function decodeNamesReply(buf: Uint8Array): NamesReply {
  if (buf.length < 4) throw malformed(`NAMES reply of ${buf.length} bytes (needs at least 4)`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const epmdPort = b.readUInt32BE(0);
  const nodes: NamesEntry[] = [];
  const unparsed: string[] = [];
  for (const raw of utf8Lenient.decode(b.subarray(4)).split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const m = NAMES_LINE.exec(line);
    const port = m ? Number(m[2]) : -1;
    if (m && port <= 0xffff) nodes.push({ name: m[1], port });
    else unparsed.push(line);
  }
  return { epmdPort, nodes, unparsed };
}

const DUMP_ACTIVE = /^active name {5}<(.*)> at port (\d+), fd = (-?\d+)\n?$/;
const DUMP_OLD = /^old\/unused name <(.*)>, port = (\d+), fd = (-?\d+) ?\n?$/;

/** A whole DUMP reply (NUL-terminated entries after the 4-byte port). */
export function decodeDumpReply(buf: Uint8Array): DumpReply {
  if (buf.length < 4) throw malformed(`DUMP reply of ${buf.length} bytes (needs at least 4)`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: DumpReply = { epmdPort: b.readUInt32BE(0), active: [], old: [], unparsed: [] };
  for (const entry of utf8Lenient.decode(b.subarray(4)).split('\0')) {
    if (entry === '') continue;
    let m = DUMP_ACTIVE.exec(entry);
    if (m) {
      out.active.push({ name: m[1], port: Number(m[2]), fd: Number(m[3]) });
      continue;
    }
    m = DUMP_OLD.exec(entry);
    if (m) out.old.push({ name: m[1], port: Number(m[2]), fd: Number(m[3]) });
    else out.unparsed.push(entry);
  }
  return out;
}

/** KILL reply: `"OK"` (epmd stops) or `"NO"` (live nodes registered). `undefined` while incomplete. */
export function decodeKillReply(buf: Uint8Array): Decoded<'OK' | 'NO'> | undefined {
  if (buf.length < 2) return undefined;
  const s = Buffer.from(buf.buffer, buf.byteOffset, 2).toString('latin1');
  if (s !== 'OK' && s !== 'NO') throw malformed(`KILL reply ${JSON.stringify(s)} (expected OK or NO)`);
  return { value: s, end: 2 };
}

/** STOP reply: `"STOPPED"` or `"NOEXIST"`. `undefined` while incomplete. */
export function decodeStopReply(buf: Uint8Array): Decoded<'STOPPED' | 'NOEXIST'> | undefined {
  if (buf.length < 7) return undefined;
  const s = Buffer.from(buf.buffer, buf.byteOffset, 7).toString('latin1');
  if (s !== 'STOPPED' && s !== 'NOEXIST') throw malformed(`STOP reply ${JSON.stringify(s)} (expected STOPPED or NOEXIST)`);
  return { value: s, end: 7 };
}
