/**
 * A JavaScript process: a pid on our node, a mailbox with selective receive, links, monitors and
 * aliases. The bookkeeping lives in the Runtime (runtime.ts); this class is the handle user code
 * holds.
 *
 * JS processes trap exits by default (`trapExit = true`): an exit signal from a linked process
 * arrives as a `{'EXIT', From, Reason}` message instead of killing the process (JS code rarely
 * wants to die because an Erlang process did). Set `trapExit = false` for Erlang's default:
 * a non-`normal` reason then ends this process with the same reason, and the exit spreads to its
 * own links. `exit(pid, kill)` always ends the target, trapping or not (reason `killed`).
 */
import type { Atom, Encodable, Pid, Reference, Term } from '../../etf/types.js';
import { fromJson, jsonOptions, toJson, type JsonInput, type JsonMode, type JsonOptions, type JsonTerm } from '../../etf/json/convert.js';
import { Mailbox, type ReceiveOptions } from './mailbox.js';
import { ProcessExitedError } from './errors.js';
import type { Dest, MonitorTarget, Runtime } from './runtime.js';

export type { ReceiveOptions } from './mailbox.js';

/** A link as this process sees it. `unlinkId` is set while our UNLINK_ID waits for its ack. */
export interface LinkEntry {
  pid: Pid;
  linked: boolean;
  unlinkId?: bigint;
}

/** A monitor this process holds. `item` is what its DOWN message names (pid or `{Name, Node}`). */
export interface HeldMonitor {
  ref: Reference;
  target: Pid | Atom;
  node: Atom;
  item: Term;
  /** For a local target: the process watched (so demonitor finds it even after a re-register). */
  local?: Process;
}

/** A monitor someone holds on this process; `as` is how it named us (pid or registered name). */
export interface WatchedBy {
  ref: Reference;
  watcher: Pid;
  as: Pid | Atom;
}

/** The runtime's bookkeeping of one process (not part of the public API). */
export interface ProcessState {
  alive: boolean;
  reason: Term | undefined;
  name: Atom | undefined;
  links: Map<string, LinkEntry>;
  monitors: Map<string, HeldMonitor>;
  watchedBy: Map<string, WatchedBy>;
  aliases: Set<string>;
  resolveExited: (reason: Term) => void;
}

/**
 * A process spawned in JSON mode (`spawn({ json: true })`), typed as such: every message it
 * receives (EXIT and DOWN included) comes through toJson, and what it sends through fromJson
 * (docs/node.md, "JSON mode").
 */
export type JsonProcess = Omit<Process, 'receive' | 'send' | typeof Symbol.asyncIterator> & {
  receive(opts?: ReceiveOptions): Promise<JsonTerm>;
  send(dest: Dest | Reference, msg: JsonInput, o?: SendOptions): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<JsonTerm>;
};

/** Options of runtime.spawn() and node.spawn(). */
export interface SpawnOptions {
  /** Default true for JS processes (see the file comment). */
  trapExit?: boolean;
  /** Most queued messages (default: the runtime's). Past it the process exits `mailbox_overflow`. */
  mailboxLimit?: number;
  /** A process whose messages are dropped (the node's own sender pid). */
  discard?: boolean;
  /** JSON mode: messages received go through toJson, messages sent through fromJson (docs/node.md). */
  json?: JsonMode;
}

export interface SendOptions {
  /** EEP 76 priority message (see `send`). */
  priority?: boolean;
  /** JSON mode for this message (default: the process's): `msg` goes through fromJson. */
  json?: JsonMode;
}

export class Process implements AsyncIterable<Term> {
  /** True: exit signals from links arrive as `{'EXIT', From, Reason}` messages (see the file comment). */
  trapExit: boolean;
  /** JSON mode's options when the process was spawned with `json` (docs/node.md). */
  readonly json: JsonOptions | undefined;
  /** Resolves with the exit reason when the process ends. */
  readonly exited: Promise<Term>;
  /** @internal */
  readonly state: ProcessState;
  /** @internal */
  readonly mailbox: Mailbox;

  /** @internal Made by `node.spawn()`. */
  constructor(
    readonly pid: Pid,
    private readonly runtime: Runtime,
    opts: { trapExit: boolean; mailboxLimit: number; discard: boolean; json?: JsonMode },
  ) {
    this.trapExit = opts.trapExit;
    this.json = jsonOptions(opts.json);
    const convert = this.json ? (m: Term) => toJson(m) as Term : undefined;
    let resolveExited!: (r: Term) => void;
    this.exited = new Promise<Term>((r) => (resolveExited = r));
    this.state = {
      alive: true,
      reason: undefined,
      name: undefined,
      links: new Map(),
      monitors: new Map(),
      watchedBy: new Map(),
      aliases: new Set(),
      resolveExited,
    };
    this.mailbox = opts.discard
      ? new Mailbox(0, () => {}, () => String(pid))
      : new Mailbox(opts.mailboxLimit, () => runtime.overflow(this), () => String(pid), convert);
  }

  get alive(): boolean {
    return this.state.alive;
  }

  /** The exit reason once the process has ended. */
  get exitReason(): Term | undefined {
    return this.state.reason;
  }

  /** The name it is registered under, if any. */
  get name(): Atom | undefined {
    return this.state.name;
  }

  /** Messages waiting in the mailbox. */
  get queued(): number {
    return this.mailbox.size;
  }

  /**
   * Sends `msg` from this process. Local delivery is immediate; a remote one connects on first use
   * and resolves once the message is handed to the connection (rejects if the node cannot be
   * reached; the message is then lost, as in Erlang). The promise never needs to be awaited.
   * `dest` may be an alias (a Reference). `priority` sends an EEP 76 priority message
   * (`erlang:send(Dest, Msg, [priority])`, OTP 28+): received first by a priority alias
   * (`alias([priority])`), an ordinary message otherwise and to peers older than OTP 28.
   * In JSON mode (the process's, or `o.json`) `msg` goes through fromJson first.
   */
  send(dest: Dest | Reference, msg: Encodable, o: SendOptions = {}): Promise<void> {
    let term = msg as Term; // read-only forms encode the same
    const json = o.json === undefined ? this.json : jsonOptions(o.json);
    if (json) {
      try {
        term = fromJson(msg as JsonInput, json);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.runtime.send(this, dest, term, o.priority ?? false);
  }

  /**
   * Selective receive: the oldest message `match` accepts, waiting up to `timeout` ms (TimeoutError).
   * A type guard as `match` (`isTuple(m, 2, 'ok')`) types the result.
   */
  receive<T extends Term>(opts: ReceiveOptions & { match: (msg: Term) => msg is T }): Promise<T>;
  receive(opts?: ReceiveOptions): Promise<Term>;
  receive(opts?: ReceiveOptions): Promise<Term> {
    if (!this.state.alive) return Promise.reject(new ProcessExitedError(String(this.pid), this.state.reason as Term));
    return this.mailbox.receive(opts);
  }

  /**
   * Links to `pid`. A local process that is not alive gives `{'EXIT', Pid, noproc}` when trapping
   * exits (NodeError BEAM_ERR_NODE_NOPROC otherwise). For a remote pid the promise settles when
   * the LINK is on its way; if the node is unreachable it rejects and `{'EXIT', Pid, noconnection}`
   * follows, as in Erlang.
   */
  link(pid: Pid): Promise<void> {
    return this.runtime.link(this, pid);
  }

  /** Removes the link (UNLINK_ID for a remote pid; exit signals racing with it are ignored). */
  unlink(pid: Pid): void {
    this.runtime.unlink(this, pid);
  }

  /**
   * Monitors a process: a pid, a registered name here (`'name'`/atom) or `{ name, node }` /
   * `[name, node]` elsewhere. When it ends this process gets `{'DOWN', Ref, process, Item, Reason}`
   * (Item = the pid, or `{Name, Node}`; Reason `noproc` if it did not exist, `noconnection` if the
   * connection went down).
   */
  monitor(target: MonitorTarget): Reference {
    return this.runtime.monitor(this, target);
  }

  /** Removes a monitor; `flush` also drops its DOWN message if already queued. False if it was not active. */
  demonitor(ref: Reference, opts: { flush?: boolean } = {}): boolean {
    return this.runtime.demonitor(this, ref, opts.flush ?? false);
  }

  /** Ends this process with `reason` (default `normal`). */
  exit(reason?: Term): void;
  /** Sends an exit signal to `pid`, or to the process behind an alias (Erlang's exit/2); `kill` cannot be trapped. */
  exit(pid: Pid | Reference, reason: Term): void;
  exit(...args: [Term?] | [Pid | Reference, Term]): void {
    if (args.length === 2) this.runtime.exitSignal(this, args[0], args[1]);
    else this.runtime.terminate(this, args[0] ?? this.runtime.normal);
  }

  /** Ends the process normally (same as `exit()`). */
  close(): void {
    this.runtime.terminate(this, this.runtime.normal);
  }

  /** Registers this process under `name` on our node. */
  register(name: Atom | string): void {
    this.runtime.register(name, this);
  }

  /**
   * A new alias (OTP 24+): messages sent to the returned reference reach this process until
   * `unalias`. With `ref`, that reference becomes the alias (gen_server calls use the monitor ref).
   * `priority` (EEP 76, as `alias([priority])`): priority messages sent to it are received before
   * ordinary ones.
   */
  alias(ref?: Reference, o: { priority?: boolean } = {}): Reference {
    return this.runtime.alias(this, ref, o.priority ?? false);
  }

  unalias(ref: Reference): boolean {
    return this.runtime.unalias(this, ref);
  }

  /**
   * The messages `match` accepts (default: every one), in mailbox order, as they come:
   * `for await (const m of proc.messages({ signal, match }))`. Others stay queued for `receive`.
   * The loop ends when the process exits; an aborted `signal` ends it by throwing the signal's
   * reason (as Node's `events.on` does). A type guard as `match` types the messages.
   */
  messages<T extends Term>(o: { signal?: AbortSignal; match: (msg: Term) => msg is T }): AsyncGenerator<T, void, undefined>;
  messages(o?: { signal?: AbortSignal; match?: (msg: Term) => boolean }): AsyncGenerator<Term, void, undefined>;
  async *messages(o: { signal?: AbortSignal; match?: (msg: Term) => boolean } = {}): AsyncGenerator<Term, void, undefined> {
    for (;;) {
      let msg: Term;
      try {
        msg = await this.receive({ signal: o.signal, match: o.match });
      } catch (e) {
        if (e instanceof ProcessExitedError) return;
        throw e;
      }
      yield msg;
    }
  }

  /** `for await (const msg of proc)`: every message until the process exits (then the loop ends). */
  [Symbol.asyncIterator](): AsyncIterator<Term> {
    return this.messages();
  }

  toString(): string {
    return `Process${String(this.pid)}`;
  }
}
