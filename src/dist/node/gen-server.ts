/**
 * A gen_server written in JS: `node.serve(name, handlers)` registers a process that answers
 * `gen_server:call({Name, Node}, Req)` (Erlang) and `GenServer.call({Name, Node}, Req)` (Elixir),
 * `gen_server:cast` and plain messages. Requests are handled one at a time, in arrival order,
 * like a gen_server. A reply goes to the caller's alias when the tag is `[alias | Ref]` (OTP 24+)
 * and to its pid otherwise.
 *
 * A handler that throws ends the server with `{js_error, <<"message">>}` (callers waiting on it
 * see the exit, as with a crashed gen_server); `stop()` ends it with `normal`.
 */
import createDebug from 'debug';
import { Atom, ImproperList, Pid, Reference, Tuple, atom, type Term } from '../../etf/types.js';
import type { Process } from '../runtime/process.js';
import type { Runtime } from '../runtime/runtime.js';
import { formatTerm } from '../runtime/terms.js';
import { EncodeError } from '../../etf/errors.js';
import { replyOf, warnOnce } from './warnings.js';

const log = createDebug('beamnode:dist:gen-server');

/** Return this from a `call` handler to answer later with `from.reply(value)`. */
export const noReply: unique symbol = Symbol('noReply');

/** The caller of a gen_server call: `{Pid, Tag}` on the wire. */
export interface From {
  pid: Pid;
  tag: Term;
  /** Sends `{Tag, value}` to the caller (gen_server:reply/2). */
  reply(value: Term): Promise<void>;
}

export interface ServerHandlers {
  /**
   * A `gen_server:call`: return the reply (or a promise of it), or `noReply` and answer later.
   * `undefined` (a void function) replies the atom `ok` (a warning says so once per server).
   */
  call?(request: Term, from: From): Term | void | typeof noReply | Promise<Term | void | typeof noReply>;
  /** A `gen_server:cast`. */
  cast?(msg: Term): void | Promise<void>;
  /** Any other message (including `{'EXIT', …}` and `{'DOWN', …}`). */
  info?(msg: Term): void | Promise<void>;
}

const A = { genCall: atom('$gen_call'), genCast: atom('$gen_cast'), alias: atom('alias'), jsError: atom('js_error') };

/** A running JS gen_server. */
export class GenServer {
  constructor(
    readonly name: Atom,
    readonly process: Process,
  ) {}
  get alive(): boolean {
    return this.process.alive;
  }
  /** Ends the server (default reason `normal`); waiting callers get the exit. */
  stop(reason?: Term): void {
    this.process.exit(reason);
  }
}

/** gen:reply/2: to the alias for `[alias | Ref]` tags, else to the pid. */
export function replyTo(rt: Runtime, server: Process, to: Pid, tag: Term, value: Term): Promise<void> {
  const msg = new Tuple([tag, value]);
  if (tag instanceof ImproperList && tag.elements.length === 1 && tag.elements[0] === A.alias && tag.tail instanceof Reference) {
    return rt.sendAlias(server, tag.tail, msg, to);
  }
  return server.send(to, msg);
}

/** `{'$gen_call', {Pid, Tag}, Request}` → its parts. */
export function parseGenCall(msg: Term): { pid: Pid; tag: Term; request: Term } | undefined {
  if (!(msg instanceof Tuple) || msg.length !== 3 || msg.elements[0] !== A.genCall) return undefined;
  const from = msg.elements[1];
  if (!(from instanceof Tuple) || from.length !== 2 || !(from.elements[0] instanceof Pid)) return undefined;
  return { pid: from.elements[0], tag: from.elements[1], request: msg.elements[2] };
}

/** Starts the server loop on `proc` (already registered under `name`). */
export function runServer(rt: Runtime, name: Atom, proc: Process, h: ServerHandlers): GenServer {
  const server = new GenServer(name, proc);
  const loop = async () => {
    for await (const msg of proc) {
      try {
        await handle(rt, name, proc, h, msg);
      } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        log('%s: handler threw: %s', name.name, text);
        proc.exit(new Tuple([A.jsError, Buffer.from(text, 'utf8')]));
        return;
      }
    }
  };
  loop().catch((e: unknown) => log('%s: loop ended: %s', name.name, (e as Error).message));
  return server;
}

async function handle(rt: Runtime, name: Atom, proc: Process, h: ServerHandlers, msg: Term): Promise<void> {
  const call = parseGenCall(msg);
  if (call) {
    const from: From = { pid: call.pid, tag: call.tag, reply: (v) => replyTo(rt, proc, call.pid, call.tag, v) };
    if (!h.call) {
      warnOnce(h, `serve(${name.name}) has no call handler: gen_server calls to it are not answered`, 'BEAMNODE_NO_CALL_HANDLER');
      log('%s: call %s with no call handler: not answered', String(proc.pid), formatTerm(call.request));
      return;
    }
    const handler = `serve(${name.name}) call handler`;
    const r = await h.call(call.request, from);
    if (r === noReply) return;
    await from.reply(replyOf(r as Term | undefined, h, handler)).catch((e: unknown) => {
      // A reply with no Erlang term ends the server as a throw does: the caller gets the exit.
      if (e instanceof EncodeError) {
        warnOnce(h, `${handler} returned a value with no Erlang term (${e.message}): the server exits`, 'BEAMNODE_BAD_REPLY');
        throw new Error(`${handler} returned a value with no Erlang term: ${e.message}`, { cause: e });
      }
      log('reply to %s not sent: %s', String(call.pid), (e as Error).message);
    });
    return;
  }
  if (msg instanceof Tuple && msg.length === 2 && msg.elements[0] === A.genCast) {
    await h.cast?.(msg.elements[1]);
    return;
  }
  await h.info?.(msg);
}
