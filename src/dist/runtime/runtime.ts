/**
 * The local process table of a Node: pids, registered names, aliases, links and monitors, and the
 * exit-signal rules. No sockets here: signals for other nodes go to an Outbox, signals from other
 * nodes come in through the `remote*` / `deliver*` methods (the Node calls them per control
 * message). Semantics follow OTP's (erl_dist_protocol.md; the reference manual's Processes
 * chapter): UNLINK_ID with acks, monitors by pid or name, `noproc` for a monitor/link on a
 * process that is not there, `noconnection` when a node goes down.
 */
import createDebug from 'debug';
import { Atom, Pid, Reference, Tuple, atom, type Term } from '../../etf/types.js';
import { NodeError, ProcessExitedError } from './errors.js';
import { Process, type HeldMonitor, type LinkEntry, type SpawnOptions, type WatchedBy } from './process.js';

export type { SpawnOptions };
import type { OutSignal, Outbox } from './signals.js';
import { formatTerm, pidKey } from './terms.js';

const log = createDebug('beamnode:dist:runtime');

/** Where a message goes: a pid, a registered name here, or a name on a node. */
export type Dest =
  | Pid
  | Atom
  | string
  | { name: Atom | string; node: Atom | string }
  | readonly [Atom | string, Atom | string]
  | Tuple;

/** What can be monitored: the same as a message destination (not an alias). */
export type MonitorTarget = Dest;

/** A destination after resolution. */
export type Resolved = { kind: 'pid'; pid: Pid } | { kind: 'name'; name: Atom; node: Atom };

export interface RuntimeOptions {
  node: Atom;
  creation: number;
  outbox: Outbox;
  /** Default mailbox bound per process (default 100 000 messages). */
  mailboxLimit?: number;
}

const A = {
  normal: atom('normal'),
  kill: atom('kill'),
  killed: atom('killed'),
  noproc: atom('noproc'),
  noconnection: atom('noconnection'),
  EXIT: atom('EXIT'),
  DOWN: atom('DOWN'),
  process: atom('process'),
  mailboxOverflow: atom('mailbox_overflow'),
  spawnReply: atom('spawn_reply'),
  ok: atom('ok'),
  error: atom('error'),
};

const asAtom = (x: Atom | string): Atom => (x instanceof Atom ? x : atom(x));

export class Runtime {
  readonly node: Atom;
  readonly creation: number;
  readonly normal = A.normal;
  private readonly outbox: Outbox;
  private readonly mailboxLimit: number;
  private readonly procs = new Map<string, Process>();
  private readonly names = new Map<Atom, Process>();
  private readonly aliases = new Map<string, Process>();
  /** The aliases made with `priority` (EEP 76): priority messages to them are received first. */
  private readonly priorityAliases = new Set<string>();
  /** Monitors held by processes of other nodes on ours, by ref key (DEMONITOR_P finds them here). */
  private readonly remoteWatched = new Map<string, Process>();
  /** Our SPAWN_REQUESTs waiting for their SPAWN_REPLY, by ReqId key. */
  private readonly spawning = new Map<string, { p: Process; node: Atom; reqId: Reference; errorOnly: boolean }>();
  private nextId = 1;
  private nextSerial = 0;
  private refCounter = 0;
  private readonly refSalt = (Math.random() * 0x100000000) >>> 0;
  private nextUnlinkId = 1n;
  private stopped = false;

  constructor(o: RuntimeOptions) {
    this.node = o.node;
    this.creation = o.creation;
    this.outbox = o.outbox;
    this.mailboxLimit = o.mailboxLimit ?? 100_000;
  }

  // ---- processes, names, refs, aliases ----------------------------------------------------

  spawn(o: SpawnOptions = {}): Process {
    if (this.stopped) throw new NodeError('BEAM_ERR_NODE_STOPPED', `node ${this.node.name} is stopped`);
    const pid = this.newPid();
    const p = new Process(pid, this, {
      trapExit: o.trapExit ?? true,
      mailboxLimit: o.mailboxLimit ?? this.mailboxLimit,
      discard: o.discard ?? false,
      json: o.json,
    });
    this.procs.set(localKey(pid), p);
    return p;
  }

  private newPid(): Pid {
    // 15-bit id and 13-bit serial, as pids were before V4_NC: valid for any peer. Skip live ones.
    for (let tries = 0; tries < 1 << 28; tries++) {
      const id = this.nextId++;
      if (this.nextId >= 1 << 15) {
        this.nextId = 1;
        this.nextSerial = (this.nextSerial + 1) & 0x1fff;
      }
      const pid = new Pid(this.node, id, this.nextSerial, this.creation);
      if (!this.procs.has(localKey(pid))) return pid;
    }
    throw new NodeError('BEAM_ERR_NODE_STOPPED', 'no free pid');
  }

  /** The live local process with this pid (a pid of an older incarnation of our node is dead). */
  lookup(pid: Pid): Process | undefined {
    if (pid.node !== this.node || pid.creation !== this.creation) return undefined;
    return this.procs.get(localKey(pid));
  }

  isLocal(pid: Pid): boolean {
    return pid.node === this.node;
  }

  /** All live processes (a snapshot). */
  processes(): Process[] {
    return [...this.procs.values()];
  }

  register(name: Atom | string, p: Process): void {
    const n = asAtom(name);
    if (!p.alive) throw new NodeError('BEAM_ERR_NODE_NOPROC', `cannot register ${n.name}: ${String(p.pid)} is not alive`);
    const holder = this.names.get(n);
    if (holder && holder !== p) throw new NodeError('BEAM_ERR_NODE_NAME_TAKEN', `name ${n.name} is already registered to ${String(holder.pid)}`);
    if (p.state.name && p.state.name !== n) {
      throw new NodeError('BEAM_ERR_NODE_NAME_TAKEN', `${String(p.pid)} is already registered as ${p.state.name.name}`);
    }
    this.names.set(n, p);
    p.state.name = n;
  }

  unregister(name: Atom | string): boolean {
    const n = asAtom(name);
    const p = this.names.get(n);
    if (!p) return false;
    this.names.delete(n);
    p.state.name = undefined;
    return true;
  }

  whereis(name: Atom | string): Process | undefined {
    return this.names.get(asAtom(name));
  }

  registered(): Atom[] {
    return [...this.names.keys()];
  }

  makeRef(): Reference {
    const c = this.refCounter++;
    return new Reference(this.node, this.creation, [c & 0x3ffff, Math.floor(c / 0x40000) >>> 0, this.refSalt]);
  }

  alias(p: Process, ref?: Reference, priority = false): Reference {
    const r = ref ?? this.makeRef();
    if (p.alive) {
      this.aliases.set(r.key, p);
      p.state.aliases.add(r.key);
      if (priority) this.priorityAliases.add(r.key);
    }
    return r;
  }

  unalias(p: Process, ref: Reference): boolean {
    if (!p.state.aliases.delete(ref.key)) return false;
    this.aliases.delete(ref.key);
    this.priorityAliases.delete(ref.key);
    return true;
  }

  /** Turns a destination into a pid or a (name, node) pair. */
  resolve(dest: Dest): Resolved {
    if (dest instanceof Pid) return { kind: 'pid', pid: dest };
    if (dest instanceof Atom || typeof dest === 'string') return { kind: 'name', name: asAtom(dest), node: this.node };
    if (dest instanceof Tuple) {
      const [n, nd] = dest.elements;
      if (dest.length === 2 && n instanceof Atom && nd instanceof Atom) return { kind: 'name', name: n, node: nd };
    } else if (Array.isArray(dest)) {
      if (dest.length === 2) return { kind: 'name', name: asAtom(dest[0]), node: asAtom(dest[1]) };
    } else if (typeof dest === 'object' && dest !== null && 'name' in dest && 'node' in dest) {
      return { kind: 'name', name: asAtom(dest.name), node: asAtom(dest.node) };
    }
    throw new NodeError('BEAM_ERR_NODE_BAD_DEST', `not a destination: ${formatTerm(dest as Term)}`);
  }

  // ---- what local processes do ------------------------------------------------------------

  /** A message to a pid, a name or an alias; `priority` (EEP 76) counts only for priority aliases. */
  send(from: Process, dest: Dest | Reference, msg: Term, priority = false): Promise<void> {
    if (dest instanceof Reference) return this.sendAlias(from, dest, msg, undefined, priority);
    let r: Resolved;
    try {
      r = this.resolve(dest);
    } catch (e) {
      return Promise.reject(e);
    }
    if (r.kind === 'pid') {
      if (this.isLocal(r.pid)) {
        this.lookup(r.pid)?.mailbox.push(msg); // to a dead pid: dropped, as in Erlang
        return Promise.resolve();
      }
      return this.toRemote(r.pid.node, { kind: 'send', from: from.pid, to: r.pid, msg, priority });
    }
    if (r.node === this.node) {
      const p = this.names.get(r.name);
      // `Name ! Msg` raises badarg in Erlang; `{Name, node()} ! Msg` drops. A bare name here is the former.
      if (!p) {
        if (typeof dest === 'string' || dest instanceof Atom) {
          return Promise.reject(new NodeError('BEAM_ERR_NODE_NOT_REGISTERED', `no process is registered as ${r.name.name}`));
        }
        return Promise.resolve();
      }
      p.mailbox.push(msg);
      return Promise.resolve();
    }
    return this.toRemote(r.node, { kind: 'reg_send', from: from.pid, toName: r.name, msg, priority });
  }

  /** Sends to an alias (ours: delivered if active; another node's: ALIAS_SEND). */
  sendAlias(from: Process, alias: Reference, msg: Term, fallbackPid?: Pid, priority = false): Promise<void> {
    if (alias.node === this.node) {
      this.deliverAlias(alias, msg, priority);
      return Promise.resolve();
    }
    return this.toRemote(alias.node, { kind: 'alias_send', from: from.pid, alias, msg, pid: fallbackPid, priority });
  }

  link(p: Process, pid: Pid): Promise<void> {
    if (!p.alive) return Promise.reject(new ProcessExitedError(String(p.pid), p.exitReason as Term));
    if (pid.equals(p.pid)) return Promise.resolve();
    if (this.isLocal(pid)) {
      const t = this.lookup(pid);
      if (!t || !t.alive) {
        if (p.trapExit) {
          p.mailbox.push(new Tuple([A.EXIT, pid, A.noproc]));
          return Promise.resolve();
        }
        return Promise.reject(new NodeError('BEAM_ERR_NODE_NOPROC', `link: ${String(pid)} is not alive`));
      }
      p.state.links.set(pidKey(pid), { pid, linked: true });
      t.state.links.set(pidKey(p.pid), { pid: p.pid, linked: true });
      return Promise.resolve();
    }
    const key = pidKey(pid);
    const entry = p.state.links.get(key);
    if (entry?.linked) return Promise.resolve();
    p.state.links.set(key, { pid, linked: true, unlinkId: entry?.unlinkId });
    return this.toRemote(pid.node, { kind: 'link', from: p.pid, to: pid });
  }

  unlink(p: Process, pid: Pid): void {
    const key = pidKey(pid);
    const entry = p.state.links.get(key);
    if (!entry || !entry.linked) return;
    if (this.isLocal(pid)) {
      p.state.links.delete(key);
      this.lookup(pid)?.state.links.delete(pidKey(p.pid));
      return;
    }
    // UNLINK_ID: the link is gone for us now; exit signals from pid until the ack are ignored.
    const id = this.nextUnlinkId++;
    entry.linked = false;
    entry.unlinkId = id;
    this.fire(pid.node, { kind: 'unlink_id', id, from: p.pid, to: pid });
  }

  monitor(p: Process, target: MonitorTarget): Reference {
    const ref = this.makeRef();
    const r = this.resolve(target);
    if (!p.alive) return ref;
    if (r.kind === 'pid') {
      if (this.isLocal(r.pid)) {
        const t = this.lookup(r.pid);
        if (!t || !t.alive) this.down(p, ref, r.pid, A.noproc);
        else this.watchLocal(p, t, ref, r.pid, r.pid);
        return ref;
      }
      p.state.monitors.set(ref.key, { ref, target: r.pid, node: r.pid.node, item: r.pid });
      this.fire(r.pid.node, { kind: 'monitor', from: p.pid, to: r.pid, ref });
      return ref;
    }
    const item = new Tuple([r.name, r.node]);
    if (r.node === this.node) {
      const t = this.names.get(r.name);
      if (!t || !t.alive) this.down(p, ref, item, A.noproc);
      else this.watchLocal(p, t, ref, r.name, item);
      return ref;
    }
    p.state.monitors.set(ref.key, { ref, target: r.name, node: r.node, item });
    this.fire(r.node, { kind: 'monitor', from: p.pid, to: r.name, ref });
    return ref;
  }

  private watchLocal(p: Process, t: Process, ref: Reference, as: Pid | Atom, item: Term): void {
    p.state.monitors.set(ref.key, { ref, target: as, node: this.node, item, local: t });
    t.state.watchedBy.set(ref.key, { ref, watcher: p.pid, as });
  }

  demonitor(p: Process, ref: Reference, flush: boolean): boolean {
    const m = p.state.monitors.get(ref.key);
    if (flush) p.mailbox.flush((msg) => isDownFor(msg, ref));
    if (!m) return false;
    p.state.monitors.delete(ref.key);
    if (m.local) m.local.state.watchedBy.delete(ref.key);
    else this.fire(m.node, { kind: 'demonitor', from: p.pid, to: m.target, ref });
    return true;
  }

  /** exit/2 from `p` to `pid`. */
  exitSignal(p: Process, pid: Pid | Reference, reason: Term): void {
    if (pid instanceof Reference) {
      // exit/2 to an alias (OTP 28+): reaches the process the alias belongs to while it is active.
      if (pid.node === this.node) this.remoteExitAlias(p.pid, pid, reason);
      else this.fire(pid.node, { kind: 'alias_exit', from: p.pid, alias: pid, reason });
      return;
    }
    if (this.isLocal(pid)) {
      const t = this.lookup(pid);
      if (t) this.applyExit(t, p.pid, reason, false);
      return;
    }
    this.fire(pid.node, { kind: 'exit2', from: p.pid, to: pid, reason });
  }

  /** Ends a process: links get exit signals, monitors get DOWN, its monitors are removed. */
  terminate(p: Process, reason: Term): void {
    const st = p.state;
    if (!st.alive) return;
    st.alive = false;
    st.reason = reason;
    if (log.enabled) log('exit %s %s', String(p.pid), formatTerm(reason));
    if (st.name && this.names.get(st.name) === p) this.names.delete(st.name);
    this.procs.delete(localKey(p.pid));
    for (const k of st.aliases) {
      this.aliases.delete(k);
      this.priorityAliases.delete(k);
    }
    st.aliases.clear();
    p.mailbox.close(() => new ProcessExitedError(String(p.pid), reason));

    const links = [...st.links.values()];
    st.links.clear();
    const watchers = [...st.watchedBy.values()];
    st.watchedBy.clear();
    const held = [...st.monitors.values()];
    st.monitors.clear();

    for (const m of held) {
      if (m.local) m.local.state.watchedBy.delete(m.ref.key);
      else this.fire(m.node, { kind: 'demonitor', from: p.pid, to: m.target, ref: m.ref });
    }
    for (const l of links) {
      if (this.isLocal(l.pid)) {
        const t = this.lookup(l.pid);
        if (t && t.state.links.delete(pidKey(p.pid))) this.applyExit(t, p.pid, reason, true);
      } else if (l.linked) {
        this.fire(l.pid.node, { kind: 'exit', from: p.pid, to: l.pid, reason });
      }
    }
    for (const w of watchers) this.notifyWatcher(w, reason);
    st.resolveExited(reason);
  }

  /**
   * Fires the DOWN of monitor `ref` on `p` as if `p` exited with `reason`, while `p` runs on: how a JS
   * gen_server fails one call (gen:call exits on its call monitor's DOWN; OTP lib/stdlib/src/gen.erl).
   */
  downOne(p: Process, ref: Reference, reason: Term): boolean {
    const w = p.state.watchedBy.get(ref.key);
    if (!w || !p.alive) return false;
    p.state.watchedBy.delete(ref.key);
    this.notifyWatcher(w, reason);
    return true;
  }

  private notifyWatcher(w: WatchedBy, reason: Term): void {
    if (this.isLocal(w.watcher)) {
      const wp = this.lookup(w.watcher);
      const m = wp?.state.monitors.get(w.ref.key);
      if (wp && m) {
        wp.state.monitors.delete(w.ref.key);
        this.down(wp, w.ref, m.item, reason);
      }
    } else {
      this.remoteWatched.delete(w.ref.key);
      this.fire(w.watcher.node, { kind: 'monitor_exit', from: w.as, to: w.watcher, ref: w.ref, reason });
    }
  }

  /** The mailbox bound was hit: the process ends (like OTP's max_heap_size kill). */
  overflow(p: Process): void {
    log('%s mailbox over its limit: exiting', String(p.pid));
    queueMicrotask(() => this.terminate(p, A.mailboxOverflow));
  }

  /** Erlang's exit-signal rule for a signal reaching `t`. */
  private applyExit(t: Process, from: Pid, reason: Term, viaLink: boolean): void {
    if (!t.alive) return;
    if (!viaLink && reason === A.kill) {
      this.terminate(t, A.killed);
      return;
    }
    if (t.trapExit) {
      t.mailbox.push(new Tuple([A.EXIT, from, reason]));
      return;
    }
    if (reason === A.normal) {
      if (!viaLink && from.equals(t.pid)) this.terminate(t, reason); // exit(self(), normal)
      return;
    }
    this.terminate(t, reason);
  }

  private down(p: Process, ref: Reference, item: Term, reason: Term): void {
    p.mailbox.push(new Tuple([A.DOWN, ref, A.process, item, reason]));
  }

  // ---- signals from other nodes ------------------------------------------------------------

  /** SEND / SEND_SENDER to a pid of ours. */
  deliver(to: Pid, msg: Term): void {
    this.lookup(to)?.mailbox.push(msg);
  }

  /** REG_SEND: to a registered name (dropped if nobody has it, as OTP does). */
  deliverNamed(name: Atom, msg: Term): boolean {
    const p = this.names.get(name);
    if (!p) return false;
    p.mailbox.push(msg);
    return true;
  }

  /** ALIAS_SEND: to an active alias (dropped otherwise). A `priority` message to a priority alias is received first. */
  deliverAlias(alias: Reference, msg: Term, priority = false): boolean {
    const p = this.aliases.get(alias.key);
    if (!p) return false;
    p.mailbox.push(msg, priority && this.priorityAliases.has(alias.key));
    return true;
  }

  /** An exit signal (exit/2) to an alias: to its process while the alias is active, else dropped. */
  remoteExitAlias(from: Pid, alias: Reference, reason: Term): void {
    const t = this.aliases.get(alias.key);
    if (t) this.applyExit(t, from, reason, false);
  }

  remoteLink(from: Pid, to: Pid): void {
    const t = this.lookup(to);
    if (!t || !t.alive) {
      this.fire(from.node, { kind: 'exit', from: to, to: from, reason: A.noproc });
      return;
    }
    const key = pidKey(from);
    const e = t.state.links.get(key);
    t.state.links.set(key, { pid: from, linked: true, unlinkId: e?.unlinkId });
  }

  remoteUnlinkId(id: bigint, from: Pid, to: Pid): void {
    const t = this.lookup(to);
    if (t) {
      const key = pidKey(from);
      const e = t.state.links.get(key);
      if (e?.linked) {
        e.linked = false;
        if (e.unlinkId === undefined) t.state.links.delete(key);
      }
    }
    // The ack goes before any other signal from `to` to `from` (we send in order).
    this.fire(from.node, { kind: 'unlink_id_ack', id, from: to, to: from });
  }

  /** UNLINK (op 4) from a peer without UNLINK_ID (OTP ≤ 25 may still send it): no ack exists. */
  remoteUnlink(from: Pid, to: Pid): void {
    const t = this.lookup(to);
    const e = t?.state.links.get(pidKey(from));
    if (t && e) {
      e.linked = false;
      if (e.unlinkId === undefined) t.state.links.delete(pidKey(from));
    }
  }

  remoteUnlinkIdAck(id: bigint, from: Pid, to: Pid): void {
    const t = this.lookup(to);
    if (!t) return;
    const key = pidKey(from);
    const e = t.state.links.get(key);
    if (!e || e.unlinkId !== id) return;
    e.unlinkId = undefined;
    if (!e.linked) t.state.links.delete(key);
  }

  /** EXIT/PAYLOAD_EXIT (a link broke: only counts while linked) or EXIT2/PAYLOAD_EXIT2 (exit/2). */
  remoteExit(from: Pid, to: Pid, reason: Term, viaLink: boolean): void {
    const t = this.lookup(to);
    if (!t) return;
    if (viaLink) {
      const key = pidKey(from);
      const e = t.state.links.get(key);
      if (!e || !e.linked) return; // unlinked (or unlinking): ignored, as OTP does
      t.state.links.delete(key);
    }
    this.applyExit(t, from, reason, viaLink);
  }

  remoteMonitor(from: Pid, to: Pid | Atom, ref: Reference): void {
    const t = to instanceof Pid ? this.lookup(to) : this.names.get(to);
    if (!t || !t.alive) {
      this.fire(from.node, { kind: 'monitor_exit', from: to, to: from, ref, reason: A.noproc });
      return;
    }
    t.state.watchedBy.set(ref.key, { ref, watcher: from, as: to });
    this.remoteWatched.set(ref.key, t);
  }

  remoteDemonitor(_from: Pid, _to: Pid | Atom, ref: Reference): void {
    const t = this.remoteWatched.get(ref.key);
    if (!t) return;
    this.remoteWatched.delete(ref.key);
    t.state.watchedBy.delete(ref.key);
  }

  remoteMonitorExit(_from: Pid | Atom, to: Pid, ref: Reference, reason: Term): void {
    const p = this.lookup(to);
    const m = p?.state.monitors.get(ref.key);
    if (!p || !m) return;
    p.state.monitors.delete(ref.key);
    this.down(p, ref, m.item, reason);
  }

  /**
   * The connection to `node` is gone (or could not be made): links to its processes break with
   * `noconnection`, monitors on them fire DOWN `noconnection`, its monitors on ours vanish. All
   * state is removed first so that no signal is sent back towards the dead node.
   */
  nodeDown(node: Atom): void {
    const exits: [Process, Pid][] = [];
    const downs: [Process, HeldMonitor][] = [];
    for (const p of this.procs.values()) {
      const st = p.state;
      for (const [k, l] of st.links) {
        if (l.pid.node !== node) continue;
        st.links.delete(k);
        if (l.linked) exits.push([p, l.pid]);
      }
      for (const [k, m] of st.monitors) {
        if (m.local || m.node !== node) continue;
        st.monitors.delete(k);
        downs.push([p, m]);
      }
      for (const [k, w] of st.watchedBy) {
        if (w.watcher.node !== node) continue;
        st.watchedBy.delete(k);
        this.remoteWatched.delete(k);
      }
    }
    for (const [k, s] of this.spawning) {
      if (s.node !== node) continue;
      this.spawning.delete(k);
      s.p.mailbox.push(new Tuple([A.spawnReply, s.reqId, A.error, A.noconnection])); // as erts answers a lost spawn request
    }
    for (const [p, m] of downs) if (p.alive) this.down(p, m.ref, m.item, A.noconnection);
    for (const [p, pid] of exits) this.applyExit(p, pid, A.noconnection, true);
  }

  /** Ends every process with `reason` (node stop). */
  stop(reason: Term): void {
    for (const p of [...this.procs.values()]) this.terminate(p, reason);
    this.stopped = true;
  }

  /** SPAWN_REPLY to a spawn request from another node. */
  sendSpawnReply(reqId: Reference, to: Pid, flags: number, result: Pid | Atom): void {
    this.fire(to.node, { kind: 'spawn_reply', reqId, to, flags, result });
  }

  /**
   * erlang:spawn_request/5 from `p` towards `node`: the answer arrives in p's mailbox as
   * `{spawn_reply, ReqId, ok, Pid}` or `{spawn_reply, ReqId, error, Reason}` (`noconnection` when
   * the node goes down first). With `link`/`monitor` the link, or a monitor whose ref is ReqId, is
   * in place when the ok reply is read (the spawning node set it up before replying).
   */
  spawnRequest(p: Process, node: Atom, mfa: { module: Atom; function: Atom; arity: number }, args: Term[], options: Term[], groupLeader: Pid, errorOnly = false): { reqId: Reference; sent: Promise<void> } {
    const reqId = this.makeRef();
    this.spawning.set(reqId.key, { p, node, reqId, errorOnly }); // errorOnly: spawn_request's {reply, error_only}
    // `sent` fails when the arguments cannot be encoded (a lost connection answers noconnection).
    const sent = this.toRemote(node, { kind: 'spawn_request', reqId, from: p.pid, groupLeader, mfa, options, args });
    return { reqId, sent };
  }

  /** SPAWN_REPLY to one of our spawn requests (flags: 1 = linked, 2 = monitored, dist.c). */
  remoteSpawnReply(reqId: Reference, to: Pid, flags: number, result: Pid | Atom): void {
    const s = this.spawning.get(reqId.key);
    if (!s || !s.p.pid.equals(to)) return;
    this.spawning.delete(reqId.key);
    const p = s.p;
    if (!(result instanceof Pid)) {
      p.mailbox.push(new Tuple([A.spawnReply, reqId, A.error, result]));
      return;
    }
    if (!p.alive) {
      // The requester died meanwhile: undo what the spawning node set up for it.
      if (flags & 1) this.fire(result.node, { kind: 'exit', from: p.pid, to: result, reason: p.exitReason ?? A.noproc });
      if (flags & 2) this.fire(result.node, { kind: 'demonitor', from: p.pid, to: result, ref: reqId });
      return;
    }
    if (flags & 1) p.state.links.set(pidKey(result), { pid: result, linked: true });
    if (flags & 2) p.state.monitors.set(reqId.key, { ref: reqId, target: result, node: result.node, item: result });
    if (!s.errorOnly) p.mailbox.push(new Tuple([A.spawnReply, reqId, A.ok, result]));
  }

  // ---- to other nodes -----------------------------------------------------------------------

  private toRemote(node: Atom, sig: OutSignal): Promise<void> {
    const p = this.outbox.signal(node, sig);
    p.catch(() => {}); // the caller may not await: the failure is also logged by the Node
    return p;
  }

  /** A signal nobody awaits: failures are handled by nodeDown (the Node calls it). */
  private fire(node: Atom, sig: OutSignal): void {
    this.outbox.signal(node, sig).catch((e: unknown) => log('%s to %s not sent: %s', sig.kind, node.name, (e as Error).message));
  }
}

const localKey = (pid: Pid): string => `${pid.id}.${pid.serial}`;

function isDownFor(msg: Term, ref: Reference): boolean {
  return msg instanceof Tuple && msg.length === 5 && msg.elements[0] === A.DOWN && ref.equals(msg.elements[1]);
}

export type { LinkEntry };
