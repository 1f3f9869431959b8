/**
 * Distribution control messages (erl_dist_protocol.md "Protocol between connected nodes";
 * OTP erts/emulator/beam/dist.h `enum dop`) as a discriminated union on `op`, the tuple form on the wire,
 * and the choice of op a peer expects given the negotiated flags.
 *
 * The message that follows some controls (the sent message, a payload exit reason, the argument
 * list of a spawn request) travels as a separate term next to the control; it is not part of
 * these objects.
 */
import { Atom, atom, Pid, Reference, Tuple, type Term } from '../../etf/types.js';
import { ProtocolError } from '../errors.js';
import { DFLAG } from './flags.js';

/** Wire op numbers (dist.h `enum dop`). NODE_LINK (5) was removed from OTP and is not here. */
export const OP = {
  link: 1,
  send: 2,
  exit: 3,
  unlink: 4,
  reg_send: 6,
  group_leader: 7,
  exit2: 8,
  send_tt: 12,
  exit_tt: 13,
  reg_send_tt: 16,
  exit2_tt: 18,
  monitor_p: 19,
  demonitor_p: 20,
  monitor_p_exit: 21,
  send_sender: 22,
  send_sender_tt: 23,
  payload_exit: 24,
  payload_exit_tt: 25,
  payload_exit2: 26,
  payload_exit2_tt: 27,
  payload_monitor_p_exit: 28,
  spawn_request: 29,
  spawn_request_tt: 30,
  spawn_reply: 31,
  spawn_reply_tt: 32,
  alias_send: 33,
  alias_send_tt: 34,
  unlink_id: 35,
  unlink_id_ack: 36,
  altact_sig_send: 37,
} as const;

export type ControlOp = keyof typeof OP;

/** A process on the other side of a monitor: a pid, or a registered name. */
export type ProcRef = Pid | Atom;

/** `{Module, Function, Arity}` of a spawn request. */
export interface Mfa {
  module: Atom;
  function: Atom;
  arity: number;
}

export type Control =
  | { op: 'link'; from: Pid; to: Pid }
  | { op: 'send'; to: Pid }
  | { op: 'exit'; from: Pid; to: Pid; reason: Term }
  /** Obsolete: OTP 26+ kills the connection on it. Decoded for OTP ≤ 25 peers; never send it. */
  | { op: 'unlink'; from: Pid; to: Pid }
  | { op: 'reg_send'; from: Pid; toName: Atom }
  | { op: 'group_leader'; from: Pid; to: Pid }
  | { op: 'exit2'; from: Pid; to: Pid; reason: Term }
  | { op: 'send_tt'; to: Pid; token: Term }
  | { op: 'exit_tt'; from: Pid; to: Pid; token: Term; reason: Term }
  | { op: 'reg_send_tt'; from: Pid; toName: Atom; token: Term }
  | { op: 'exit2_tt'; from: Pid; to: Pid; token: Term; reason: Term }
  | { op: 'monitor_p'; from: Pid; to: ProcRef; ref: Reference }
  | { op: 'demonitor_p'; from: Pid; to: ProcRef; ref: Reference }
  | { op: 'monitor_p_exit'; from: ProcRef; to: Pid; ref: Reference; reason: Term }
  | { op: 'send_sender'; from: Pid; to: Pid }
  | { op: 'send_sender_tt'; from: Pid; to: Pid; token: Term }
  | { op: 'payload_exit'; from: Pid; to: Pid }
  | { op: 'payload_exit_tt'; from: Pid; to: Pid; token: Term }
  | { op: 'payload_exit2'; from: Pid; to: Pid }
  | { op: 'payload_exit2_tt'; from: Pid; to: Pid; token: Term }
  | { op: 'payload_monitor_p_exit'; from: ProcRef; to: Pid; ref: Reference }
  | { op: 'spawn_request'; reqId: Reference; from: Pid; groupLeader: Pid; mfa: Mfa; options: Term[] }
  | { op: 'spawn_request_tt'; reqId: Reference; from: Pid; groupLeader: Pid; mfa: Mfa; options: Term[]; token: Term }
  | { op: 'spawn_reply'; reqId: Reference; to: Pid; flags: number; result: Pid | Atom }
  | { op: 'spawn_reply_tt'; reqId: Reference; to: Pid; flags: number; result: Pid | Atom; token: Term }
  | { op: 'alias_send'; from: Pid; alias: Reference }
  | { op: 'alias_send_tt'; from: Pid; alias: Reference; token: Term }
  | { op: 'unlink_id'; id: number | bigint; from: Pid; to: Pid }
  | { op: 'unlink_id_ack'; id: number | bigint; from: Pid; to: Pid }
  /** OTP 28+, only with ALTACT_SIG (we do not advertise it): decoded, `to` as sent. */
  | { op: 'altact_sig_send'; flags: number; from: Pid; to: Term; token?: Term };

/** The controls that are followed by a message term (message, exit reason or argument list). */
const WITH_MESSAGE: ReadonlySet<ControlOp> = new Set<ControlOp>([
  'send',
  'reg_send',
  'send_tt',
  'reg_send_tt',
  'send_sender',
  'send_sender_tt',
  'payload_exit',
  'payload_exit_tt',
  'payload_exit2',
  'payload_exit2_tt',
  'payload_monitor_p_exit',
  'spawn_request',
  'spawn_request_tt',
  'alias_send',
  'alias_send_tt',
  'altact_sig_send',
]);

/** True when a frame with this control carries a second term. */
export const hasMessage = (op: ControlOp): boolean => WITH_MESSAGE.has(op);

const OP_BY_NUMBER: ReadonlyMap<number, ControlOp> = new Map(
  (Object.entries(OP) as [ControlOp, number][]).map(([name, n]) => [n, name]),
);

const EMPTY_ATOM = atom('');

const mfaTuple = (m: Mfa): Tuple => new Tuple([m.module, m.function, m.arity]);

/** The wire tuple of a control message. */
export function controlToTuple(c: Control): Tuple {
  const n = OP[c.op];
  switch (c.op) {
    case 'link':
    case 'unlink':
    case 'group_leader':
    case 'send_sender':
    case 'payload_exit':
    case 'payload_exit2':
      return new Tuple([n, c.from, c.to]);
    case 'send':
      return new Tuple([n, EMPTY_ATOM, c.to]);
    case 'send_tt':
      return new Tuple([n, EMPTY_ATOM, c.to, c.token]);
    case 'exit':
    case 'exit2':
      return new Tuple([n, c.from, c.to, c.reason]);
    case 'reg_send':
      return new Tuple([n, c.from, EMPTY_ATOM, c.toName]);
    case 'reg_send_tt':
      return new Tuple([n, c.from, EMPTY_ATOM, c.toName, c.token]);
    case 'exit_tt':
    case 'exit2_tt':
      return new Tuple([n, c.from, c.to, c.token, c.reason]);
    case 'monitor_p':
    case 'demonitor_p':
    case 'payload_monitor_p_exit':
      return new Tuple([n, c.from, c.to, c.ref]);
    case 'monitor_p_exit':
      return new Tuple([n, c.from, c.to, c.ref, c.reason]);
    case 'send_sender_tt':
    case 'payload_exit_tt':
    case 'payload_exit2_tt':
      return new Tuple([n, c.from, c.to, c.token]);
    case 'spawn_request':
      return new Tuple([n, c.reqId, c.from, c.groupLeader, mfaTuple(c.mfa), c.options]);
    case 'spawn_request_tt':
      return new Tuple([n, c.reqId, c.from, c.groupLeader, mfaTuple(c.mfa), c.options, c.token]);
    case 'spawn_reply':
      return new Tuple([n, c.reqId, c.to, c.flags, c.result]);
    case 'spawn_reply_tt':
      return new Tuple([n, c.reqId, c.to, c.flags, c.result, c.token]);
    case 'alias_send':
      return new Tuple([n, c.from, c.alias]);
    case 'alias_send_tt':
      return new Tuple([n, c.from, c.alias, c.token]);
    case 'unlink_id':
    case 'unlink_id_ack':
      return new Tuple([n, c.id, c.from, c.to]);
    case 'altact_sig_send':
      return c.token === undefined ? new Tuple([n, c.flags, c.from, c.to]) : new Tuple([n, c.flags, c.from, c.to, c.token]);
    default:
      return assertNever(c);
  }
}

function assertNever(x: never): never {
  throw new ProtocolError('BEAM_ERR_DIST_BAD_CONTROL', `unknown control ${JSON.stringify(x)}`);
}

const bad = (t: Tuple, why: string): ProtocolError =>
  new ProtocolError('BEAM_ERR_DIST_BAD_CONTROL', `invalid distribution message (${why}): op ${String(t.at(0))}, arity ${t.length}`);

/** An atom; the codec decodes the atoms true/false as booleans, so take those back. */
function asAtom(v: Term): Atom | undefined {
  if (v instanceof Atom) return v;
  if (typeof v === 'boolean') return atom(v ? 'true' : 'false');
  return undefined;
}

/**
 * Parses a decoded control tuple. Throws ProtocolError BEAM_ERR_DIST_BAD_CONTROL for anything
 * OTP would call an "Invalid distribution message": not a tuple, unknown op, wrong arity, a
 * field of the wrong type.
 */
export function tupleToControl(t: Term): Control {
  if (!(t instanceof Tuple) || t.length === 0) {
    throw new ProtocolError('BEAM_ERR_DIST_BAD_CONTROL', 'invalid distribution message: the control is not a non-empty tuple');
  }
  const n = t.at(0);
  const op = typeof n === 'number' ? OP_BY_NUMBER.get(n) : undefined;
  if (op === undefined) throw bad(t, 'unknown op');
  const e = t.elements;
  const arity = (...ok: number[]): void => {
    if (!ok.includes(e.length)) throw bad(t, `arity ${e.length}, expected ${ok.join(' or ')}`);
  };
  const pid = (i: number): Pid => {
    const v = e[i];
    if (!(v instanceof Pid)) throw bad(t, `element ${i + 1} is not a pid`);
    return v;
  };
  const name = (i: number): Atom => {
    const v = asAtom(e[i]);
    if (!v) throw bad(t, `element ${i + 1} is not an atom`);
    return v;
  };
  const proc = (i: number): ProcRef => {
    const v = e[i];
    if (v instanceof Pid) return v;
    const a = asAtom(v);
    if (!a) throw bad(t, `element ${i + 1} is neither a pid nor an atom`);
    return a;
  };
  const ref = (i: number): Reference => {
    const v = e[i];
    if (!(v instanceof Reference)) throw bad(t, `element ${i + 1} is not a reference`);
    return v;
  };
  const int = (i: number): number => {
    const v = e[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(t, `element ${i + 1} is not a non-negative integer`);
    return v;
  };
  const mfa = (i: number): Mfa => {
    const v = e[i];
    if (!(v instanceof Tuple) || v.length !== 3) throw bad(t, `element ${i + 1} is not {M, F, A}`);
    const m = asAtom(v.at(0));
    const f = asAtom(v.at(1));
    const a = v.at(2);
    if (!m || !f || typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a > 255) throw bad(t, `element ${i + 1} is not {M, F, A}`);
    return { module: m, function: f, arity: a };
  };
  const list = (i: number): Term[] => {
    const v = e[i];
    if (!Array.isArray(v)) throw bad(t, `element ${i + 1} is not a proper list`);
    return v;
  };
  switch (op) {
    case 'link':
    case 'unlink':
    case 'group_leader':
    case 'send_sender':
    case 'payload_exit':
    case 'payload_exit2':
      arity(3);
      return { op, from: pid(1), to: pid(2) };
    case 'send':
      arity(3);
      return { op, to: pid(2) };
    case 'send_tt':
      arity(4);
      return { op, to: pid(2), token: e[3] };
    case 'exit':
    case 'exit2':
      arity(4);
      return { op, from: pid(1), to: pid(2), reason: e[3] };
    case 'reg_send':
      arity(4);
      return { op, from: pid(1), toName: name(3) };
    case 'reg_send_tt':
      arity(5);
      return { op, from: pid(1), toName: name(3), token: e[4] };
    case 'exit_tt':
    case 'exit2_tt':
      arity(5);
      return { op, from: pid(1), to: pid(2), token: e[3], reason: e[4] };
    case 'monitor_p':
    case 'demonitor_p':
      arity(4);
      return { op, from: pid(1), to: proc(2), ref: ref(3) };
    case 'payload_monitor_p_exit':
      arity(4);
      return { op, from: proc(1), to: pid(2), ref: ref(3) };
    case 'monitor_p_exit':
      arity(5);
      return { op, from: proc(1), to: pid(2), ref: ref(3), reason: e[4] };
    case 'send_sender_tt':
    case 'payload_exit_tt':
    case 'payload_exit2_tt':
      arity(4);
      return { op, from: pid(1), to: pid(2), token: e[3] };
    case 'spawn_request':
      arity(6);
      return { op, reqId: ref(1), from: pid(2), groupLeader: pid(3), mfa: mfa(4), options: list(5) };
    case 'spawn_request_tt':
      arity(7);
      return { op, reqId: ref(1), from: pid(2), groupLeader: pid(3), mfa: mfa(4), options: list(5), token: e[6] };
    case 'spawn_reply':
    case 'spawn_reply_tt': {
      arity(op === 'spawn_reply' ? 5 : 6);
      const r = e[4];
      const result = r instanceof Pid ? r : asAtom(r);
      if (!result) throw bad(t, 'element 5 is neither a pid nor an atom');
      const base = { reqId: ref(1), to: pid(2), flags: int(3), result };
      return op === 'spawn_reply' ? { op, ...base } : { op, ...base, token: e[5] };
    }
    case 'alias_send':
      arity(3);
      return { op, from: pid(1), alias: ref(2) };
    case 'alias_send_tt':
      arity(4);
      return { op, from: pid(1), alias: ref(2), token: e[3] };
    case 'unlink_id':
    case 'unlink_id_ack': {
      arity(4);
      const id = e[1];
      if (!((typeof id === 'number' && Number.isInteger(id) && id > 0) || (typeof id === 'bigint' && id > 0n))) {
        throw bad(t, 'unlink id is not a positive integer');
      }
      return { op, id, from: pid(2), to: pid(3) };
    }
    case 'altact_sig_send':
      arity(4, 5);
      return e.length === 4
        ? { op, flags: int(1), from: pid(2), to: e[3] }
        : { op, flags: int(1), from: pid(2), to: e[3], token: e[4] };
    default:
      return assertNever(op);
  }
}

/**
 * Adapts a control (and its message) to what a peer with these negotiated flags understands, as
 * OTP's erts_dsig_send_* do: SEND_SENDER → SEND without the flag, PAYLOAD_* exits → the old
 * reason-in-tuple ops without EXIT_PAYLOAD. Returns `undefined` when the peer cannot receive the
 * signal at all (monitors without DIST_MONITOR+DIST_MONITOR_NAME, alias sends without ALIAS,
 * spawn without SPAWN): OTP drops those or fails them locally.
 */
export function adaptToFlags(c: Control, message: Term | undefined, flags: bigint): { control: Control; message: Term | undefined } | undefined {
  const has = (f: bigint): boolean => (flags & f) !== 0n;
  const reason = (): Term => message ?? atom('normal');
  switch (c.op) {
    case 'send_sender':
      return has(DFLAG.SEND_SENDER) ? { control: c, message } : { control: { op: 'send', to: c.to }, message };
    case 'send_sender_tt':
      return has(DFLAG.SEND_SENDER) ? { control: c, message } : { control: { op: 'send_tt', to: c.to, token: c.token }, message };
    case 'payload_exit':
      return has(DFLAG.EXIT_PAYLOAD) ? { control: c, message } : { control: { op: 'exit', from: c.from, to: c.to, reason: reason() }, message: undefined };
    case 'payload_exit_tt':
      return has(DFLAG.EXIT_PAYLOAD)
        ? { control: c, message }
        : { control: { op: 'exit_tt', from: c.from, to: c.to, token: c.token, reason: reason() }, message: undefined };
    case 'payload_exit2':
      return has(DFLAG.EXIT_PAYLOAD) ? { control: c, message } : { control: { op: 'exit2', from: c.from, to: c.to, reason: reason() }, message: undefined };
    case 'payload_exit2_tt':
      return has(DFLAG.EXIT_PAYLOAD)
        ? { control: c, message }
        : { control: { op: 'exit2_tt', from: c.from, to: c.to, token: c.token, reason: reason() }, message: undefined };
    case 'payload_monitor_p_exit':
      if (!monitorsSupported(flags)) return undefined;
      return has(DFLAG.EXIT_PAYLOAD)
        ? { control: c, message }
        : { control: { op: 'monitor_p_exit', from: c.from, to: c.to, ref: c.ref, reason: reason() }, message: undefined };
    case 'monitor_p':
    case 'demonitor_p':
    case 'monitor_p_exit':
      return monitorsSupported(flags) ? { control: c, message } : undefined;
    case 'alias_send':
    case 'alias_send_tt':
      return has(DFLAG.ALIAS) ? { control: c, message } : undefined;
    case 'spawn_request':
    case 'spawn_request_tt':
    case 'spawn_reply':
    case 'spawn_reply_tt':
      return has(DFLAG.SPAWN) ? { control: c, message } : undefined;
    case 'altact_sig_send':
      return has(DFLAG.ALTACT_SIG) ? { control: c, message } : undefined;
    default:
      return { control: c, message };
  }
}

/** OTP sends and expects MONITOR_P/DEMONITOR_P/MONITOR_P_EXIT only when both flags are negotiated. */
export const monitorsSupported = (flags: bigint): boolean =>
  (flags & (DFLAG.DIST_MONITOR | DFLAG.DIST_MONITOR_NAME)) === (DFLAG.DIST_MONITOR | DFLAG.DIST_MONITOR_NAME);

/** The op to send a message to a pid with (22 with SEND_SENDER, else 2): `sendToPid(flags, from, to)`. */
export function sendToPid(flags: bigint, from: Pid, to: Pid, token?: Term): Control {
  if (flags & DFLAG.SEND_SENDER) return token === undefined ? { op: 'send_sender', from, to } : { op: 'send_sender_tt', from, to, token };
  return token === undefined ? { op: 'send', to } : { op: 'send_tt', to, token };
}

/** The control for an exit signal due to a link (24 with EXIT_PAYLOAD + reason as message, else 3). */
export function linkExit(flags: bigint, from: Pid, to: Pid, reason: Term): { control: Control; message: Term | undefined } {
  return flags & DFLAG.EXIT_PAYLOAD
    ? { control: { op: 'payload_exit', from, to }, message: reason }
    : { control: { op: 'exit', from, to, reason }, message: undefined };
}

/** The control for exit/2 (26 with EXIT_PAYLOAD, else 8). */
export function exit2Signal(flags: bigint, from: Pid, to: Pid, reason: Term): { control: Control; message: Term | undefined } {
  return flags & DFLAG.EXIT_PAYLOAD
    ? { control: { op: 'payload_exit2', from, to }, message: reason }
    : { control: { op: 'exit2', from, to, reason }, message: undefined };
}

/** The control for a 'DOWN' to a remote monitor (28 with EXIT_PAYLOAD, else 21). */
export function monitorExit(flags: bigint, from: ProcRef, to: Pid, ref: Reference, reason: Term): { control: Control; message: Term | undefined } {
  return flags & DFLAG.EXIT_PAYLOAD
    ? { control: { op: 'payload_monitor_p_exit', from, to, ref }, message: reason }
    : { control: { op: 'monitor_p_exit', from, to, ref, reason }, message: undefined };
}
