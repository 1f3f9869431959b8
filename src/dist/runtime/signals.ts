/**
 * The signals a local process sends to a process on another node, in the Node's own words. The
 * Node turns each into the wire's control message for the connection's negotiated flags
 * (wire-adapter.ts); keeping this list separate lets the runtime be tested without sockets.
 */
import type { Atom, Pid, Reference, Term } from '../../etf/types.js';

export type OutSignal =
  | { kind: 'send'; from: Pid; to: Pid; msg: Term }
  | { kind: 'reg_send'; from: Pid; toName: Atom; msg: Term }
  /** `pid`: where to send instead when the connection has no ALIAS (a gen_server reply's caller). */
  | { kind: 'alias_send'; from: Pid; alias: Reference; msg: Term; pid?: Pid }
  | { kind: 'link'; from: Pid; to: Pid }
  | { kind: 'unlink_id'; id: bigint; from: Pid; to: Pid }
  | { kind: 'unlink_id_ack'; id: bigint; from: Pid; to: Pid }
  /** A link broke because `from` exited (EXIT / PAYLOAD_EXIT). */
  | { kind: 'exit'; from: Pid; to: Pid; reason: Term }
  /** exit/2 (EXIT2 / PAYLOAD_EXIT2). */
  | { kind: 'exit2'; from: Pid; to: Pid; reason: Term }
  | { kind: 'monitor'; from: Pid; to: Pid | Atom; ref: Reference }
  | { kind: 'demonitor'; from: Pid; to: Pid | Atom; ref: Reference }
  /** The monitored process (by pid, or by the name it was monitored under) went down. */
  | { kind: 'monitor_exit'; from: Pid | Atom; to: Pid; ref: Reference; reason: Term }
  | { kind: 'spawn_reply'; reqId: Reference; to: Pid; flags: number; result: Pid | Atom }
  /** erlang:spawn_request/5 towards another node (SPAWN_REQUEST, the argument list as its message). */
  | { kind: 'spawn_request'; reqId: Reference; from: Pid; groupLeader: Pid; mfa: { module: Atom; function: Atom; arity: number }; options: Term[]; args: Term[] };

/** Where the runtime hands signals for other nodes. Rejects when the node cannot be reached. */
export interface Outbox {
  signal(node: Atom, sig: OutSignal): Promise<void>;
}
