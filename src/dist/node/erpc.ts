/**
 * `rpc:call('js@host', M, F, A)` from Erlang. Since OTP 25 rpc:call is erpc:call, which sends
 * SPAWN_REQUEST `{29, ReqId, From, GL, {erpc, execute_call, 4}, [monitor]}` + `[Res, M, F, A]`
 * (OTP lib/kernel/src/erpc.erl). We emulate erpc's remote half: a short-lived JS process runs the handler
 * registered for M:F, answers SPAWN_REPLY (flag 2: the monitor is set up, its ref is ReqId), and
 * exits with `{Res, return, Value}`, which the caller's monitor receives as the DOWN reason
 * (PAYLOAD_MONITOR_P_EXIT). erpc:cast's `{erpc, execute_cast, 3}` + `[M, F, A]` runs the same
 * handlers without a result. Any other spawn request is answered `notsup`.
 *
 * The calling half is here too (erpcCall, at the end): node.rpc() sends the same request.
 */
import createDebug from 'debug';
import { Atom, type Pid, Tuple, atom, type Encodable, type Term } from '../../etf/types.js';
import { TimeoutError } from '../../errors.js';
import { EncodeError } from '../../etf/errors.js';
import { RpcError } from '../runtime/errors.js';
import type { Control } from '../protocol/control.js';
import type { Runtime } from '../runtime/runtime.js';
import { formatTerm, isTuple } from '../runtime/terms.js';
import { checkEncodable, replyOf } from './warnings.js';

const log = createDebug('beamnode:dist:erpc');

/**
 * A JS function Erlang can call with rpc:call/erpc:call: gets the argument list. Returning
 * `undefined` (a void function) answers the atom `ok` (a warning says so once per handler).
 */
export type RpcHandler = (args: Term[]) => Encodable | void | Promise<Encodable | void>;

/** What `handleRpc` returns: call it (or let `using` dispose of it) to remove that handler. */
export type RpcRegistration = (() => void) & { [Symbol.dispose](): void };

/**
 * Throw this from an RpcHandler to raise a chosen Erlang exception in the caller:
 * `error` → erpc raises `error:{exception, Reason, Stack}` (rpc:call gives `{badrpc, {'EXIT', {Reason, Stack}}}`),
 * `exit` → `exit:{exception, Reason}`, `throw` → `throw:Reason` (rpc:call returns Reason).
 */
export class ErlangException extends Error {
  constructor(
    readonly kind: 'error' | 'exit' | 'throw',
    readonly reason: Term,
  ) {
    super(`${kind}: ${formatTerm(reason)}`);
  }
}

const A = {
  erpc: atom('erpc'),
  executeCall: atom('execute_call'),
  executeCast: atom('execute_cast'),
  monitor: atom('monitor'),
  link: atom('link'),
  notsup: atom('notsup'),
  return: atom('return'),
  error: atom('error'),
  exit: atom('exit'),
  throw: atom('throw'),
  undef: atom('undef'),
  normal: atom('normal'),
  jsError: atom('js_error'),
  badarg: atom('badarg'),
};

/** SPAWN_REPLY flags (dist.c): the link / monitor asked for was set up. */
const SPAWN_FLAG_LINK = 1;
const SPAWN_FLAG_MONITOR = 2;

/** The M:F handlers JS registered. */
export class RpcHandlers {
  private readonly map = new Map<string, RpcHandler>();
  set(module: Atom | string, fun: Atom | string, h: RpcHandler | undefined): RpcRegistration {
    const k = key(module, fun);
    if (h) this.map.set(k, h);
    else this.map.delete(k);
    // Removes this handler only: a later handleRpc for the same M:F stays.
    const off = () => void (h && this.map.get(k) === h && this.map.delete(k));
    return Object.assign(off, { [Symbol.dispose]: off });
  }
  get(module: Atom, fun: Atom): RpcHandler | undefined {
    return this.map.get(key(module, fun));
  }
}

const key = (m: Atom | string, f: Atom | string): string => `${String(m)}\u0000${String(f)}`;

type SpawnRequest = Extract<Control, { op: 'spawn_request' | 'spawn_request_tt' }>;

const hasOption = (opts: Term[], name: Atom): boolean =>
  opts.some((o) => o === name || (o instanceof Tuple && o.length >= 1 && o.elements[0] === name));

/** Answers one SPAWN_REQUEST (see the file comment). */
export function handleSpawnRequest(rt: Runtime, handlers: RpcHandlers, req: SpawnRequest, args: Term): void {
  const { module, function: fun, arity } = req.mfa;
  const argv = Array.isArray(args) ? args : undefined;
  const isCall = module === A.erpc && fun === A.executeCall && arity === 4 && argv?.length === 4 && Array.isArray(argv[3]);
  const isCast = module === A.erpc && fun === A.executeCast && arity === 3 && argv?.length === 3 && Array.isArray(argv[2]);
  if (!isCall && !isCast) {
    log('spawn_request %s:%s/%d from %s: notsup', module.name, fun.name, arity, String(req.from));
    rt.sendSpawnReply(req.reqId, req.from, 0, A.notsup);
    return;
  }
  const [res, m, f, a] = isCall ? (argv as Term[]) : [undefined, ...(argv as Term[])];
  if (!(m instanceof Atom) || !(f instanceof Atom)) {
    rt.sendSpawnReply(req.reqId, req.from, 0, A.badarg);
    return;
  }
  const proc = rt.spawn({ trapExit: false });
  let flags = 0;
  // The spawner's monitor uses ReqId as its reference; set up before the reply, as erts does.
  if (hasOption(req.options, A.monitor)) {
    rt.remoteMonitor(req.from, proc.pid, req.reqId);
    flags |= SPAWN_FLAG_MONITOR;
  }
  if (hasOption(req.options, A.link)) {
    rt.remoteLink(req.from, proc.pid);
    flags |= SPAWN_FLAG_LINK;
  }
  rt.sendSpawnReply(req.reqId, req.from, flags, proc.pid);
  const callArgs = a as Term[];
  run(handlers, m, f, callArgs).then((outcome) => {
    if (log.enabled) log('%s:%s/%d from %s → %s', m.name, f.name, callArgs.length, String(req.from), formatTerm(outcome.reason));
    if (isCall) proc.exit(withRes(res as Term, outcome, m, f, callArgs.length));
    else proc.exit(outcome.kind === 'return' ? A.normal : outcome.reason);
  });
}

type Outcome = { kind: 'return'; reason: Term } | { kind: 'error'; reason: Term } | { kind: 'exit'; reason: Term } | { kind: 'throw'; reason: Term };

async function run(handlers: RpcHandlers, m: Atom, f: Atom, args: Term[]): Promise<Outcome> {
  const h = handlers.get(m, f);
  if (!h) return { kind: 'error', reason: A.undef };
  try {
    return { kind: 'return', reason: await applyHandler(h, m, f, args) };
  } catch (e) {
    if (e instanceof ErlangException) return { kind: e.kind, reason: e.reason };
    const text = e instanceof Error ? e.message : String(e);
    return { kind: 'error', reason: new Tuple([A.jsError, Buffer.from(text, 'utf8')]) };
  }
}

/**
 * The handler's value as a reply: `undefined` becomes `ok`; a value with no Erlang term throws
 * (the caller then gets `{js_error, Text}` instead of a reply that never comes).
 */
export async function applyHandler(h: RpcHandler, m: Atom, f: Atom, args: Term[]): Promise<Term> {
  const name = `handleRpc ${m.name}:${f.name}/${args.length}`;
  const value = replyOf((await h(args)) as Term | undefined, h, name);
  checkEncodable(value, h, name);
  return value;
}

/** The exit reason erpc:execute_call/4 would end with: `{Res, return, V}`, `{Res, error, R, Stack}`, … */
function withRes(res: Term, o: Outcome, m: Atom, f: Atom, arity: number): Term {
  switch (o.kind) {
    case 'return':
      return new Tuple([res, A.return, o.reason]);
    case 'throw':
      return new Tuple([res, A.throw, o.reason]);
    case 'exit':
      return new Tuple([res, A.exit, o.reason]);
    case 'error':
      // The stack names the called function, as erlang's undef does: [{M, F, Arity, []}].
      return new Tuple([res, A.error, o.reason, [new Tuple([m, f, arity, []])]]);
  }
}

// ---- the calling half: node.rpc() ------------------------------------------------------------

/*
 * `node.rpc()` the way `rpc:call/5` itself works since OTP 23: not a request to `rex` but one
 * SPAWN_REQUEST of `erpc:execute_call(Res, M, F, A)` with a monitor (OTP lib/kernel/src/erpc.erl,
 * call/5). The spawned process exits with `{Res, return, Value}` (or throw/exit/error), and that
 * exit reason comes back as the monitor's DOWN: one frame out and two in (SPAWN_REPLY, then
 * MONITOR_P_EXIT), where the call through `rex` costs three out (monitor, request, demonitor) and
 * a hop through the rex server on the peer. Results map to what rpc:call returns (OTP
 * lib/kernel/src/rpc.erl, rpcify_exception): a value, or RpcError with the `{badrpc, Reason}`
 * Reason (`{'EXIT', {Error, Stack}}`, `{'EXIT', Exit}`, `nodedown`, …); a thrown value is the
 * result, as with rpc:call.
 */

const C = {
  erpc: atom('erpc'),
  executeCall: atom('execute_call'),
  monitor: atom('monitor'),
  return: atom('return'),
  throw: atom('throw'),
  exit: atom('exit'),
  error: atom('error'),
  EXIT: atom('EXIT'),
  noconnection: atom('noconnection'),
  nodedown: atom('nodedown'),
  notsup: atom('notsup'),
};

export interface ErpcCallOptions {
  /** Milliseconds from now until TimeoutError (phase `rpc`). */
  timeout: number;
  signal?: AbortSignal;
  /** The spawned process's group leader. */
  groupLeader: Pid;
}

/** rpc:call(node, m, f, args) through erpc:execute_call/4 on the peer (which must have DFLAG_SPAWN). */
export async function erpcCall(rt: Runtime, node: Atom, m: Atom, f: Atom, args: readonly Encodable[], o: ErpcCallOptions): Promise<Term> {
  const what = `${m.name}:${f.name}/${args.length} on ${node.name}`;
  const proc = rt.spawn();
  try {
    const res = rt.makeRef();
    const mfa = { module: C.erpc, function: C.executeCall, arity: 4 };
    // Encodable input travels as a term: the encoder takes both.
    const { reqId, sent } = rt.spawnRequest(proc, node, mfa, [res, m, f, args as Term], [C.monitor], o.groupLeader, true);
    let msg: Term;
    try {
      const answered = proc.receive({
        timeout: o.timeout,
        signal: o.signal,
        match: (x) => (isTuple(x, 5, 'DOWN') || (isTuple(x, 4, 'spawn_reply') && x.elements[2] === C.error)) && reqId.equals(x.elements[1]),
      });
      msg = await Promise.race([answered, encodeFailure(sent)]);
    } catch (e) {
      if (e instanceof TimeoutError) throw new TimeoutError('rpc', `rpc ${what}`, o.timeout, { cause: e });
      throw e;
    }
    const el = (msg as Tuple).elements;
    if (el.length === 4) throw new RpcError(what, spawnFailure(el[3]));
    const reason = el[4];
    if (reason instanceof Tuple && reason.elements.length >= 3 && res.equals(reason.elements[0])) {
      const [, kind, value, stack] = reason.elements;
      if (kind === C.return) return value;
      if (kind === C.throw) {
        if (value instanceof Tuple && value.elements[0] === C.EXIT) throw new RpcError(what, value);
        return value;
      }
      if (kind === C.exit) throw new RpcError(what, new Tuple([C.EXIT, value]));
      if (kind === C.error) {
        // {Res, error, {erpc, Reason}}: erpc's own argument error, reported without a stack.
        const erpcError = stack === undefined && isTuple(value, 2, 'erpc');
        throw new RpcError(what, new Tuple([C.EXIT, erpcError ? value.elements[1] : new Tuple([value, stack ?? []])]));
      }
    }
    // Not a result: the process was killed, or the connection was lost.
    throw new RpcError(what, reason === C.noconnection ? C.nodedown : new Tuple([C.EXIT, reason]));
  } finally {
    proc.close(); // drops the monitor (a DEMONITOR only when no DOWN came) and any late reply
  }
}

/** A SPAWN_REPLY error as rpc:call reports it. */
function spawnFailure(reason: Term): Term {
  if (reason === C.noconnection) return C.nodedown;
  if (reason === C.notsup) return C.notsup;
  return new Tuple([C.EXIT, reason]);
}

/**
 * Rejects with the EncodeError when a request's terms could not be encoded (nothing was sent, so
 * no reply will come); otherwise never settles. A lost connection is answered by the runtime
 * instead (`noconnection`), as erts answers it.
 */
export function encodeFailure(sent: Promise<void>): Promise<never> {
  const p = sent.then(
    () => new Promise<never>(() => {}),
    (e: unknown) => (e instanceof EncodeError ? Promise.reject(e) : new Promise<never>(() => {})),
  );
  p.catch(() => {}); // the caller may already have its answer
  return p;
}
