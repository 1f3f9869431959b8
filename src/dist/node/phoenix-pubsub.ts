/**
 * Phoenix.PubSub from the hidden node, speaking its default adapter's protocol (phoenix_pubsub
 * lib/phoenix/pubsub/pg2.ex, v2):
 *
 * - Every node runs the pg scope `'Elixir.Phoenix.PubSub'` and, per PubSub `Name`, one worker per
 *   pool group: `'Elixir.Name.Adapter'`, `'Elixir.Name.Adapter_2'` … `_N`, each registered locally
 *   under its group name and joined to that group.
 * - A broadcast picks ONE group (`phash2(self(), BroadcastPoolSize)`) and sends
 *   `{forward_to_local, Topic, Message, Dispatcher}` to each member of it on another node; the
 *   worker there hands Message to the node's subscribers of Topic through `Dispatcher:dispatch/3`.
 *
 * So a JS subscriber must have a worker in EVERY pool group: a publisher whose hash picks a group
 * we are not in never sends to our node. We join the `poolSize` groups, plus any further
 * `…Adapter_N` group that appears in the scope (a cluster with a bigger pool), as long as there is
 * a subscription; the last unsubscribe leaves them (so an idle node gets no broadcast traffic).
 * Publishing needs no membership. Our broadcasts go out from one process per sender, so they keep
 * their order on every receiving node, as Phoenix's do.
 */
import createDebug from 'debug';
import { isUtf8 } from 'node:buffer';
import { Atom, Pid, Tuple, atom, type Term } from '../../etf/types.js';
import { NodeError } from '../runtime/errors.js';
import { Process, type ReceiveOptions } from '../runtime/process.js';
import type { Runtime } from '../runtime/runtime.js';
import { formatTerm, isTuple, pidKey } from '../runtime/terms.js';
import type { PgScope } from './pg.js';

const log = createDebug('beamnode:dist:pubsub');

const A = {
  forwardToLocal: atom('forward_to_local'),
  scope: atom('Elixir.Phoenix.PubSub'),
  struct: atom('__struct__'),
};

/** What PubSub needs from the Node. */
export interface PubSubHost {
  readonly runtime: Runtime;
  pg(scope: Atom | string): PgScope;
}

/**
 * A JS dispatcher: delivers `message` for `topic` to the subscriptions (Phoenix's
 * `dispatch(entries, from, message)`). `from` is the broadcastFrom sender (skip it) or undefined.
 */
export type Dispatch = (subs: readonly Subscription[], from: Pid | undefined, message: Term) => void;

export interface PubSubOptions {
  /** The cluster's `pool_size` (default 1); bigger pools seen in the scope are joined too. */
  poolSize?: number;
  /** `broadcast_pool_size` (default poolSize): the groups our broadcasts pick from. */
  broadcastPoolSize?: number;
  /** The dispatcher module our broadcasts name (default `Phoenix.PubSub`). */
  dispatcher?: Atom | string;
  /** JS dispatchers by module name, for messages that name them (default: deliver to all but `from`). */
  dispatchers?: Record<string, Dispatch>;
}

export interface SubscribeOptions {
  /** Deliver to this process instead of a new one (it is not closed by unsubscribe). */
  process?: Process;
  /** Phoenix's subscribe metadata, handed to a JS dispatcher. */
  metadata?: Term;
  /** Binaries that are valid UTF-8 (Elixir strings) arrive as JS strings, at any depth. */
  strings?: boolean;
  /** Maps arrive as plain objects (atom and string keys by their text; `__struct__` as the module name). */
  objects?: boolean;
}

export interface BroadcastOptions {
  /** The dispatcher module named in the message (default: the PubSub's). */
  dispatcher?: Atom | string;
}

/** One subscription: receive its messages like a Process, or iterate them. */
export class Subscription implements AsyncIterable<Term> {
  /** @internal */
  constructor(
    readonly topic: string,
    readonly process: Process,
    readonly metadata: Term | undefined,
    private readonly convert: { strings: boolean; objects: boolean },
    private readonly owned: boolean,
    private readonly remove: (s: Subscription) => void,
  ) {}

  get active(): boolean {
    return this.process.alive;
  }

  /** The next message (selective, with timeout/signal, as Process.receive). */
  receive(o?: ReceiveOptions): Promise<Term> {
    return this.process.receive(o);
  }

  /** @internal Hands one message to the subscriber, converted as asked. */
  deliver(message: Term): void {
    const m = this.convert.strings || this.convert.objects ? toJs(message, this.convert, 0) : message;
    this.process.mailbox.push(m);
  }

  /** Stops the subscription (and ends its process if subscribe() made it). */
  unsubscribe(): void {
    this.remove(this);
    if (this.owned) this.process.close();
  }

  /** Same as `unsubscribe()` (also `using`). */
  close(): void {
    this.unsubscribe();
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Term> {
    yield* this.process;
  }
}

export class PhoenixPubSub {
  /** `'Elixir.MyApp.PubSub'`. */
  readonly name: Atom;
  /** `'Elixir.MyApp.PubSub.Adapter'`: the first pool group. */
  readonly adapter: Atom;
  private readonly host: PubSubHost;
  private readonly rt: Runtime;
  private readonly pg: PgScope;
  private readonly poolSize: number;
  private readonly broadcastPoolSize: number;
  private readonly dispatcher: Atom;
  private readonly dispatchers: Record<string, Dispatch>;
  private readonly topics = new Map<string, Subscription[]>();
  private readonly workers = new Map<Atom, Process>();
  private readonly senders = new Map<string, Process>();
  private scopeWatch: { stop(): void } | undefined;

  constructor(host: PubSubHost, name: Atom | string, o: PubSubOptions = {}) {
    this.host = host;
    this.rt = host.runtime;
    this.name = elixirModule(name);
    this.adapter = atom(`${this.name.name}.Adapter`);
    this.poolSize = o.poolSize ?? 1;
    this.broadcastPoolSize = o.broadcastPoolSize ?? this.poolSize;
    if (!(this.poolSize >= 1 && this.broadcastPoolSize >= 1 && this.broadcastPoolSize <= this.poolSize)) {
      throw new NodeError('BEAM_ERR_NODE_BAD_DEST', `pubsub ${this.name.name}: poolSize must be ≥ broadcastPoolSize ≥ 1`);
    }
    this.dispatcher = o.dispatcher === undefined ? A.scope : elixirModule(o.dispatcher);
    this.dispatchers = o.dispatchers ?? {};
    this.pg = host.pg(A.scope);
  }

  /** The pool group atoms: `Adapter`, `Adapter_2` … `Adapter_N` (pg2.ex groups/2). */
  groups(n = this.poolSize): Atom[] {
    return Array.from({ length: n }, (_, i) => (i === 0 ? this.adapter : atom(`${this.adapter.name}_${i + 1}`)));
  }

  /** Phoenix.PubSub.subscribe/3: messages broadcast to `topic` anywhere in the cluster reach the subscription. */
  async subscribe(topic: string, o: SubscribeOptions = {}): Promise<Subscription> {
    const proc = o.process ?? this.rt.spawn();
    const sub = new Subscription(topic, proc, o.metadata, { strings: o.strings ?? false, objects: o.objects ?? false }, !o.process, (s) => this.remove(s));
    const list = this.topics.get(topic) ?? [];
    list.push(sub);
    this.topics.set(topic, list);
    void proc.exited.then(() => this.remove(sub));
    await this.ensureWorkers();
    return sub;
  }

  /** Phoenix.PubSub.broadcast/4: every subscriber of `topic`, on every BEAM node and here. */
  async broadcast(topic: string, message: Term, o: BroadcastOptions = {}): Promise<void> {
    await this.forward(undefined, topic, message, o);
    this.dispatch(undefined, topic, message, o.dispatcher);
  }

  /** Phoenix.PubSub.broadcast_from/5: as broadcast, but not to `from` here (other nodes get it, as in Phoenix). */
  async broadcastFrom(from: Pid | Process, topic: string, message: Term, o: BroadcastOptions = {}): Promise<void> {
    const pid = from instanceof Process ? from.pid : from;
    await this.forward(pid, topic, message, o);
    this.dispatch(pid, topic, message, o.dispatcher);
  }

  /** Phoenix.PubSub.local_broadcast/4: only the subscribers on this node. */
  localBroadcast(topic: string, message: Term, o: BroadcastOptions = {}): void {
    this.dispatch(undefined, topic, message, o.dispatcher);
  }

  /** Phoenix.PubSub.direct_broadcast/5: the subscribers on one BEAM node. */
  async directBroadcast(node: string | Atom, topic: string, message: Term, o: BroadcastOptions = {}): Promise<void> {
    const n = node instanceof Atom ? node : atom(node);
    const group = this.groups(this.broadcastPoolSize)[0];
    await this.sender(undefined).send(new Tuple([group, n]), this.forwardMessage(topic, message, o));
  }

  /** The workers of the first pool group on other nodes: the BEAM nodes our broadcasts reach. */
  remoteWorkers(): Pid[] {
    return this.pg.getMembers(this.adapter).filter((p) => !this.rt.isLocal(p));
  }

  /** The subscriptions of `topic` here. */
  subscribers(topic: string): readonly Subscription[] {
    return this.topics.get(topic) ?? [];
  }

  /** Ends every subscription and leaves the pool groups. */
  close(): void {
    for (const list of [...this.topics.values()]) for (const s of [...list]) s.unsubscribe();
    this.stopWorkers();
    for (const p of this.senders.values()) p.close();
    this.senders.clear();
  }

  // ---- internals -----------------------------------------------------------------------------

  private forwardMessage(topic: string, message: Term, o: BroadcastOptions): Term {
    const dispatcher = o.dispatcher === undefined ? this.dispatcher : elixirModule(o.dispatcher);
    return new Tuple([A.forwardToLocal, Buffer.from(topic, 'utf8'), message, dispatcher]);
  }

  /** pg2.ex broadcast/4: one group, every member of it on another node. */
  private async forward(from: Pid | undefined, topic: string, message: Term, o: BroadcastOptions): Promise<void> {
    const sender = this.sender(from);
    const groups = this.groups(this.broadcastPoolSize);
    const group = groups[hashKey(String(sender.pid)) % groups.length];
    const msg = this.forwardMessage(topic, message, o);
    const sends = this.pg.getMembers(group).filter((p) => !this.rt.isLocal(p)).map((p) => sender.send(p, msg).catch((e: Error) => log('forward to %s: %s', String(p), e.message)));
    await Promise.all(sends);
  }

  /** One sending process per broadcastFrom sender (and one for plain broadcasts): per-sender order, as Phoenix keeps it. */
  private sender(from: Pid | undefined): Process {
    const local = from && this.rt.lookup(from); // a remote `from` shares the default sender: no entry per foreign pid
    const key = local ? pidKey(local.pid) : '';
    let p = this.senders.get(key);
    if (!p?.alive) {
      p = this.rt.spawn();
      this.senders.set(key, p);
      if (local) {
        void local.exited.then(() => {
          this.senders.get(key)?.close();
          this.senders.delete(key);
        });
      }
    }
    return p;
  }

  /** Local delivery: Phoenix.PubSub.dispatch/3 semantics, or the JS dispatcher named by the message. */
  private dispatch(from: Pid | undefined, topic: string, message: Term, dispatcher: Atom | string | undefined): void {
    const subs = this.topics.get(topic);
    if (!subs?.length) return;
    const d = dispatcher === undefined ? this.dispatcher : elixirModule(dispatcher);
    const custom = this.dispatchers[d.name];
    if (custom) {
      try {
        custom([...subs], from, message);
      } catch (e) {
        log('dispatcher %s threw: %s', d.name, (e as Error).message);
      }
      return;
    }
    for (const s of [...subs]) if (!from || !s.process.pid.equals(from)) s.deliver(message);
  }

  private remove(sub: Subscription): void {
    const list = this.topics.get(sub.topic);
    const i = list?.indexOf(sub) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.topics.delete(sub.topic);
    if (this.topics.size === 0) this.stopWorkers();
  }

  /** A worker per pool group (PG2Worker): registered under the group name, a member of the group. */
  private async ensureWorkers(): Promise<void> {
    if (this.topics.size === 0) return;
    for (const g of this.groups()) await this.startWorker(g);
    if (!this.scopeWatch) {
      // Groups of a bigger pool (…Adapter_N) seen in the scope: join them too.
      const w = this.pg.monitorScope();
      this.scopeWatch = w;
      for (const [g] of w.groups) void this.maybeJoin(g);
      void (async () => {
        try {
          for await (const ch of w) if (ch.kind === 'join') await this.maybeJoin(ch.group);
        } catch (e) {
          log('scope watch ended: %s', (e as Error).message);
        }
      })();
    }
  }

  private async maybeJoin(group: Term): Promise<void> {
    if (this.topics.size === 0 || !(group instanceof Atom) || this.workers.has(group)) return;
    if (group === this.adapter || new RegExp(`^${escapeRe(this.adapter.name)}_\\d+$`).test(group.name)) await this.startWorker(group);
  }

  private async startWorker(group: Atom): Promise<void> {
    if (this.workers.get(group)?.alive) return;
    const w = this.rt.spawn();
    try {
      w.register(group);
    } catch (e) {
      w.close();
      throw e;
    }
    this.workers.set(group, w);
    void this.runWorker(w);
    await this.pg.join(group, w);
    log('%s: worker for %s', this.name.name, group.name);
  }

  /** PG2Worker.handle_info/2: `{forward_to_local, Topic, Message, Dispatcher}` → local dispatch; anything else is dropped. */
  private async runWorker(w: Process): Promise<void> {
    for await (const m of w) {
      if (!isTuple(m, 4, 'forward_to_local')) {
        log('worker %s: %s dropped', String(w.pid), formatTerm(m));
        continue;
      }
      const [, topic, message, dispatcher] = m.elements;
      const t = topic instanceof Uint8Array ? Buffer.from(topic.buffer, topic.byteOffset, topic.byteLength).toString('utf8') : typeof topic === 'string' ? topic : undefined;
      if (t === undefined || !(dispatcher instanceof Atom)) continue;
      this.dispatch(undefined, t, message, dispatcher);
    }
  }

  private stopWorkers(): void {
    this.scopeWatch?.stop();
    this.scopeWatch = undefined;
    // Ending a worker makes our pg scope send `leave` for it (its DOWN), as a PG2Worker's exit does.
    for (const w of this.workers.values()) w.close();
    this.workers.clear();
  }
}

/** `MyApp.PubSub` → `'Elixir.MyApp.PubSub'` (Module.concat); an atom or `Elixir.`-name is kept. */
export function elixirModule(name: Atom | string): Atom {
  if (name instanceof Atom) return name;
  return atom(name.startsWith('Elixir.') ? name : `Elixir.${name}`);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A stable small hash (FNV-1a) of a sender: picks its broadcast group, as phash2(self()) does in Phoenix. */
function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The conversions a subscriber asked for (strings, objects); bounded depth like the decoder's. */
function toJs(t: Term, c: { strings: boolean; objects: boolean }, depth: number): Term {
  if (depth > 1000) return t;
  if (t instanceof Uint8Array) return c.strings && isUtf8(t) ? Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('utf8') : t;
  if (Array.isArray(t)) return t.map((x) => toJs(x, c, depth + 1));
  if (t instanceof Tuple) return new Tuple(t.elements.map((x) => toJs(x, c, depth + 1)));
  if (t instanceof Map) {
    if (!c.objects) return new Map([...t].map(([k, v]) => [toJs(k, c, depth + 1), toJs(v, c, depth + 1)]));
    const o: { [k: string]: Term } = {};
    for (const [k, v] of t) {
      const key = k instanceof Atom ? k.name : k instanceof Uint8Array ? Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('utf8') : typeof k === 'string' || typeof k === 'number' ? String(k) : formatTerm(k);
      o[key] = k === A.struct && v instanceof Atom ? v.name : toJs(v, c, depth + 1);
    }
    return o;
  }
  return t;
}
