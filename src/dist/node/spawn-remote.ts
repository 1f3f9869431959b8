/**
 * `node.spawnRemote(peer, M, F, Args, {link, monitor})`: erlang:spawn_request/5 over the wire
 * (SPAWN_REQUEST 29 → SPAWN_REPLY 31, OTP erts "Distribution Protocol"). The request goes from a
 * JS process (yours, or a helper the result holds); the reply carries the new pid or the reason
 * Erlang gives (`badopt` for a bad option, `notsup`, `system_limit`, `noconnection` when the node
 * cannot be reached or goes down before replying). The spawned process's group leader is an I/O
 * server of ours (io-server.ts): its output goes to `output`, or to the debug log.
 */
import { TimeoutError } from '../../errors.js';
import { SpawnError } from '../runtime/errors.js';

export { SpawnError };
import { Atom, Pid, Reference, Tuple, atom, type Term } from '../../etf/types.js';
import type { Process } from '../runtime/process.js';
import { isTuple } from '../runtime/terms.js';
import type { RpcContext } from './calls.js';
import { startIoServer } from './io-server.js';
import { encodeFailure } from './erpc.js';

const A = {
  link: atom('link'),
  monitor: atom('monitor'),
  ok: atom('ok'),
  badarg: atom('badarg'),
  EXIT: atom('EXIT'),
  DOWN: atom('DOWN'),
};

export interface SpawnRemoteOptions {
  /** Link the requesting process to the new one (set up by the spawning node before it replies). */
  link?: boolean;
  /** Monitor the new process; the monitor's reference is the request id, as in Erlang. */
  monitor?: boolean;
  /** The process that requests (and holds the link/monitor, gets EXIT/DOWN). Default: a helper. */
  process?: Process;
  /** Other spawn_opt options, sent as given (e.g. `{priority, high}`); Erlang checks them. */
  spawnOptions?: Term[];
  /** The new process's group leader (default: the node's I/O server, output to DEBUG=beamnode:dist:io:output). */
  groupLeader?: Pid;
  /** Its output (io:format …) goes here: an I/O server of its own, ended when the process ends. */
  output?: (text: string) => void;
  /** Milliseconds to wait for SPAWN_REPLY (default 10000). */
  timeout?: number;
  signal?: AbortSignal;
}

export interface RemoteSpawn {
  pid: Pid;
  /** The request id (also the monitor's reference with `monitor`). */
  ref: Reference;
  /** With `monitor` and no `process` given: resolves with the DOWN reason. */
  down?: Promise<Term>;
  /** With `link` and no `process` given: resolves with the linked process's exit reason. */
  exit?: Promise<Term>;
  /** Drops the helper's link/monitor (no-op when you gave `process`). */
  release(): void;
}

/** The node's CallContext with its default group leader for remote spawns. */
export type SpawnContext = RpcContext;

const asAtom = (x: Atom | string): Atom => (x instanceof Atom ? x : atom(x));

export async function spawnRemote(ctx: SpawnContext, node: Atom | string, module: Atom | string, fun: Atom | string, args: Term[], o: SpawnRemoteOptions = {}): Promise<RemoteSpawn> {
  const n = asAtom(node);
  const m = asAtom(module);
  const f = asAtom(fun);
  const target = `${m.name}:${f.name}/${Array.isArray(args) ? args.length : '?'} on ${n.name}`;
  // erlang:spawn_request/5 raises badarg for these before anything is sent.
  if (!Array.isArray(args)) throw new SpawnError(target, A.badarg);
  const timeout = o.timeout ?? 10_000;
  try {
    await ctx.peer(n, { signal: o.signal, timeout });
  } catch (e) {
    if (e instanceof Error && (e as Error & { code?: string }).code?.startsWith('BEAM_ERR_NODE_STOPPED')) throw e;
    throw Object.assign(new SpawnError(target, atom('noconnection')), { cause: e });
  }
  const rt = ctx.runtime;
  const proc = o.process ?? rt.spawn({ trapExit: true });
  const options: Term[] = [...(o.link ? [A.link] : []), ...(o.monitor ? [A.monitor] : []), ...(o.spawnOptions ?? [])];
  const io = o.output ? startIoServer(ctx, o.output) : undefined;
  const { reqId: ref, sent } = rt.spawnRequest(proc, n, { module: m, function: f, arity: args.length }, args, options, io?.pid ?? o.groupLeader ?? ctx.defaultGroupLeader());
  let reply: Tuple;
  try {
    const replied = proc.receive({
      timeout,
      signal: o.signal,
      match: (x) => isTuple(x, 4, 'spawn_reply') && ref.equals(x.elements[1]),
    });
    reply = (await Promise.race([replied, encodeFailure(sent)])) as Tuple;
  } catch (e) {
    if (!o.process) proc.close(); // a late reply then undoes its link/monitor (runtime.remoteSpawnReply)
    io?.close();
    if (e instanceof TimeoutError) throw new TimeoutError('spawn', `spawn_request ${target}`, timeout, { cause: e });
    throw e;
  }
  const [, , status, result] = reply.elements;
  if (status !== A.ok || !(result instanceof Pid)) {
    if (!o.process) proc.close();
    io?.close();
    throw new SpawnError(target, result);
  }
  if (io) {
    // The I/O server lives as long as the process it serves.
    const watcher = rt.spawn();
    watcher.monitor(result);
    void watcher.receive({ match: (x) => isTuple(x, 5, 'DOWN') }).then(
      () => (io.close(), watcher.close()),
      () => io.close(),
    );
  }
  if (o.process) return { pid: result, ref, release: () => {} };
  let down: Promise<Term> | undefined;
  let exit: Promise<Term> | undefined;
  if (o.monitor) {
    down = proc.receive({ match: (x) => isTuple(x, 5, 'DOWN') && ref.equals(x.elements[1]) }).then((x) => (x as Tuple).elements[4]);
    down.catch(() => {});
  }
  if (o.link) {
    exit = proc.receive({ match: (x) => isTuple(x, 3, 'EXIT') && result.equals(x.elements[1]) }).then((x) => (x as Tuple).elements[2]);
    exit.catch(() => {});
  }
  if (!o.monitor && !o.link) proc.close();
  else void Promise.allSettled([down, exit]).then(() => proc.close());
  return {
    pid: result,
    ref,
    down,
    exit,
    release: () => {
      if (o.link) proc.unlink(result);
      if (o.monitor) proc.demonitor(ref);
      proc.close();
    },
  };
}
