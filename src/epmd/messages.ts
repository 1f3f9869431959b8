/**
 * EPMD wire messages as types and constants (OTP's erl_dist_protocol "EPMD Protocol"; byte
 * layouts checked against OTP 25's epmd: test/epmd/codec.test.ts holds its bytes).
 *
 * Requests are `Length:16` + body; replies carry no length (the reader knows each shape, and
 * NAMES/DUMP replies end when epmd closes the socket).
 */

/** Message tags (first byte of a request body or of a reply). */
export const EpmdTag = {
  ALIVE2_REQ: 120, // 'x'
  ALIVE2_RESP: 121, // 'y': Result:8, Creation:16
  ALIVE2_X_RESP: 118, // 'v': Result:8, Creation:32 (epmd sends it when HighestVersion >= 6)
  PORT_PLEASE2_REQ: 122, // 'z'
  PORT2_RESP: 119, // 'w'
  NAMES_REQ: 110, // 'n'
  DUMP_REQ: 100, // 'd'
  KILL_REQ: 107, // 'k'
  STOP_REQ: 115, // 's'
} as const;

/** 77 'M': a normal (visible) Erlang node. */
export const NODE_TYPE_NORMAL = 77;
/** 72 'H': a hidden node (C node, beamnode by default). */
export const NODE_TYPE_HIDDEN = 72;
/** Protocol 0: TCP/IPv4, the only one OTP uses. */
export const PROTOCOL_TCP = 0;

/** Default EPMD port when ERL_EPMD_PORT is not set. */
export const DEFAULT_EPMD_PORT = 4369;
/** An alive name is at most 255 characters (atom limit), so at most 1020 UTF-8 bytes (epmd MAXSYMLEN). */
export const MAX_NAME_CHARS = 255;
export const MAX_NAME_BYTES = 255 * 4;
/** epmd refuses an Extra field longer than MAXSYMLEN. */
export const MAX_EXTRA_BYTES = 255 * 4;
/**
 * epmd's input buffer is 3 * MAXSYMLEN = 3060 bytes and it refuses `Length + 2 >= 3060`, so a
 * request body is 1..3057 bytes.
 */
export const MAX_REQUEST_BODY = 3 * MAX_NAME_BYTES - 3;
/** epmd's failure creation (Result 1, Creation 99). */
export const FAILURE_CREATION = 99;

/** What a node registers and what PORT2_RESP echoes back. */
export interface NodeInfo {
  /** The node's distribution listen port. */
  port: number;
  nodeType: number;
  protocol: number;
  highestVersion: number;
  lowestVersion: number;
  /** The alive name (the part before `@`). */
  name: string;
  extra: Buffer;
}

/** A request as a server decodes it: names stay raw bytes until validated (epmd compares bytes). */
export type EpmdRequest =
  | {
      kind: 'alive2';
      port: number;
      nodeType: number;
      protocol: number;
      highestVersion: number;
      lowestVersion: number;
      name: Buffer;
      extra: Buffer;
    }
  | { kind: 'port_please2'; name: Buffer }
  | { kind: 'names' }
  | { kind: 'dump' }
  | { kind: 'kill' }
  | { kind: 'stop'; name: Buffer };

/** ALIVE2_RESP (16-bit creation) or ALIVE2_X_RESP (32-bit). Result 0 = ok. */
export interface Alive2Reply {
  kind: 'alive2_resp' | 'alive2_x_resp';
  result: number;
  creation: number;
}

/** PORT2_RESP: either the registered node (result 0) or just a non-zero result. */
export type Port2Reply = { kind: 'port2_resp'; result: 0; node: NodeInfo } | { kind: 'port2_resp'; result: number; node?: undefined };

export interface NamesEntry {
  name: string;
  port: number;
}

/** NAMES reply: epmd's own port, then one `name N at port P\n` line per registered node. */
export interface NamesReply {
  epmdPort: number;
  nodes: NamesEntry[];
  /** Lines that did not match `name … at port N` (kept, never thrown away silently). */
  unparsed: string[];
}

export interface DumpEntry {
  name: string;
  port: number;
  /** epmd's file descriptor (beamnode's server puts a connection number there). */
  fd: number;
}

/** DUMP reply: active registrations and remembered (unregistered) names. */
export interface DumpReply {
  epmdPort: number;
  active: DumpEntry[];
  old: DumpEntry[];
  unparsed: string[];
}
