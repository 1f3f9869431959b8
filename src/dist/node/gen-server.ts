/**
 * A gen_server written in JS: `node.serve(name, handlers)` registers a process that answers
 * `gen_server:call({Name, Node}, Req)` (Erlang) and `GenServer.call({Name, Node}, Req)` (Elixir),
 * `gen_server:cast` and plain messages. Requests are handled one at a time, in arrival order,
 * like a gen_server. A reply goes to the caller's alias when the tag is `[alias | Ref]` (OTP 24+)
 * and to its pid otherwise.
 *
 * A handler that throws fails that request only, as a Node.js developer expects of a request
 * handler: the caller of a call sees the DOWN of the monitor its gen_server:call holds on the
 * server, with reason `{js_error, <<"message">>}` (or an ErlangException's reason), so
 * gen_server:call exits and Elixir's GenServer.call raises, and the server takes the next request.
 * `{ crash: true }` chooses Erlang's semantics instead (the server ends with that reason), and
 * `{ restart }` starts it again under its name, as a supervisor restarts a child.
 */
import createDebug from 'debug';
import { Atom, ImproperList, Pid, Reference, Tuple, atom, type Encodable, type Term } from '../../etf/types.js';
import type { Process } from '../runtime/process.js';
import type { Runtime } from '../runtime/runtime.js';
import { formatTerm } from '../runtime/terms.js';
import { EncodeError } from '../../etf/errors.js';
import { ErlangException } from './erpc.js';
import { replyOf, warn, warnOnce } from './warnings.js';

const log = createDebug('beamnode:dist:gen-server');

/** Return this from a `call` handler to answer later with `from.reply(value)`. */
export const noReply: unique symbol = Symbol('noReply');

/** The caller of a gen_server call: `{Pid, Tag}` on the wire. */
export interface From {
  pid: Pid;
  tag: Term;
  /** Sends `{Tag, value}` to the caller (gen_server:reply/2). */
  reply(value: Encodable): Promise<void>;
  /** Fails the call as a throw from the handler would (after `noReply`): the caller exits with the error's reason. */
  fail(error: unknown): void;
}

export interface ServerHandlers {
  /**
   * A `gen_server:call`: return the reply (or a promise of it), or `noReply` and answer later.
   * `undefined` (a void function) replies the atom `ok` (a warning says so once per server).
   * A throw fails this call (see the file comment); `throw new ErlangException('throw', v)`
   * replies `v`, as a `throw` in a gen_server callback does.
   */
  call?(request: Term, from: From): Encodable | void | typeof noReply | Promise<Encodable | void | typeof noReply>;
  /** A `gen_server:cast`. */
  cast?(msg: Term): void | Promise<void>;
  /** Any other message (including `{'EXIT', …}` and `{'DOWN', …}`). */
  info?(msg: Term): void | Promise<void>;
}

/** How `serve()` runs a server. */
export interface ServeOptions {
  /** Exit signals from linked processes arrive as `{'EXIT', From, Reason}` info messages. Default false. */
  trapExit?: boolean;
  /**
   * Erlang's semantics: a handler that throws ends the server with `{js_error, <<"message">>}`
   * (or the ErlangException's reason); its callers get that exit, later calls `noproc`. Default
   * false: a throw fails that one request and the server goes on.
   */
  crash?: boolean;
  /**
   * Implies `crash`: after an abnormal exit the server starts again under its name (a new pid,
   * the same handlers), at most `intensity` times within `period` ms, then stays down; defaults
   * 1 in 5000 ms, those of OTP's supervisor (lib/stdlib/src/supervisor.erl).
   */
  restart?: boolean | { intensity?: number; period?: number };
}

const A = {
  genCall: atom('$gen_call'),
  genCast: atom('$gen_cast'),
  alias: atom('alias'),
  jsError: atom('js_error'),
  normal: atom('normal'),
  shutdown: atom('shutdown'),
};

/**
 * A running JS gen_server. `close()` (also `stop()`, `using`) ends it and frees its name; after a
 * restart `process` and `pid` are the new ones.
 */
export class GenServer {
  /** How many times `restart` started the server again. */
  restarts = 0;
  private stopped = false;
  constructor(
    readonly name: Atom,
    private current: Process,
  ) {}
  /** The process serving now. */
  get process(): Process {
    return this.current;
  }
  get pid(): Pid {
    return this.current.pid;
  }
  get alive(): boolean {
    return this.current.alive;
  }
  /** Ends the server (default reason `normal`, never restarted); waiting callers get the exit. */
  stop(reason?: Term): void {
    this.stopped = true;
    this.current.exit(reason);
  }
  /** Same as `stop()`. */
  close(): void {
    this.stop();
  }
  [Symbol.dispose](): void {
    this.stop();
  }
  /** @internal */
  get closed(): boolean {
    return this.stopped;
  }
  /** @internal After a restart. */
  replace(p: Process): void {
    this.current = p;
    this.restarts++;
  }
}

/** gen:reply/2: to the alias for `[alias | Ref]` tags, else to the pid. */
export function replyTo(rt: Runtime, server: Process, to: Pid, tag: Term, value: Encodable): Promise<void> {
  const msg = new Tuple([tag, value as Term]);
  const ref = aliasOf(tag);
  if (ref) return rt.sendAlias(server, ref, msg, to);
  return server.send(to, msg);
}

/** The reference of a `[alias | Ref]` tag. */
const aliasOf = (tag: Term): Reference | undefined =>
  tag instanceof ImproperList && tag.elements.length === 1 && tag.elements[0] === A.alias && tag.tail instanceof Reference ? tag.tail : undefined;

/** `{'$gen_call', {Pid, Tag}, Request}` → its parts. */
export function parseGenCall(msg: Term): { pid: Pid; tag: Term; request: Term } | undefined {
  if (!(msg instanceof Tuple) || msg.length !== 3 || msg.elements[0] !== A.genCall) return undefined;
  const from = msg.elements[1];
  if (!(from instanceof Tuple) || from.length !== 2 || !(from.elements[0] instanceof Pid)) return undefined;
  return { pid: from.elements[0], tag: from.elements[1], request: msg.elements[2] };
}

/** The exit reason a throw stands for: an ErlangException's reason, else `{js_error, <<Message>>}`. */
function reasonOf(e: unknown): Term {
  if (e instanceof ErlangException) return e.reason;
  return new Tuple([A.jsError, Buffer.from(e instanceof Error ? e.message : String(e), 'utf8')]);
}

/** Starts the server loop on `proc` (already registered under `name`). */
export function runServer(rt: Runtime, name: Atom, proc: Process, h: ServerHandlers, o: ServeOptions = {}): GenServer {
  const server = new GenServer(name, proc);
  const crash = o.crash === true || !!o.restart;
  const limits = typeof o.restart === 'object' ? o.restart : {};
  const intensity = limits.intensity ?? 1;
  const period = limits.period ?? 5000;
  const restartsAt: number[] = [];
  const loop = async (p: Process): Promise<void> => {
    for await (const msg of p) {
      try {
        await handle(rt, name, p, h, msg, crash);
      } catch (e) {
        log('%s: handler threw: %s', name.name, (e as Error)?.message ?? String(e));
        p.exit(reasonOf(e)); // crash mode only: handle() keeps other throws to their request
        break;
      }
    }
    const reason = await p.exited;
    if (!o.restart || server.closed || reason === A.normal || reason === A.shutdown) return;
    const now = Date.now();
    while (restartsAt.length > 0 && now - restartsAt[0] > period) restartsAt.shift();
    if (restartsAt.length >= intensity) {
      warn(`serve(${name.name}) exited ${formatTerm(reason, 120)}, its ${intensity + 1}th exit within ${period} ms: not restarted`, 'BEAMNODE_SERVER_GAVE_UP');
      return;
    }
    restartsAt.push(now);
    const next = rt.spawn({ trapExit: o.trapExit ?? false });
    try {
      rt.register(name, next);
    } catch (e) {
      next.close(); // the node stopped, or someone took the name meanwhile
      log('%s: not restarted: %s', name.name, (e as Error).message);
      return;
    }
    log('%s: exited %s; restarted as %s', name.name, formatTerm(reason), String(next.pid));
    server.replace(next);
    return loop(next);
  };
  loop(proc).catch((e: unknown) => log('%s: loop ended: %s', name.name, (e as Error).message));
  return server;
}

async function handle(rt: Runtime, name: Atom, proc: Process, h: ServerHandlers, msg: Term, crash: boolean): Promise<void> {
  const call = parseGenCall(msg);
  if (call) {
    const from: From = {
      pid: call.pid,
      tag: call.tag,
      reply: (v) => replyTo(rt, proc, call.pid, call.tag, v),
      fail: (e) => failCall(rt, name, proc, h, call, e),
    };
    if (!h.call) {
      warnOnce(h, `serve(${name.name}) has no call handler: gen_server calls to it are not answered`, 'BEAMNODE_NO_CALL_HANDLER');
      log('%s: call %s with no call handler: not answered', String(proc.pid), formatTerm(call.request));
      return;
    }
    try {
      await answer(h, name, from, call.request);
    } catch (e) {
      if (crash) throw e;
      failCall(rt, name, proc, h, call, e);
    }
    return;
  }
  const isCast = msg instanceof Tuple && msg.length === 2 && msg.elements[0] === A.genCast;
  try {
    if (isCast) await h.cast?.(msg.elements[1]);
    else await h.info?.(msg);
  } catch (e) {
    if (crash) throw e;
    // Nobody waits for a cast or a message: the error is reported, the server goes on.
    const text = e instanceof Error ? e.message : String(e);
    log('%s: %s handler threw: %s', name.name, isCast ? 'cast' : 'info', text);
    warnOnce(h, `serve(${name.name}) ${isCast ? 'cast' : 'info'} handler threw (${text}); the server goes on (DEBUG=beamnode:dist:gen-server shows each one)`, 'BEAMNODE_HANDLER_THREW');
  }
}

/** Runs the call handler and sends its reply; throws what the handler threw. */
async function answer(h: ServerHandlers, name: Atom, from: From, request: Term): Promise<void> {
  const handler = `serve(${name.name}) call handler`;
  let r: Encodable | void | typeof noReply;
  try {
    r = await h.call!(request, from);
  } catch (e) {
    if (e instanceof ErlangException && e.kind === 'throw') r = e.reason; // gen_server: a thrown value is the reply
    else throw e;
  }
  if (r === noReply) return;
  await from.reply(replyOf(r as Term | undefined, h, handler)).catch((e: unknown) => {
    // A reply with no Erlang term fails the call as a throw does: the caller gets an error, not silence.
    if (e instanceof EncodeError) {
      warnOnce(h, `${handler} returned a value with no Erlang term (${e.message}): the caller gets an error`, 'BEAMNODE_BAD_REPLY');
      throw new Error(`${handler} returned a value with no Erlang term: ${e.message}`, { cause: e });
    }
    log('reply to %s not sent: %s', String(from.pid), (e as Error).message);
  });
}

/**
 * Fails one call: fires the DOWN of the caller's call monitor (its reference is the tag, or the
 * tag's alias) with the throw's reason. A caller that holds no such monitor (a hand-made
 * `$gen_call`) cannot be told; it waits for its own timeout, and a warning says so.
 */
function failCall(rt: Runtime, name: Atom, proc: Process, h: ServerHandlers, call: { pid: Pid; tag: Term }, e: unknown): void {
  const reason = reasonOf(e);
  log('%s: call from %s failed: %s', name.name, String(call.pid), formatTerm(reason));
  const ref = call.tag instanceof Reference ? call.tag : aliasOf(call.tag);
  if (ref && rt.downOne(proc, ref, reason)) return;
  warnOnce(h, `serve(${name.name}) call handler threw (${formatTerm(reason, 120)}) and the caller does not monitor the server: it gets no answer`, 'BEAMNODE_HANDLER_THREW');
}
