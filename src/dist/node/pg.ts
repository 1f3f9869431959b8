/**
 * Membership of a `pg` scope (OTP lib/kernel/src/pg.erl) from our hidden node.
 *
 * A pg scope is one process per node, registered under the scope name. Scopes find each other
 * with `{discover, ScopePid}`, answer it with `{'$gen_cast', {sync, ScopePid, [{Group, [Pid]}]}}`
 * (their *local* members only), monitor each other's scope pid and then broadcast
 * `{join, ScopePid, Group, PidOrPids}` and `{leave, ScopePid, PidOrPids, [Group]}`.
 * OTP sends `discover` only to the nodes in `nodes()` (visible ones), so it never finds a hidden
 * node; it checks nothing on receipt, so a hidden node is a full member if it starts the
 * conversation: we send `discover` to `{Scope, Node}` on every nodeup and again after a remote
 * scope's DOWN (a restarted scope does not know us).
 *
 * The hazard: pg's handle_cast/handle_info raise `badarg` on any message they do not expect, and
 * `leave_remote` raises `badkey` for a group it has no members of ours in. One bad message kills
 * the peer's scope and every local membership on that node with it. So we send exactly the shapes
 * above, never an empty pid list, and a leave only for pids we have announced in that group.
 */
import createDebug from 'debug';
import { encode } from '../../etf/encode.js';
import { decode } from '../../etf/decode.js';
import { Atom, Pid, Reference, Tuple, atom, type Term } from '../../etf/types.js';
import { NodeError } from '../runtime/errors.js';
import { Process } from '../runtime/process.js';
import type { Runtime } from '../runtime/runtime.js';
import { formatTerm, isTuple, pidKey } from '../runtime/terms.js';
import { ChangeQueue } from './change-queue.js';

const log = createDebug('beamnode:dist:pg');

const A = {
  discover: atom('discover'),
  sync: atom('sync'),
  join: atom('join'),
  leave: atom('leave'),
  genCast: atom('$gen_cast'),
  DOWN: atom('DOWN'),
  noconnection: atom('noconnection'),
};

/** What pg needs from the Node: its runtime and its connections. */
export interface PgHost {
  readonly runtime: Runtime;
  nodes(): string[];
  on(event: 'nodeup', fn: (name: string) => void): unknown;
  off(event: 'nodeup', fn: (name: string) => void): unknown;
}

export interface PgOptions {
  /**
   * After a remote scope goes DOWN while its node stays connected (a restart), send `discover`
   * again with a growing delay (50 ms doubling to 2 s) for this long, until the new scope answers.
   * Default 30000 ms.
   */
  rediscoverWindow?: number;
  /** Changes buffered per monitor before it ends with a QueueOverflowError, BEAM_ERR_QUEUE_OVERFLOW (default 10000). */
  monitorBuffer?: number;
}

/** One membership change, as OTP's pg monitors report it: `{Ref, join | leave, Group, Pids}`. */
export interface PgChange {
  kind: 'join' | 'leave';
  group: Term;
  pids: Pid[];
}

/** `pg.monitor(group)`: the members now, then every change (async iteration) until `stop()`. */
export interface PgGroupMonitor extends AsyncIterable<PgChange> {
  readonly members: Pid[];
  /** The next change (waits; `timeout` ms, `signal`). */
  next(o?: { timeout?: number; signal?: AbortSignal }): Promise<PgChange>;
  /** Ends the monitor (also `stop()`, and `using`). */
  close(): void;
  stop(): void;
  [Symbol.dispose](): void;
}

/** `pg.monitorScope()`: every group with its members now, then every change. */
export interface PgScopeMonitor extends AsyncIterable<PgChange> {
  readonly groups: [group: Term, members: Pid[]][];
  next(o?: { timeout?: number; signal?: AbortSignal }): Promise<PgChange>;
  /** Ends the monitor (also `stop()`, and `using`). */
  close(): void;
  stop(): void;
  [Symbol.dispose](): void;
}

/** A group term and the key that identifies it (its external format: exact equality, as pg's maps). */
interface GroupSlot {
  group: Term;
  pids: Pid[];
}

interface RemoteScope {
  pid: Pid;
  mref: Reference;
  groups: Map<string, GroupSlot>;
}

interface Watcher {
  key: string | undefined; // undefined: the whole scope
  queue: ChangeQueue<PgChange>;
}

const groupKey = (g: Term): string => encode(g).toString('latin1');

export class PgScope {
  readonly scope: Atom;
  /** Our scope process: registered under the scope name, the pid every peer scope knows us by. */
  readonly process: Process;
  private readonly host: PgHost;
  private readonly rt: Runtime;
  /** Local members: pid key → the pid, the monitor on it, its groups (a pid may join a group twice, as in OTP). */
  private readonly local = new Map<string, { pid: Pid; mref: Reference; groups: string[] }>();
  private readonly localGroups = new Map<string, GroupSlot>();
  private readonly remote = new Map<string, RemoteScope>();
  private readonly watchers = new Set<Watcher>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly rediscoverWindow: number;
  private readonly monitorBuffer: number;
  private readonly onNodeUp = (name: string) => this.discover(name);

  constructor(host: PgHost, scope: Atom | string, o: PgOptions = {}) {
    this.host = host;
    this.rt = host.runtime;
    this.scope = scope instanceof Atom ? scope : atom(scope);
    this.rediscoverWindow = o.rediscoverWindow ?? 30_000;
    this.monitorBuffer = o.monitorBuffer ?? 10_000;
    this.process = this.rt.spawn({ trapExit: true });
    try {
      this.rt.register(this.scope, this.process);
    } catch (e) {
      this.process.close();
      throw e;
    }
    host.on('nodeup', this.onNodeUp);
    void this.process.exited.then(() => this.closed());
    void this.loop();
    for (const n of host.nodes()) this.discover(n);
  }

  get pid(): Pid {
    return this.process.pid;
  }

  // ---- the API (pg:join/3, pg:leave/3, get_members/2, …) ----------------------------------

  /** pg:join/3: `pids` (processes of this node) join `group`; every known peer scope is told. */
  async join(group: Term, pidOrPids: Pid | Process | readonly (Pid | Process)[]): Promise<void> {
    const { pids, wire } = this.localPids(pidOrPids);
    if (pids.length === 0) return; // pg would store an empty group on every peer: nothing to say
    const key = groupKey(group);
    const slot = this.localGroups.get(key) ?? { group: decode(encode(group)), pids: [] };
    this.localGroups.set(key, slot);
    for (const pid of pids) {
      const k = pidKey(pid);
      let m = this.local.get(k);
      if (!m) {
        m = { pid, mref: this.process.monitor(pid), groups: [] };
        this.local.set(k, m);
      }
      m.groups.push(key);
      slot.pids.push(pid);
    }
    this.notify(key, { kind: 'join', group: slot.group, pids });
    this.broadcast(new Tuple([A.join, this.pid, slot.group, wire]));
  }

  /** pg:leave/3: false when none of `pids` was in `group` (pg's `not_joined`). */
  async leave(group: Term, pidOrPids: Pid | Process | readonly (Pid | Process)[]): Promise<boolean> {
    const { pids } = this.localPids(pidOrPids);
    const key = groupKey(group);
    const slot = this.localGroups.get(key);
    if (!slot) return false;
    const left: Pid[] = [];
    for (const pid of pids) {
      const k = pidKey(pid);
      const m = this.local.get(k);
      const i = m ? m.groups.indexOf(key) : -1;
      if (!m || i < 0) continue;
      m.groups.splice(i, 1);
      removeOne(slot.pids, pid);
      left.push(pid);
      if (m.groups.length === 0) {
        this.process.demonitor(m.mref, { flush: true });
        this.local.delete(k);
      }
    }
    if (left.length === 0) return false;
    if (slot.pids.length === 0) this.localGroups.delete(key);
    this.notify(key, { kind: 'leave', group: slot.group, pids: left });
    // Only pids the peers were told about, so their leave_remote always finds the group.
    this.broadcast(new Tuple([A.leave, this.pid, left.length === 1 ? left[0] : left, [slot.group]]));
    return true;
  }

  /** pg:get_members/2: every member, on every node that runs the scope. */
  getMembers(group: Term): Pid[] {
    const key = groupKey(group);
    const out = [...(this.localGroups.get(key)?.pids ?? [])];
    for (const r of this.remote.values()) out.push(...(r.groups.get(key)?.pids ?? []));
    return out;
  }

  /** pg:get_local_members/2: the members on our node. */
  getLocalMembers(group: Term): Pid[] {
    return [...(this.localGroups.get(groupKey(group))?.pids ?? [])];
  }

  /** pg:which_groups/1: every group with a member anywhere. */
  whichGroups(): Term[] {
    return [...this.allGroups().values()].map((s) => s.group);
  }

  /** pg:which_groups/1 restricted to groups with members on our node. */
  whichLocalGroups(): Term[] {
    return [...this.localGroups.values()].map((s) => s.group);
  }

  /** The peer scope processes we are in contact with. */
  peers(): Pid[] {
    return [...this.remote.values()].map((r) => r.pid);
  }

  /** pg:monitor/2: the members now and every join/leave of `group` after that. */
  monitor(group: Term, o: { signal?: AbortSignal } = {}): PgGroupMonitor {
    const key = groupKey(group);
    const w = this.watch(key, o.signal);
    const close = () => this.unwatch(w);
    return { members: this.getMembers(group), next: (n) => w.queue.next(n), close, stop: close, [Symbol.dispose]: close, [Symbol.asyncIterator]: () => w.queue.iterate() };
  }

  /** pg:monitor_scope/1: every group now and every join/leave in the scope after that. */
  monitorScope(o: { signal?: AbortSignal } = {}): PgScopeMonitor {
    const w = this.watch(undefined, o.signal);
    const groups = [...this.allGroups().values()].map((s): [Term, Pid[]] => [s.group, s.pids]);
    const close = () => this.unwatch(w);
    return { groups, next: (n) => w.queue.next(n), close, stop: close, [Symbol.dispose]: close, [Symbol.asyncIterator]: () => w.queue.iterate() };
  }

  /**
   * Sends `discover` to the scope on `node` (or every connected node). Done on every nodeup; call
   * it when a peer starts the scope after connecting (OTP would only tell visible nodes).
   */
  discover(node?: string): void {
    const nodes = node === undefined ? this.host.nodes() : [node];
    for (const n of nodes) {
      if (!this.process.alive) return;
      log('%s: discover %s', this.scope.name, n);
      void this.process.send(new Tuple([this.scope, atom(n)]), new Tuple([A.discover, this.pid])).catch(() => {});
    }
  }

  /** Ends the scope process: peers drop our members when their monitor fires. */
  close(): void {
    this.process.close();
  }

  // ---- the scope process ---------------------------------------------------------------------

  private async loop(): Promise<void> {
    for await (const msg of this.process) {
      try {
        this.handle(msg);
      } catch (e) {
        log('%s: %s not handled: %s', this.scope.name, formatTerm(msg), (e as Error).message);
      }
    }
  }

  private handle(msg: Term): void {
    if (!(msg instanceof Tuple)) return this.ignore(msg);
    const e = msg.elements;
    if (e[0] === A.discover && (e.length === 2 || e.length === 3) && e[1] instanceof Pid) return this.onDiscover(e[1]);
    if (isTuple(msg, 2, '$gen_cast') && isTuple(e[1], 3, 'sync')) {
      const [, peer, groups] = e[1].elements;
      if (peer instanceof Pid && Array.isArray(groups)) return this.onSync(peer, groups);
    }
    if (isTuple(msg, 4, 'join') && e[1] instanceof Pid) return this.onJoin(e[1], e[2], e[3]);
    if (isTuple(msg, 4, 'leave') && e[1] instanceof Pid && Array.isArray(e[3])) return this.onLeave(e[1], e[2], e[3]);
    if (isTuple(msg, 5, 'DOWN') && e[1] instanceof Reference && e[3] instanceof Pid) return this.onDown(e[1], e[3], e[4]);
    this.ignore(msg);
  }

  private ignore(msg: Term): void {
    log('%s: unexpected %s ignored', this.scope.name, formatTerm(msg));
  }

  /** `{discover, Peer}`: answer with our local members; first contact: monitor it and discover back, as pg does. */
  private onDiscover(peer: Pid): void {
    if (this.rt.isLocal(peer)) return;
    void this.process.send(peer, new Tuple([A.genCast, new Tuple([A.sync, this.pid, this.localSync()])])).catch(() => {});
    if (this.remote.has(pidKey(peer))) return;
    this.addRemote(peer);
    void this.process.send(peer, new Tuple([A.discover, this.pid])).catch(() => {});
  }

  /** `{sync, Peer, Groups}`: everything we knew of that scope is replaced. */
  private onSync(peer: Pid, groups: Term[]): void {
    if (this.rt.isLocal(peer)) return;
    const r = this.remote.get(pidKey(peer)) ?? this.addRemote(peer);
    const fresh = new Map<string, GroupSlot>();
    for (const g of groups) {
      if (!isTuple(g, 2) || !Array.isArray(g.elements[1])) continue;
      const pids = g.elements[1].filter((p): p is Pid => p instanceof Pid);
      const key = groupKey(g.elements[0]);
      const slot = fresh.get(key) ?? { group: g.elements[0], pids: [] };
      slot.pids.push(...pids);
      fresh.set(key, slot);
    }
    const old = r.groups;
    r.groups = fresh;
    for (const [key, slot] of old) {
      const now = fresh.get(key)?.pids ?? [];
      const gone = minus(slot.pids, now);
      if (gone.length) this.notify(key, { kind: 'leave', group: slot.group, pids: gone });
    }
    for (const [key, slot] of fresh) {
      const added = minus(slot.pids, old.get(key)?.pids ?? []);
      if (added.length) this.notify(key, { kind: 'join', group: slot.group, pids: added });
    }
  }

  private onJoin(peer: Pid, group: Term, pidOrPids: Term): void {
    const r = this.remote.get(pidKey(peer));
    if (!r) return; // pg ignores a join from a scope it has not been through discover with
    const pids = asPids(pidOrPids);
    if (!pids) return;
    const key = groupKey(group);
    const slot = r.groups.get(key) ?? { group, pids: [] };
    r.groups.set(key, slot);
    slot.pids.unshift(...pids);
    if (pids.length) this.notify(key, { kind: 'join', group: slot.group, pids });
  }

  private onLeave(peer: Pid, pidOrPids: Term, groups: Term[]): void {
    const r = this.remote.get(pidKey(peer));
    if (!r) return;
    const pids = asPids(pidOrPids);
    if (!pids) return;
    for (const g of groups) {
      const key = groupKey(g);
      const slot = r.groups.get(key);
      if (!slot) continue;
      const gone = pids.filter((p) => removeOne(slot.pids, p));
      if (slot.pids.length === 0) r.groups.delete(key);
      if (gone.length) this.notify(key, { kind: 'leave', group: slot.group, pids: gone });
    }
  }

  private onDown(ref: Reference, pid: Pid, reason: Term): void {
    if (this.rt.isLocal(pid)) {
      // A member of ours exited: it leaves all its groups, as pg does for its local pids.
      const k = pidKey(pid);
      const m = this.local.get(k);
      if (!m || !m.mref.equals(ref)) return;
      this.local.delete(k);
      const groups: Term[] = [];
      for (const key of m.groups) {
        const slot = this.localGroups.get(key);
        if (!slot) continue;
        removeOne(slot.pids, pid);
        if (slot.pids.length === 0) this.localGroups.delete(key);
        groups.push(slot.group);
        this.notify(key, { kind: 'leave', group: slot.group, pids: [pid] });
      }
      if (groups.length) this.broadcast(new Tuple([A.leave, this.pid, pid, groups]));
      return;
    }
    const k = pidKey(pid);
    const r = this.remote.get(k);
    if (!r || !r.mref.equals(ref)) return;
    this.remote.delete(k);
    for (const [key, slot] of r.groups) this.notify(key, { kind: 'leave', group: slot.group, pids: slot.pids });
    log('%s: peer scope %s down (%s)', this.scope.name, String(pid), formatTerm(reason));
    // A restarted scope never discovers a hidden node: go and find it again while the node is up.
    if (reason !== A.noconnection) this.rediscover(pid.node.name);
  }

  private rediscover(node: string): void {
    const started = Date.now();
    let delay = 50;
    const tick = () => {
      this.retries.delete(node);
      if (!this.process.alive || !this.host.nodes().includes(node)) return;
      if ([...this.remote.values()].some((r) => r.pid.node.name === node)) return;
      this.discover(node);
      if (Date.now() - started + delay > this.rediscoverWindow) return;
      this.retries.set(node, setTimeout(tick, delay));
      delay = Math.min(delay * 2, 2000);
    };
    clearTimeout(this.retries.get(node));
    tick();
  }

  private addRemote(peer: Pid): RemoteScope {
    const r: RemoteScope = { pid: peer, mref: this.process.monitor(peer), groups: new Map() };
    this.remote.set(pidKey(peer), r);
    log('%s: peer scope %s', this.scope.name, String(peer));
    return r;
  }

  private closed(): void {
    this.host.off('nodeup', this.onNodeUp);
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    for (const w of [...this.watchers]) this.unwatch(w);
    this.local.clear();
    this.localGroups.clear();
    this.remote.clear();
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** `[{Group, [Pid]}]` of our local members (pg's all_local_pids). */
  private localSync(): Term[] {
    return [...this.localGroups.values()].filter((s) => s.pids.length > 0).map((s) => new Tuple([s.group, [...s.pids]]));
  }

  private broadcast(msg: Term): void {
    for (const r of this.remote.values()) void this.process.send(r.pid, msg).catch(() => {});
  }

  private localPids(pidOrPids: Pid | Process | readonly (Pid | Process)[]): { pids: Pid[]; wire: Pid | Pid[] } {
    const list = Array.isArray(pidOrPids) ? (pidOrPids as readonly (Pid | Process)[]) : [pidOrPids as Pid | Process];
    const pids = list.map((p) => (p instanceof Process ? p.pid : p));
    for (const p of pids) {
      if (!(p instanceof Pid) || !this.rt.isLocal(p)) {
        throw new NodeError('BEAM_ERR_NODE_BAD_DEST', `pg ${this.scope.name}: ${formatTerm(p as Term)} is not a process of this node (pg's nolocal)`);
      }
    }
    return { pids, wire: Array.isArray(pidOrPids) ? pids : pids[0] };
  }

  private allGroups(): Map<string, GroupSlot> {
    const all = new Map<string, GroupSlot>();
    const add = (key: string, s: GroupSlot) => {
      const a = all.get(key) ?? { group: s.group, pids: [] };
      a.pids.push(...s.pids);
      all.set(key, a);
    };
    for (const [k, s] of this.localGroups) add(k, s);
    for (const r of this.remote.values()) for (const [k, s] of r.groups) add(k, s);
    for (const [k, s] of all) if (s.pids.length === 0) all.delete(k);
    return all;
  }

  private watch(key: string | undefined, signal: AbortSignal | undefined): Watcher {
    if (!this.process.alive) throw new NodeError('BEAM_ERR_NODE_STOPPED', `pg scope ${this.scope.name} is closed`);
    const w: Watcher = { key, queue: new ChangeQueue<PgChange>(this.monitorBuffer, `pg ${this.scope.name} monitor`, signal) };
    w.queue.onEnd(() => this.watchers.delete(w));
    this.watchers.add(w);
    return w;
  }

  private unwatch(w: Watcher): void {
    this.watchers.delete(w);
    w.queue.end();
  }

  private notify(key: string, change: PgChange): void {
    for (const w of this.watchers) if (w.key === undefined || w.key === key) w.queue.push({ ...change, pids: [...change.pids] });
  }
}

function asPids(t: Term): Pid[] | undefined {
  if (t instanceof Pid) return [t];
  if (Array.isArray(t) && t.every((p) => p instanceof Pid)) return t as Pid[];
  return undefined;
}

/** Removes the first pid equal to `p`; true if one was there (lists:delete/2). */
function removeOne(list: Pid[], p: Pid): boolean {
  const i = list.findIndex((x) => x.equals(p));
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** `a -- b` on pid lists. */
function minus(a: Pid[], b: Pid[]): Pid[] {
  const rest = [...b];
  return a.filter((p) => !removeOne(rest, p));
}
