/**
 * Calls from JS to other processes: gen_server's call/cast wire protocol and `rpc:call` through
 * the remote `rex` server (OTP lib/kernel/src/rpc.erl). A call runs in a short-lived process of its own: it
 * monitors the server (so a dead server fails the call at once), tags the request with
 * `[alias | MonitorRef]` as OTP 24+ does (plain `MonitorRef` when the peer has no ALIAS), and
 * accepts the reply however it comes (ALIAS_SEND to the alias, or SEND to the pid).
 */
import { TimeoutError } from '../../errors.js';
import { Atom, ImproperList, Pid, Reference, Tuple, atom, type Encodable, type Term } from '../../etf/types.js';
import { CallError, RpcError, UnexpectedReplyError } from '../runtime/errors.js';
import type { Dest, Runtime } from '../runtime/runtime.js';
import type { Process } from '../runtime/process.js';
import { isTuple } from '../runtime/terms.js';
import { erpcCall } from './erpc.js';
import type { JsonMode } from '../../etf/json/convert.js';

export interface CallOptions<T extends Term = Term> {
  /** Milliseconds to wait for the reply (default 5000, gen_server's). TimeoutError after it. */
  timeout?: number;
  signal?: AbortSignal;
  /**
   * Checks the reply at run time and types the result: `{ validate: isPid }` makes the call a
   * `Promise<Pid>`, and a reply the guard refuses rejects with UnexpectedReplyError
   * (BEAM_ERR_UNEXPECTED_REPLY) instead of reaching code that trusts its type.
   */
  validate?: (reply: Term) => reply is T;
  /** JSON mode for this call (default: the node's): the request goes through fromJson, the reply through toJson. */
  json?: JsonMode;
}

export interface RpcOptions<T extends Term = Term> extends CallOptions<T> {
  /** Default 30000 (rpc:call waits forever; we never do). */
  timeout?: number;
  /**
   * Captures the call's output: a JS I/O server becomes its group leader (io-server.ts), so
   * `io:format` in the called code reaches this callback instead of the peer's console.
   */
  output?: (text: string) => void;
}

/** What a call needs from the Node: the runtime and a connection to the server's node. */
export interface CallContext {
  runtime: Runtime;
  /**
   * Connects to `node` if needed; `alias` tells whether the peer takes ALIAS_SEND replies,
   * `spawn` whether it takes SPAWN_REQUEST.
   */
  peer(node: Atom, o: { signal?: AbortSignal; timeout?: number }): Promise<{ alias: boolean; spawn: boolean }>;
}

/** What rpc needs besides: the group leader of processes spawned for us (the node's I/O server). */
export interface RpcContext extends CallContext {
  defaultGroupLeader(): Pid;
}

export const DEFAULT_CALL_TIMEOUT = 5000;
export const DEFAULT_RPC_TIMEOUT = 30_000;

const A = {
  genCall: atom('$gen_call'),
  genCast: atom('$gen_cast'),
  alias: atom('alias'),
  DOWN: atom('DOWN'),
  rex: atom('rex'),
  call: atom('call'),
  user: atom('user'),
  badrpc: atom('badrpc'),
};

/** Describes a destination for messages ("rex@n1@127.0.0.1", "<pid>"). */
export function describeDest(rt: Runtime, dest: Dest): string {
  const r = rt.resolve(dest);
  return r.kind === 'pid' ? String(r.pid) : `{${r.name.name}, ${r.node.name}}`;
}

/**
 * gen_server:call/3: sends `{'$gen_call', {Self, Tag}, Request}` and waits for `{Tag, Reply}`.
 * Rejects with CallError (reason `noproc`, `noconnection` or the server's exit reason), a
 * TimeoutError (`phase` `call`, or `connect`/`handshake`/`epmd` when the server's node could not
 * be reached in time), the abort reason, or the connection error (HandshakeError, DistError,
 * EpmdError) when it cannot be reached at all.
 */
export async function genCall(ctx: CallContext, dest: Dest, request: Encodable, o: Omit<CallOptions, 'validate'> = {}, phase: 'call' | 'rpc' = 'call'): Promise<Term> {
  const rt = ctx.runtime;
  const target = rt.resolve(dest);
  const node = target.kind === 'pid' ? target.pid.node : target.node;
  const timeout = o.timeout ?? DEFAULT_CALL_TIMEOUT;
  const started = Date.now();
  let alias = true;
  if (node !== rt.node) ({ alias } = await ctx.peer(node, { signal: o.signal, timeout }));
  const proc = rt.spawn();
  try {
    const mref = proc.monitor(target.kind === 'pid' ? target.pid : new Tuple([target.name, target.node]));
    let tag: Term = mref;
    if (alias) {
      proc.alias(mref);
      tag = new ImproperList([A.alias], mref);
    }
    const to = target.kind === 'pid' ? target.pid : new Tuple([target.name, target.node]); // {Name, Node} ! M never raises
    await proc.send(to, new Tuple([A.genCall, new Tuple([proc.pid, tag]), request as Term]));
    const left = Math.max(0, timeout - (Date.now() - started));
    let msg: Term;
    try {
      msg = await proc.receive({ timeout: left, signal: o.signal, match: (m) => isReplyTo(m, mref) || isDown(m, mref) });
    } catch (e) {
      if (e instanceof TimeoutError) throw new TimeoutError(phase, `${phase} to ${describeDest(rt, dest)}`, timeout, { cause: e });
      throw e;
    }
    const el = (msg as Tuple).elements;
    if (el[0] === A.DOWN) throw new CallError(describeDest(rt, dest), el[4]);
    return el[1];
  } finally {
    proc.close(); // demonitors and drops the alias: a late reply is discarded
  }
}

/** `{Tag, Reply}` where Tag is `[alias | Ref]` or `Ref`. */
function isReplyTo(m: Term, ref: Reference): boolean {
  if (!(m instanceof Tuple) || m.length !== 2) return false;
  const tag = m.elements[0];
  if (tag instanceof Reference) return ref.equals(tag);
  return tag instanceof ImproperList && tag.elements.length === 1 && tag.elements[0] === A.alias && ref.equals(tag.tail);
}

function isDown(m: Term, ref: Reference): boolean {
  return m instanceof Tuple && m.length === 5 && m.elements[0] === A.DOWN && ref.equals(m.elements[1]);
}

/** gen_server:cast/2: `{'$gen_cast', Msg}`, fire and forget (resolves when handed to the connection). */
export function genCast(from: Process, dest: Dest, msg: Encodable): Promise<void> {
  return from.send(dest, new Tuple([A.genCast, msg as Term]));
}

const toAtom = (x: Atom | string): Atom => (x instanceof Atom ? x : atom(x));

/**
 * rpc:call/5: through erpc (erpc.ts, erpcCall) to a peer that takes SPAWN_REQUEST (every OTP ≥ 23),
 * else through `rex` (rexCall). Returns the function's value; `{badrpc, Reason}` raises RpcError
 * (reason kept as a term).
 */
export async function rpcCall(ctx: RpcContext, node: Atom | string, module: Atom | string, fun: Atom | string, args: readonly Encodable[], o: Omit<RpcOptions, 'validate'> & { groupLeader?: Pid } = {}): Promise<Term> {
  const n = toAtom(node);
  if (n !== ctx.runtime.node) {
    // As rpc:call does since OTP 23: erpc (a spawn on the peer), when the peer can spawn for us.
    const timeout = o.timeout ?? DEFAULT_RPC_TIMEOUT;
    const started = Date.now();
    const { spawn } = await ctx.peer(n, { signal: o.signal, timeout });
    if (spawn) {
      const left = Math.max(0, timeout - (Date.now() - started));
      return erpcCall(ctx.runtime, n, toAtom(module), toAtom(fun), args, { timeout: left, signal: o.signal, groupLeader: o.groupLeader ?? ctx.defaultGroupLeader() });
    }
  }
  // Our own node (a JS rex, builtins.ts), or a peer without SPAWN.
  return rexCall(ctx, n, module, fun, args, o);
}

/**
 * rpc:call/5 through the `rex` server on `node`: `{'$gen_call', From, {call, M, F, A, GroupLeader}}`
 * (`user`, the peer's console, or a pid whose process answers the I/O protocol: rex makes it the
 * call's group leader).
 */
export async function rexCall(ctx: CallContext, node: Atom | string, module: Atom | string, fun: Atom | string, args: readonly Encodable[], o: Omit<RpcOptions, 'validate'> & { groupLeader?: Pid } = {}): Promise<Term> {
  const n = toAtom(node);
  const m = toAtom(module);
  const f = toAtom(fun);
  const reply = await genCall(
    ctx,
    new Tuple([A.rex, n]),
    new Tuple([A.call, m, f, args as Term[], o.groupLeader ?? A.user]),
    { timeout: o.timeout ?? DEFAULT_RPC_TIMEOUT, signal: o.signal },
    'rpc',
  );
  if (isTuple(reply, 2, 'badrpc')) {
    throw new RpcError(`${m.name}:${f.name}/${args.length} on ${n.name}`, reply.elements[1]);
  }
  return reply;
}


/** The reply, if `validate` (when given) accepts it; UnexpectedReplyError naming `what` otherwise. */
export function validated<T extends Term>(reply: Term, validate: ((t: Term) => t is T) | undefined, what: string): T {
  if (!validate || validate(reply)) return reply as T;
  throw new UnexpectedReplyError(what, reply, validate.name ? `validate (${validate.name})` : 'validate');
}
