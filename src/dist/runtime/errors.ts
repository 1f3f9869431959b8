/**
 * Errors of the Node layer (processes, calls, rpc). Each has a stable `code`; the ones that carry
 * an Erlang exit reason keep it as a term in `reason` (so callers can match `noproc`, `noconnection`,
 * `{badrpc, …}` without parsing messages).
 */
import { BeamnodeError } from '../../errors.js';
import type { Term } from '../../etf/types.js';
import { formatTerm } from './terms.js';

export type NodeErrorCode =
  | 'BEAM_ERR_NODE_STOPPED'
  | 'BEAM_ERR_NODE_BAD_NAME'
  | 'BEAM_ERR_NODE_BAD_DEST'
  | 'BEAM_ERR_NODE_BAD_OPTION'
  | 'BEAM_ERR_NODE_NAME_TAKEN'
  | 'BEAM_ERR_NODE_NOT_REGISTERED'
  | 'BEAM_ERR_NODE_NOPROC';

/** A misuse of the Node API or a node that is not running. */
export class NodeError extends BeamnodeError {
  static override readonly brand: string = 'NodeError';
  override readonly code: NodeErrorCode;
  constructor(code: NodeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.code = code;
  }
}

/** A `receive()` (or other wait) on a process that exited; `reason` is its exit reason. */
export class ProcessExitedError extends BeamnodeError {
  static override readonly brand: string = 'ProcessExitedError';
  declare readonly code: 'BEAM_ERR_PROCESS_EXITED';
  constructor(
    readonly pid: string,
    readonly reason: Term,
  ) {
    super('BEAM_ERR_PROCESS_EXITED', `process ${pid} exited: ${formatTerm(reason)}`);
  }
}

/**
 * `node.call()` failed the way `gen_server:call/3` exits: the server was not there (`noproc`),
 * the connection went down (`noconnection`) or the server died while handling the call (its
 * exit reason). A timeout is a TimeoutError instead.
 */
export class CallError extends BeamnodeError {
  static override readonly brand: string = 'CallError';
  declare readonly code: 'BEAM_ERR_CALL_EXIT';
  constructor(
    readonly dest: string,
    readonly reason: Term,
    options?: ErrorOptions,
  ) {
    super('BEAM_ERR_CALL_EXIT', `call to ${dest} failed: ${formatTerm(reason)}`, options);
  }
}

/** `node.rpc()` got `{badrpc, Reason}` from the remote `rex`; `reason` is Reason. */
export class RpcError extends BeamnodeError {
  static override readonly brand: string = 'RpcError';
  declare readonly code: 'BEAM_ERR_RPC';
  constructor(
    readonly target: string,
    readonly reason: Term,
    options?: ErrorOptions,
  ) {
    super('BEAM_ERR_RPC', `rpc ${target} returned badrpc: ${formatTerm(reason)}`, options);
  }
}

/**
 * `call()`/`rpc()` with a `validate` guard got a reply the guard refused. `reply` is the reply as
 * received; the message names the call, the guard and a bounded print of the reply.
 */
export class UnexpectedReplyError extends BeamnodeError {
  static override readonly brand: string = 'UnexpectedReplyError';
  declare readonly code: 'BEAM_ERR_UNEXPECTED_REPLY';
  constructor(
    readonly target: string,
    readonly reply: Term,
    validator: string,
  ) {
    super('BEAM_ERR_UNEXPECTED_REPLY', `${target} replied ${formatTerm(reply, 120)}, which ${validator} refused`);
  }
}

/** `node.spawnRemote()`: Erlang refused the spawn; `reason` is its error term (`badopt`, `noconnection`, `notsup`, …). */
export class SpawnError extends BeamnodeError {
  static override readonly brand: string = 'SpawnError';
  declare readonly code: 'BEAM_ERR_SPAWN';
  constructor(
    readonly target: string,
    readonly reason: Term,
  ) {
    super('BEAM_ERR_SPAWN', `spawn_request ${target} failed: ${formatTerm(reason)}`);
  }
}

/** A pg monitor or PubSub subscription fell `limit` events behind its reader; it has ended. */
export class QueueOverflowError extends BeamnodeError {
  static override readonly brand: string = 'QueueOverflowError';
  declare readonly code: 'BEAM_ERR_QUEUE_OVERFLOW';
  constructor(what: string, limit: number) {
    super('BEAM_ERR_QUEUE_OVERFLOW', `${what}: more than ${limit} unread events; ended`);
  }
}

/** `next()` on a monitor or subscription that has ended normally. */
export class QueueEndedError extends BeamnodeError {
  static override readonly brand: string = 'QueueEndedError';
  declare readonly code: 'BEAM_ERR_QUEUE_ENDED';
  constructor(what: string) {
    super('BEAM_ERR_QUEUE_ENDED', `${what} has ended`);
  }
}

/** A second `next()` on a monitor or subscription while one is still waiting (one reader only). */
export class QueueBusyError extends BeamnodeError {
  static override readonly brand: string = 'QueueBusyError';
  declare readonly code: 'BEAM_ERR_QUEUE_BUSY';
  constructor(what: string) {
    super('BEAM_ERR_QUEUE_BUSY', `${what}: next() is already waiting`);
  }
}
