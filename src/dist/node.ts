/**
 * A hidden Erlang node inside Node.js. `Node.start()` listens, registers with EPMD and answers
 * what a BEAM node expects of a peer: `net_adm:ping` (is_auth to net_kernel), monitors on unknown
 * names (noproc), `rpc:call` (erpc emulation, erpc.ts). JS code spawns processes (process.ts),
 * registers names, sends, links, monitors, calls gen_servers (calls.ts) and serves calls
 * (gen-server.ts). Connections are made on first use, as Erlang's auto-connect does.
 */
import type { DecodeOptions } from '../etf/decode.js';
import type { FragmentLimits } from './fragments.js';
import { EventEmitter } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import createDebug from 'debug';
import { Atom, Pid, Reference, Tuple, atom, type Term } from '../etf/types.js';
import { EpmdError } from '../epmd/errors.js';
import { register as epmdRegister, type EpmdRegistration } from '../epmd/client.js';
import { startEpmdServer, type EpmdServer } from '../epmd/server.js';
import { genCall, genCast, rpcCall, type CallContext, type CallOptions, type RpcOptions } from './calls.js';
import type { Connection } from './connection.js';
import { DistError } from './errors.js';
import { handleSpawnRequest, RpcHandlers, ErlangException, type RpcHandler } from './erpc.js';
import { DFLAG } from './flags.js';
import { noReply, runServer, type GenServer, type ServerHandlers } from './gen-server.js';
import { checkOwnName } from './names.js';
import { RegistrationKeeper } from './epmd-keeper.js';
import type { DistTlsOptions } from './transport.js';
import { DistNetwork } from './network.js';
import { NodeError } from './node-errors.js';
import type { Process } from './process.js';
import { Runtime, type Dest, type MonitorTarget, type SpawnOptions } from './runtime.js';
import type { OutSignal, Outbox } from './signals.js';
import { isTuple } from './terms.js';
import { dispatchControl, toControl } from './wire-adapter.js';

const log = createDebug('beamnode:dist:node');

export interface NodeStartOptions {
  /**
   * `alive@host`, or just `alive`: the host is then filled in as erl does (short names: the host
   * name up to its first dot; long names: the host name, which must then be fully qualified).
   */
  name: string;
  /** The cookie; default ERLANG_COOKIE, else ~/.erlang.cookie. Never logged. */
  cookie?: string;
  /** Long (`-name`) or short (`-sname`) names. Default: long when the host has a dot or is an IP; short for a bare `alive`. */
  longNames?: boolean;
  /** Default true: no PUBLISHED flag, so peers keep us out of `nodes()` and global. */
  hidden?: boolean;
  epmd?: {
    /** The EPMD port (default ERL_EPMD_PORT, else 4369), also used to find peers. */
    port?: number;
    /** Start an embedded EPMD server on that port (loopback) when none answers. Default false. */
    embedded?: boolean;
    /** Skip registration (a client-only node that nobody dials by name). Default false. */
    skip?: boolean;
  };
  /** Where to accept connections (default: any free port on all interfaces). */
  listen?: { port?: number; address?: string };
  /** net_ticktime in ms (default 60000): use the peers' value. */
  tickTime?: number;
  /** Per handshake step timeout in ms (net_setuptime, default 7000). */
  setupTime?: number;
  /** Deadline for making a connection on first use (default 4 × setupTime). */
  connectTimeout?: number;
  /** net_kernel:allow/1: only these names (`alive@host`, `host`, `alive@`) may connect to us. */
  allow?: readonly string[];
  /** The distribution header with an atom cache (DFLAG_DIST_HDR_ATOM_CACHE); default on (docs/hot-path.md). */
  atomCache?: boolean;
  /** Fragmented large messages (DFLAG_FRAGMENTS), both ways; default on. */
  fragments?: boolean;
  /** Bounds on reassembling incoming fragments (bytes, sequences, timeout). */
  fragmentLimits?: Partial<FragmentLimits>;
  /** Largest distribution frame accepted (default 128 MiB; see DistNetworkOptions.maxFrame). */
  maxFrame?: number;
  /** Unauthenticated inbound handshakes held at once (default 128; past it, refused at once). */
  maxInboundHandshakes?: number;
  /** How incoming terms are decoded (limits, conversions); a frame's maxTerms default applies. */
  decodeOptions?: DecodeOptions;
  /** How peer host names are resolved when dialing (default: dns.lookup, IPv4 first, as inet_tcp_dist). */
  lookup?: (host: string) => Promise<string>;
  /** TLS distribution (as erl's `-proto_dist inet_tls`), both ways; EPMD stays plain TCP. See docs/security.md. */
  tls?: DistTlsOptions;
  /** Most queued messages per process (default 100 000). */
  mailboxLimit?: number;
  signal?: AbortSignal;
}

export interface NodeEvents {
  nodeup: [name: string, info: { hidden: boolean; initiator: boolean }];
  nodedown: [name: string, reason: Error | undefined];
  /** A handshake failed, either way (a peer with another cookie dialing us shows up here only). */
  handshakeFailed: [error: Error, initiator: boolean];
}

/** A monitor made at node level (`node.monitor()`): `down` resolves with the DOWN reason. */
export interface NodeMonitor {
  ref: Reference;
  down: Promise<{ item: Term; reason: Term }>;
  demonitor(): void;
}

/** A link made at node level (`node.link()`): `exit` resolves with the linked process's exit reason. */
export interface NodeLink {
  pid: Pid;
  exit: Promise<Term>;
  unlink(): void;
}

interface Dialing {
  items: { sig: OutSignal; resolve(): void; reject(e: unknown): void }[];
}

const A = {
  yes: atom('yes'),
  isAuth: atom('is_auth'),
  netKernel: atom('net_kernel'),
  rex: atom('rex'),
  call: atom('call'),
  blockCall: atom('block_call'),
  featuresRequest: atom('features_request'),
  featuresReply: atom('features_reply'),
  erpc: atom('erpc'),
  badrpc: atom('badrpc'),
  EXIT: atom('EXIT'),
  DOWN: atom('DOWN'),
  shutdown: atom('shutdown'),
  undef: atom('undef'),
  jsError: atom('js_error'),
  undefined: atom('undefined'),
};

/**
 * Fills in the host of a bare `alive` name as net_kernel:create_hostpart/2 does, and decides
 * long/short names. Short names: the host name up to its first dot. Long names: the host name,
 * with the resolver's domain appended when it has no dot (inet_db's `domain` option, read from
 * resolv.conf's `domain` or first `search` entry by Node.start).
 */
export function completeName(
  name: string,
  longNames?: boolean,
  env: { hostname?: string; domain?: string } = {},
): { name: string; longNames: boolean } {
  if (name.includes('@')) {
    const host = name.slice(name.indexOf('@') + 1);
    return { name, longNames: longNames ?? (host.includes('.') || /^[0-9a-fA-F:]+$/.test(host)) };
  }
  const h = env.hostname ?? hostname();
  if (longNames) {
    const fqdn = h.includes('.') ? h : env.domain ? `${h}.${env.domain}` : undefined;
    if (!fqdn) {
      throw new NodeError('BEAM_ERR_NODE_BAD_NAME', `long names need a fully qualified host: "${h}" has no dot and the resolver has no domain; give the name as ${name}@<fqdn or IP>`);
    }
    return { name: `${name}@${fqdn}`, longNames: true };
  }
  return { name: `${name}@${h.split('.')[0]}`, longNames: false };
}

/** The resolver's domain: resolv.conf's `domain`, else its first `search` entry (bounded read). */
export function resolverDomain(path = '/etc/resolv.conf'): string | undefined {
  let text: string;
  try {
    if (statSync(path).size > 64 * 1024) return undefined;
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let search: string | undefined;
  for (const line of text.split('\n')) {
    const [key, first] = line.trim().split(/\s+/);
    if (key === 'domain' && first) return first.replace(/\.$/, '');
    if (key === 'search' && first && search === undefined) search = first.replace(/\.$/, '');
  }
  return search;
}

export class Node extends EventEmitter<NodeEvents> implements Outbox, CallContext {
  /** `alive@host`. */
  readonly name: string;
  readonly atom: Atom;
  /** Our creation (from EPMD's reply), in every pid and ref we make. */
  readonly creation: number;
  /** The port we accept connections on. */
  readonly port: number;
  readonly longNames: boolean;
  readonly hidden: boolean;
  /** @internal */
  readonly runtime: Runtime;
  private readonly network: DistNetwork;
  /** Our EPMD registration, registered again when EPMD drops it (epmd-keeper.ts). */
  private readonly registration: RegistrationKeeper | undefined;
  private readonly epmdServer: EpmdServer | undefined;
  private readonly connectTimeout: number;
  private readonly rpcHandlers = new RpcHandlers();
  private readonly dialing = new Map<Atom, Dialing>();
  private readonly system: Process;
  private stopped = false;

  private constructor(a: {
    network: DistNetwork;
    registration: RegistrationKeeper | undefined;
    epmdServer: EpmdServer | undefined;
    port: number;
    hidden: boolean;
    connectTimeout: number;
    mailboxLimit: number | undefined;
  }) {
    super();
    this.network = a.network;
    this.registration = a.registration;
    this.epmdServer = a.epmdServer;
    this.name = a.network.name;
    this.atom = a.network.nameAtom;
    this.creation = a.network.creation;
    this.port = a.port;
    this.longNames = a.network.longNames;
    this.hidden = a.hidden;
    this.connectTimeout = a.connectTimeout;
    this.runtime = new Runtime({ node: this.atom, creation: this.creation, outbox: this, mailboxLimit: a.mailboxLimit });
    this.system = this.runtime.spawn({ discard: true });
    this.network.on('nodeup', (name, conn) => {
      log('nodeup %s (%s)', name, conn.hidden ? 'hidden' : 'visible');
      this.flushDialing(atom(name), conn);
      this.emit('nodeup', name, { hidden: conn.hidden, initiator: conn.initiator });
    });
    this.network.on('nodedown', (name, reason) => {
      log('nodedown %s: %s', name, reason?.message ?? 'closed by us');
      this.runtime.nodeDown(atom(name));
      this.emit('nodedown', name, reason);
    });
    this.network.on('handshakeFailed', (e, initiator) => {
      log('handshake %s failed: %s', initiator ? 'out' : 'in', e.message);
      this.emit('handshakeFailed', e, initiator);
    });
    this.network.on('control', (conn, control, message) => {
      try {
        dispatchControl(this.runtime, { spawnRequest: (c, args) => handleSpawnRequest(this.runtime, this.rpcHandlers, c, args) }, conn.peerAtom, control, message);
      } catch (e) {
        log('%s: %s not handled: %s', conn.peer, control.op, (e as Error).message);
      }
    });
    this.startBuiltins();
  }

  /** Starts a node: listen, register with EPMD (creation from its reply), answer peers. */
  static async start(o: NodeStartOptions): Promise<Node> {
    o.signal?.throwIfAborted();
    const needsDomain = !o.name.includes('@') && o.longNames === true && !hostname().includes('.');
    const { name, longNames } = completeName(o.name, o.longNames, { domain: needsDomain ? resolverDomain() : undefined });
    const alive = checkOwnName(name, longNames).alive;
    const hidden = o.hidden ?? true;
    const network = new DistNetwork({
      name,
      cookie: o.cookie,
      longNames,
      published: !hidden,
      tickTime: o.tickTime,
      setupTime: o.setupTime,
      epmdPort: o.epmd?.port,
      allow: o.allow,
      tls: o.tls,
      lookup: o.lookup,
      atomCache: o.atomCache,
      fragments: o.fragments,
      fragmentLimits: o.fragmentLimits,
      maxFrame: o.maxFrame,
      maxInboundHandshakes: o.maxInboundHandshakes,
      decodeOptions: o.decodeOptions,
    });
    let epmdServer: EpmdServer | undefined;
    let registration: EpmdRegistration | undefined;
    try {
      const port = await network.listen({ port: o.listen?.port, address: o.listen?.address });
      if (!o.epmd?.skip) {
        const reg = () => epmdRegister({ alive, port, hidden, epmdPort: o.epmd?.port, signal: o.signal });
        try {
          registration = await reg();
        } catch (e) {
          if (!(o.epmd?.embedded && e instanceof EpmdError && e.code === 'BEAM_ERR_EPMD_UNREACHABLE')) throw e;
          log('no EPMD answers: starting an embedded one');
          epmdServer = await startEpmdServer({ port: o.epmd.port, address: '127.0.0.1' });
          registration = await reg();
        }
        network.setCreation(registration.creation);
      }
      o.signal?.throwIfAborted();
      // EPMD restarted or killed: register again (same name and port; we keep our creation).
      const keeper = registration && new RegistrationKeeper(registration, (signal) => epmdRegister({ alive, port, hidden, epmdPort: o.epmd?.port, signal }));
      return new Node({
        network,
        registration: keeper,
        epmdServer,
        port,
        hidden,
        connectTimeout: o.connectTimeout ?? network.setupTime * 4,
        mailboxLimit: o.mailboxLimit,
      });
    } catch (e) {
      await registration?.close();
      await network.close();
      await epmdServer?.close();
      throw e;
    }
  }

  // ---- processes -----------------------------------------------------------------------------

  /** A new JS process (trapping exits by default, see process.ts). */
  spawn(o?: SpawnOptions): Process {
    return this.runtime.spawn(o);
  }

  register(name: Atom | string, proc: Process): void {
    this.runtime.register(name, proc);
  }

  unregister(name: Atom | string): boolean {
    return this.runtime.unregister(name);
  }

  whereis(name: Atom | string): Process | undefined {
    return this.runtime.whereis(name);
  }

  /** Sends from the node itself (a pid that drops replies). Same rules as `proc.send`. */
  send(dest: Dest, msg: Term): Promise<void> {
    return this.system.send(dest, msg);
  }

  /** exit/2 from the node's own pid. */
  exit(pid: Pid, reason: Term): void {
    this.system.exit(pid, reason);
  }

  /** Monitors a process; `down` resolves with its DOWN (reason `noproc`/`noconnection` as in Erlang). */
  monitor(target: MonitorTarget): NodeMonitor {
    const p = this.runtime.spawn();
    const ref = p.monitor(target);
    const down = p.receive({ match: (m) => m instanceof Tuple && m.length === 5 && m.elements[0] === A.DOWN }).then((m) => {
      p.close();
      const e = (m as Tuple).elements;
      return { item: e[3], reason: e[4] };
    });
    down.catch(() => {});
    return {
      ref,
      down,
      demonitor: () => {
        p.demonitor(ref);
        p.close();
      },
    };
  }

  /** Links a helper process to `pid`; `exit` resolves with the reason `pid` exits with. */
  async link(pid: Pid): Promise<NodeLink> {
    const p = this.runtime.spawn({ trapExit: true });
    const exit = p
      .receive({ match: (m) => m instanceof Tuple && m.length === 3 && m.elements[0] === A.EXIT && pid.equals(m.elements[1]) })
      .then((m) => {
        p.close();
        return (m as Tuple).elements[2];
      });
    exit.catch(() => {});
    try {
      await p.link(pid);
    } catch (e) {
      p.close();
      throw e;
    }
    return {
      pid,
      exit,
      unlink: () => {
        p.unlink(pid);
        p.close();
      },
    };
  }

  /** Same as `monitor.demonitor()`. */
  demonitor(monitor: NodeMonitor): void {
    monitor.demonitor();
  }

  /** Same as `link.unlink()`. */
  unlink(link: NodeLink): void {
    link.unlink();
  }

  // ---- connections ---------------------------------------------------------------------------

  /** The names of the connected nodes. */
  nodes(): string[] {
    return [...this.network.connections().keys()];
  }

  /** Connects to `name` (exactly the peer's own name) unless already connected. */
  async connect(name: string, o: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    await this.connection(atom(name), o);
  }

  /** Closes the connection to `name` (nodedown follows). */
  disconnect(name: string): boolean {
    return this.network.disconnect(name);
  }

  /** @internal The connection to `node`, made if needed. */
  async connection(node: Atom, o: { timeout?: number; signal?: AbortSignal } = {}): Promise<Connection> {
    if (this.stopped) throw new NodeError('BEAM_ERR_NODE_STOPPED', `node ${this.name} is stopped`);
    const open = this.network.get(node.name);
    if (open && !open.closed) return open;
    try {
      return await this.network.connect(node.name, { timeout: o.timeout ?? this.connectTimeout, signal: o.signal });
    } catch (e) {
      // Links/monitors made towards it while we tried get noconnection, as Erlang's auto-connect does.
      if (!this.network.get(node.name)) this.runtime.nodeDown(node);
      throw e;
    }
  }

  /** @internal CallContext */
  async peer(node: Atom, o: { signal?: AbortSignal; timeout?: number }): Promise<{ alias: boolean }> {
    const conn = await this.connection(node, { signal: o.signal, timeout: Math.min(o.timeout ?? this.connectTimeout, this.connectTimeout) });
    return { alias: (conn.flags & DFLAG.ALIAS) !== 0n };
  }

  /** @internal Outbox: a signal for a process on another node. Connects on first use; keeps order while connecting. */
  signal(node: Atom, sig: OutSignal): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeError('BEAM_ERR_NODE_STOPPED', `node ${this.name} is stopped`));
    if (node === this.atom) return Promise.reject(new NodeError('BEAM_ERR_NODE_BAD_DEST', 'a signal to our own node went to the wire'));
    const open = this.network.get(node.name);
    if (open && !open.closed && !this.dialing.has(node)) return sendOn(open, sig);
    let d = this.dialing.get(node);
    if (!d) {
      const entry: Dialing = { items: [] };
      this.dialing.set(node, entry);
      d = entry;
      this.connection(node).then(
        (conn) => this.flushDialing(node, conn),
        (e: unknown) => {
          if (this.dialing.get(node) !== entry) return;
          this.dialing.delete(node);
          log('cannot reach %s: %s', node.name, (e as Error).message);
          for (const it of entry.items) it.reject(e);
        },
      );
    }
    const entry = d;
    return new Promise<void>((resolve, reject) => entry.items.push({ sig, resolve, reject }));
  }

  /** Sends what waited for the connection, in order. */
  private flushDialing(node: Atom, conn: Connection): void {
    const d = this.dialing.get(node);
    if (!d) return;
    this.dialing.delete(node);
    for (const it of d.items) sendOn(conn, it.sig).then(it.resolve, it.reject);
  }

  // ---- calls ---------------------------------------------------------------------------------

  /** gen_server:call/3 (see calls.ts): resolves with the reply; CallError/TimeoutError otherwise. */
  call(dest: Dest, request: Term, o?: CallOptions): Promise<Term> {
    return genCall(this, dest, request, o);
  }

  /** gen_server:cast/2. */
  cast(dest: Dest, msg: Term): Promise<void> {
    return genCast(this.system, dest, msg);
  }

  /** rpc:call/5 through `rex`: the value, or RpcError for `{badrpc, Reason}`. */
  rpc(node: string | Atom, module: string | Atom, fun: string | Atom, args: Term[], o?: RpcOptions): Promise<Term> {
    return rpcCall(this, node, module, fun, args, o);
  }

  /** A JS gen_server registered as `name` (see gen-server.ts). */
  serve(name: Atom | string, handlers: ServerHandlers, o: { trapExit?: boolean } = {}): GenServer {
    const n = name instanceof Atom ? name : atom(name);
    const p = this.runtime.spawn({ trapExit: o.trapExit ?? false });
    try {
      this.runtime.register(n, p);
    } catch (e) {
      p.close();
      throw e;
    }
    return runServer(this.runtime, n, p, handlers);
  }

  /**
   * Lets Erlang call `module:fun(Args…)` on this node with rpc:call/erpc:call (and rpc:block_call).
   * The handler gets the argument list; its value is the call's result; a thrown Error raises
   * `error:{js_error, <<Message>>}` over there (ErlangException picks the class and reason).
   * Pass `undefined` to remove. Unregistered functions raise `undef`, as in Erlang.
   */
  handleRpc(module: string | Atom, fun: string | Atom, handler: RpcHandler | undefined): void {
    this.rpcHandlers.set(module, fun, handler);
  }

  // ---- built-in servers ----------------------------------------------------------------------

  private startBuiltins(): void {
    // A few BIFs peers commonly rpc for (overridable with handleRpc): node/0, whereis/1, registered/0.
    this.handleRpc('erlang', 'node', () => this.atom);
    this.handleRpc('erlang', 'whereis', ([n]) => (n instanceof Atom ? (this.whereis(n)?.pid ?? A.undefined) : A.undefined));
    this.handleRpc('erlang', 'registered', () => this.runtime.registered());
    // net_adm:ping → gen:call({net_kernel, Node}, {is_auth, Node}) must get `yes` (OTP net_adm.erl ping/1).
    this.serve(A.netKernel, {
      call: (req) => (isTuple(req, 2, 'is_auth') ? A.yes : noReply),
    });
    // rex: rpc:block_call's gen_server calls, the C-node form, and (visible nodes) features_request.
    this.serve(A.rex, {
      call: async (req) => {
        // {call, M, F, A, GL} and rpc:block_call's {block_call, M, F, A, GL}
        if (!(req instanceof Tuple) || req.length !== 5 || (req.elements[0] !== A.call && req.elements[0] !== A.blockCall)) return noReply;
        return this.rexApply(req.elements[1], req.elements[2], req.elements[3]);
      },
      info: async (msg) => {
        if (!(msg instanceof Tuple) || msg.length !== 2 || !(msg.elements[0] instanceof Pid)) return;
        const from = msg.elements[0];
        const body = msg.elements[1];
        if (body === A.featuresRequest) {
          await this.whereis(A.rex)?.send(from, new Tuple([A.featuresReply, this.atom, [A.erpc]]));
        } else if (body instanceof Tuple && body.length === 5 && body.elements[0] === A.call) {
          const r = await this.rexApply(body.elements[1], body.elements[2], body.elements[3]);
          await this.whereis(A.rex)?.send(from, new Tuple([A.rex, r]));
        }
      },
    });
  }

  /** rpc's answer for M:F(A): the value, or `{badrpc, {'EXIT', {Reason, Stack}}}`. */
  private async rexApply(m: Term, f: Term, args: Term): Promise<Term> {
    const h = m instanceof Atom && f instanceof Atom ? this.rpcHandlers.get(m, f) : undefined;
    const argv = Array.isArray(args) ? args : [];
    const stack = [new Tuple([m, f, argv.length, []])];
    if (!h) return new Tuple([A.badrpc, new Tuple([A.EXIT, new Tuple([A.undef, stack])])]);
    try {
      return await h(argv);
    } catch (e) {
      if (e instanceof ErlangException && e.kind === 'throw') return e.reason;
      const reason = e instanceof ErlangException ? e.reason : new Tuple([A.jsError, Buffer.from(e instanceof Error ? e.message : String(e), 'utf8')]);
      return new Tuple([A.badrpc, new Tuple([A.EXIT, new Tuple([reason, stack])])]);
    }
  }

  // ---- stop ----------------------------------------------------------------------------------

  get running(): boolean {
    return !this.stopped;
  }

  /** Closes every connection, ends every process (`shutdown`), unregisters from EPMD. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const [, d] of this.dialing) for (const it of d.items) it.reject(new NodeError('BEAM_ERR_NODE_STOPPED', `node ${this.name} is stopped`));
    this.dialing.clear();
    await this.network.close();
    this.runtime.stop(A.shutdown);
    await this.registration?.close();
    await this.epmdServer?.close();
    log('%s stopped', this.name);
  }
}

/** Puts one signal on a connection. Resolves at once, or after 'drain' when the socket buffer is full. */
function sendOn(conn: Connection, sig: OutSignal): Promise<void> {
  const framed = toControl(sig, conn.flags);
  if (!framed) {
    log('%s: %s not supported by this peer: dropped', conn.peer, sig.kind);
    return Promise.resolve();
  }
  let written: boolean;
  try {
    written = conn.send(framed.control, framed.message);
  } catch (e) {
    return Promise.reject(e);
  }
  if (conn.closed) return Promise.reject(new DistError('BEAM_ERR_DIST_CLOSED', `connection to ${conn.peer} is closed`, { peer: conn.peer }));
  return written ? Promise.resolve() : drained(conn);
}

// One pending 'drain' wait per connection, shared by every sender that hit the full buffer. The
// frame is already queued in the socket; awaiting senders just slow down. A peer that never reads
// is dropped by the tick timeout, which settles this through 'close'.
const drainWaits = new WeakMap<Connection, Promise<void>>();

function drained(conn: Connection): Promise<void> {
  let p = drainWaits.get(conn);
  if (!p) {
    p = new Promise<void>((resolve) => {
      const done = () => {
        conn.off('drain', done);
        conn.off('close', done);
        drainWaits.delete(conn);
        resolve();
      };
      conn.on('drain', done);
      conn.on('close', done);
    });
    drainWaits.set(conn, p);
  }
  return p;
}
