/**
 * A hidden Erlang node inside Node.js. `Node.start()` listens, registers with EPMD and answers
 * what a BEAM node expects of a peer: `net_adm:ping` (is_auth to net_kernel), monitors on unknown
 * names (noproc), `rpc:call` (erpc emulation, erpc.ts). JS code spawns processes (process.ts),
 * registers names, sends, links, monitors, calls gen_servers (calls.ts) and serves calls
 * (gen-server.ts). Connections are made on first use, as Erlang's auto-connect does.
 */
import type { DecodeOptions } from '../../etf/decode.js';
import type { FragmentLimits } from '../protocol/fragments.js';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import createDebug from 'debug';
import { Atom, Pid, Reference, Tuple, atom, type Encodable, type Term } from '../../etf/types.js';
import { EpmdError } from '../../epmd/errors.js';
import { register as epmdRegister, type EpmdRegistration } from '../../epmd/client.js';
import { startEpmdServer, type EpmdServer } from '../../epmd/server.js';
import { describeDest, genCall, genCast, rpcCall, validated, type CallOptions, type RpcOptions } from './calls.js';
import type { Connection } from '../net/connection.js';
import { handleSpawnRequest, RpcHandlers, type RpcHandler, type RpcRegistration } from './erpc.js';
import { DFLAG } from '../protocol/flags.js';
import { runServer, type GenServer, type ServeOptions, type ServerHandlers } from './gen-server.js';
import { checkOwnName } from '../protocol/names.js';
import { RegistrationKeeper } from '../net/epmd-keeper.js';
import type { DistTlsOptions } from '../net/transport.js';
import { DistNetwork } from '../net/network.js';
import { NodeError } from '../runtime/errors.js';
import { DistError, ProtocolError } from '../errors.js';
import { warn } from './warnings.js';
import type { Process } from '../runtime/process.js';
import { Runtime, type Dest, type MonitorTarget, type SpawnOptions } from '../runtime/runtime.js';
import type { OutSignal, Outbox } from '../runtime/signals.js';
import { dispatchControl } from './wire-adapter.js';
import { PgScope, type PgOptions } from './pg.js';
import { PhoenixPubSub, elixirModule, type PubSubOptions } from './phoenix-pubsub.js';
import { spawnRemote, type RemoteSpawn, type SpawnContext, type SpawnRemoteOptions } from './spawn-remote.js';
import { startIoServer, type IoServer } from './io-server.js';
import { startBuiltins } from './builtins.js';
import { Dialer } from './dialer.js';
import { encodePathIn, fromJson, jsonOptions, toJson, type JsonInput, type JsonMode, type JsonOptions, type JsonTerm } from '../../etf/json/convert.js';
import { jsonRpcHandler, jsonServerHandlers, modeOf, type JsonRpcHandler, type JsonServerHandlers } from './json/handlers.js';
import type { JsonProcess, SendOptions } from '../runtime/process.js';
import { completeName, resolverDomain } from './node-name.js';

export { completeName, resolverDomain } from './node-name.js';

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
  /**
   * How the messages JS processes receive are decoded: limits, and `binariesAsStrings` /
   * `mapsAsObjects` (then rpc results, call replies and handler arguments come mapped). Control
   * messages are always decoded losslessly. `atomsAsStrings` is refused (BEAM_ERR_NODE_BAD_OPTION):
   * the node's own protocols (gen_server calls, rpc, DOWN and EXIT messages) need atoms.
   */
  decodeOptions?: DecodeOptions;
  /**
   * JSON mode for the whole node (default off: lossless terms): processes, sends, calls, rpc and
   * handlers take and give JSON-shaped values (strings for binaries, objects for maps, null for
   * nil). Each of them can still choose with its own `json` option. See docs/node.md, "JSON mode".
   */
  json?: JsonMode;
  /** How peer host names are resolved when dialing (default: dns.lookup, IPv4 first, as inet_tcp_dist). */
  lookup?: (host: string) => Promise<string>;
  /** TLS distribution (as erl's `-proto_dist inet_tls`), both ways; EPMD stays plain TCP. See docs/security.md. */
  tls?: DistTlsOptions;
  /** Most queued messages per process (default 100 000). */
  mailboxLimit?: number;
  signal?: AbortSignal;
}

/**
 * Why a connection went down, as Erlang names it (net_kernel:monitor_nodes/2 `nodedown_reason`,
 * OTP lib/kernel/src/net_kernel.erl): `connection_closed` (the peer closed it, or the socket
 * failed), `net_tick_timeout` (nothing heard for net_ticktime), `disconnect` (our `disconnect()`),
 * `net_kernel_terminated` (our `close()`); and ours: `protocol_error` (we dropped a peer that sent
 * bytes we refuse), `replaced` (a newer connection to the same node took over).
 */
export type NodedownReason = 'connection_closed' | 'net_tick_timeout' | 'disconnect' | 'net_kernel_terminated' | 'protocol_error' | 'replaced';

export interface NodeEvents {
  nodeup: [name: string, info: { hidden: boolean; initiator: boolean }];
  /**
   * A connection went down: a short reason to print, and the error behind it when it failed (a
   * socket error, a tick timeout, a protocol error); none for a clean close by either side.
   */
  nodedown: [name: string, reason: NodedownReason, error: Error | undefined];
  /** A handshake failed, either way (a peer with another cookie dialing us shows up here only). */
  handshakeFailed: [error: Error, initiator: boolean];
  /**
   * A peer sent bytes we refuse (a term we cannot decode, a frame over maxFrame, an invalid
   * control): its connection is dropped, as OTP drops it, and `nodedown` follows. The error names
   * the peer and, for a term, the part, offset and tag. Also printed as a BeamnodeWarning.
   */
  protocolError: [error: ProtocolError];
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

const A = {
  yes: atom('yes'),
  isAuth: atom('is_auth'),
  netKernel: atom('net_kernel'),
  EXIT: atom('EXIT'),
  DOWN: atom('DOWN'),
  shutdown: atom('shutdown'),
};

function nodedownReason(e: Error | undefined, stopped: boolean): NodedownReason {
  if (e === undefined) return stopped ? 'net_kernel_terminated' : 'disconnect';
  if (e instanceof ProtocolError) return 'protocol_error';
  if (e instanceof DistError && e.code === 'BEAM_ERR_DIST_TICK_TIMEOUT') return 'net_tick_timeout';
  if (e instanceof DistError && e.code === 'BEAM_ERR_DIST_REPLACED') return 'replaced';
  return 'connection_closed';
}

export class Node extends EventEmitter<NodeEvents> implements Outbox, SpawnContext {
  /** `alive@host`. */
  readonly name: string;
  readonly atom: Atom;
  /** Our creation (from EPMD's reply), in every pid and ref we make. */
  readonly creation: number;
  /** The port we accept connections on. */
  readonly port: number;
  readonly longNames: boolean;
  readonly hidden: boolean;
  /** The node's JSON mode (NodeStartOptions.json), or undefined when off. */
  readonly json: JsonOptions | undefined;
  /** @internal */
  readonly runtime: Runtime;
  private readonly network: DistNetwork;
  /** Our EPMD registration, registered again when EPMD drops it (epmd-keeper.ts). */
  private readonly registration: RegistrationKeeper | undefined;
  private readonly epmdServer: EpmdServer | undefined;
  private readonly connectTimeout: number;
  private readonly rpcHandlers = new RpcHandlers();
  private readonly dialer: Dialer;
  private readonly system: Process;
  private readonly pgScopes = new Map<Atom, PgScope>();
  private readonly pubsubs = new Map<Atom, PhoenixPubSub>();
  private ioServer: IoServer | undefined;
  private stopped = false;

  private constructor(a: {
    network: DistNetwork;
    registration: RegistrationKeeper | undefined;
    epmdServer: EpmdServer | undefined;
    port: number;
    hidden: boolean;
    connectTimeout: number;
    mailboxLimit: number | undefined;
    json: JsonOptions | undefined;
  }) {
    super();
    this.json = a.json;
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
      this.dialer.flush(atom(name), conn);
      this.emit('nodeup', name, { hidden: conn.hidden, initiator: conn.initiator });
    });
    this.network.on('nodedown', (name, reason) => {
      log('nodedown %s: %s', name, reason?.message ?? 'closed by us');
      if (reason instanceof ProtocolError) {
        warn(`beamnode ${this.name} dropped its connection to ${reason.message}`, 'BEAMNODE_PROTOCOL_ERROR');
        this.emit('protocolError', reason);
      }
      this.runtime.nodeDown(atom(name));
      const clean = reason instanceof DistError && (reason.code === 'BEAM_ERR_DIST_CLOSED' || reason.code === 'BEAM_ERR_DIST_REPLACED');
      this.emit('nodedown', name, nodedownReason(reason, this.stopped), clean ? undefined : reason);
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
    this.dialer = new Dialer(this.network, (node) => this.connection(node));
    startBuiltins(this, this.rpcHandlers);
  }

  /** Starts a node: listen, register with EPMD (creation from its reply), answer peers. */
  static async start(o: NodeStartOptions): Promise<Node> {
    o.signal?.throwIfAborted();
    if (o.decodeOptions?.atomsAsStrings) {
      throw new NodeError(
        'BEAM_ERR_NODE_BAD_OPTION',
        "decodeOptions.atomsAsStrings cannot apply to a Node: gen_server calls, rpc and 'DOWN'/'EXIT' messages are matched by their atoms. Decode atoms as strings yourself (formatTerm, or atom.name) where you need them",
      );
    }
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
        json: jsonOptions(o.json),
      });
    } catch (e) {
      await registration?.close();
      await network.close();
      await epmdServer?.close();
      throw e;
    }
  }

  // ---- processes -----------------------------------------------------------------------------

  /** A new JS process (trapping exits by default, see process.ts); `json` (default: the node's) picks JSON mode. */
  spawn(o: SpawnOptions & { json: true | JsonOptions }): JsonProcess;
  spawn(o?: SpawnOptions): Process;
  spawn(o: SpawnOptions = {}): Process | JsonProcess {
    return this.runtime.spawn({ ...o, json: modeOf(o.json, this.json) });
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
  send(dest: Dest | Reference, msg: JsonInput, o: SendOptions & { json: true | JsonOptions }): Promise<void>;
  send(dest: Dest | Reference, msg: Encodable, o?: SendOptions): Promise<void>;
  send(dest: Dest | Reference, msg: JsonInput | Encodable, o: SendOptions = {}): Promise<void> {
    return this.system.send(dest, msg as Term, { ...o, json: modeOf(o.json, this.json) ?? false });
  }

  /** exit/2 from the node's own pid (to a pid or an alias). */
  exit(pid: Pid | Reference, reason: Term): void {
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
  async peer(node: Atom, o: { signal?: AbortSignal; timeout?: number }): Promise<{ alias: boolean; spawn: boolean }> {
    const conn = await this.connection(node, { signal: o.signal, timeout: Math.min(o.timeout ?? this.connectTimeout, this.connectTimeout) });
    // OTP 30 drops ALIAS_SEND (and may drop the ALIAS flag): op 37 carries alias sends then.
    return { alias: (conn.flags & (DFLAG.ALIAS | DFLAG.ALTACT_SIG)) !== 0n, spawn: (conn.flags & DFLAG.SPAWN) !== 0n };
  }

  /** @internal Outbox: a signal for a process on another node. Connects on first use; keeps order while connecting. */
  signal(node: Atom, sig: OutSignal): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeError('BEAM_ERR_NODE_STOPPED', `node ${this.name} is stopped`));
    if (node === this.atom) return Promise.reject(new NodeError('BEAM_ERR_NODE_BAD_DEST', 'a signal to our own node went to the wire'));
    return this.dialer.signal(node, sig);
  }

  // ---- calls ---------------------------------------------------------------------------------

  /**
   * gen_server:call/3 (see calls.ts): resolves with the reply; CallError/TimeoutError otherwise.
   * With `validate` (a guard such as `isPid`) the reply is checked and typed (UnexpectedReplyError).
   * With `json` (default: the node's) the request goes through fromJson and the reply through toJson.
   */
  call(dest: Dest, request: JsonInput, o: CallOptions & { json: true | JsonOptions }): Promise<JsonTerm>;
  call<T extends Term = Term>(dest: Dest, request: Encodable, o?: CallOptions<T>): Promise<T>;
  async call(dest: Dest, request: JsonInput | Encodable, o: CallOptions = {}): Promise<Term | JsonTerm> {
    const json = modeOf(o.json, this.json);
    try {
      if (!json) return validated(await genCall(this, dest, request as Encodable, o), o.validate, `call to ${describeDest(this.runtime, dest)}`);
      return toJson(await genCall(this, dest, fromJson(request as JsonInput, json), o));
    } catch (e) {
      throw encodePathIn(e, request as JsonInput, json ? 'json' : 'term'); // `$` is the request, not the '$gen_call' envelope
    }
  }

  /** gen_server:cast/2; `json` (default: the node's): `msg` goes through fromJson. */
  cast(dest: Dest, msg: JsonInput, o: { json: true | JsonOptions }): Promise<void>;
  cast(dest: Dest, msg: Encodable, o?: { json?: JsonMode }): Promise<void>;
  cast(dest: Dest, msg: JsonInput | Encodable, o: { json?: JsonMode } = {}): Promise<void> {
    const json = modeOf(o.json, this.json);
    try {
      return genCast(this.system, dest, json ? fromJson(msg as JsonInput, json) : (msg as Term)).catch((e: unknown) => Promise.reject(encodePathIn(e, msg as JsonInput, json ? 'json' : 'term')));
    } catch (e) {
      return Promise.reject(encodePathIn(e, msg as JsonInput, 'json'));
    }
  }

  /**
   * rpc:call/5 (as erpc does it, erpc.ts): the value, or RpcError for `{badrpc, Reason}`.
   * With `output`, the call's group leader is a JS I/O server and its io:format output reaches
   * the callback.
   */
  rpc(node: string | Atom, module: string | Atom, fun: string | Atom, args: JsonInput[], o: RpcOptions & { json: true | JsonOptions }): Promise<JsonTerm>;
  rpc<T extends Term = Term>(node: string | Atom, module: string | Atom, fun: string | Atom, args: readonly Encodable[], o?: RpcOptions<T>): Promise<T>;
  async rpc(node: string | Atom, module: string | Atom, fun: string | Atom, argv: readonly (JsonInput | Encodable)[], o: RpcOptions = {}): Promise<Term | JsonTerm> {
    const json = modeOf(o.json, this.json);
    const what = `rpc ${String(module)}:${String(fun)}/${argv.length} on ${String(node)}`;
    try {
      const args = json ? argv.map((a) => fromJson(a as JsonInput, json)) : (argv as readonly Encodable[]);
      const r = await this.rpcTerms(node, module, fun, args, o);
      return json ? toJson(r) : validated(r, o.validate, what);
    } catch (e) {
      throw encodePathIn(e, argv as JsonInput[], json ? 'json' : 'term'); // `$[1]` is the second argument, not a part of the request's envelope
    }
  }

  private async rpcTerms(node: string | Atom, module: string | Atom, fun: string | Atom, args: readonly Encodable[], o: RpcOptions): Promise<Term> {
    if (!o.output) return rpcCall(this, node, module, fun, args, o);
    const io = startIoServer(this, o.output);
    try {
      return await rpcCall(this, node, module, fun, args, { ...o, groupLeader: io.pid });
    } finally {
      io.close(); // processes the call spawned that print later see a dead group leader, as in Erlang
    }
  }

  /**
   * erlang:spawn_request/5 on another node (see spawn-remote.ts): resolves with the new pid (and,
   * with `link`/`monitor`, promises of its exit); SpawnError with Erlang's reason otherwise.
   */
  spawnRemote(node: string | Atom, module: string | Atom, fun: string | Atom, args: readonly Encodable[], o?: SpawnRemoteOptions): Promise<RemoteSpawn> {
    return spawnRemote(this, node, module, fun, args as Term[], o);
  }

  /** @internal SpawnContext: the group leader of remote spawns that name none (output to DEBUG=beamnode:dist:io). */
  defaultGroupLeader(): Pid {
    if (!this.ioServer?.process.alive) {
      const out = createDebug('beamnode:dist:io:output');
      this.ioServer = startIoServer(this, (text) => out('%s', text));
    }
    return this.ioServer.pid;
  }

  /**
   * A JS gen_server registered as `name` (see gen-server.ts). A handler that throws fails that
   * request only (the caller's call exits with `{js_error, <<Message>>}`); `{ crash: true }` and
   * `{ restart }` give Erlang's semantics. `close()` (or `using`) on the result unregisters it.
   * `json` (default: the node's) picks JSON mode for its handlers.
   */
  serve(name: Atom | string, handlers: JsonServerHandlers, o: ServeOptions & { json: true | JsonOptions }): GenServer;
  serve(name: Atom | string, handlers: ServerHandlers, o?: ServeOptions & { json?: JsonMode }): GenServer;
  serve(name: Atom | string, handlers: ServerHandlers | JsonServerHandlers, o: ServeOptions & { json?: JsonMode } = {}): GenServer {
    const json = modeOf(o.json, this.json);
    const h = json ? jsonServerHandlers(handlers as JsonServerHandlers, json) : (handlers as ServerHandlers);
    const n = name instanceof Atom ? name : atom(name);
    const p = this.runtime.spawn({ trapExit: o.trapExit ?? false });
    try {
      this.runtime.register(n, p);
    } catch (e) {
      p.close();
      throw e;
    }
    return runServer(this.runtime, n, p, h, o);
  }

  /**
   * Lets Erlang call `module:fun(Args…)` on this node with rpc:call/erpc:call (and rpc:block_call).
   * The handler gets the argument list; its value is the call's result; a thrown Error raises
   * `error:{js_error, <<Message>>}` over there (ErlangException picks the class and reason).
   * Unregistered functions raise `undef`, as in Erlang. Calling the returned function (or `using`)
   * removes this handler; so does passing `undefined`. With `json` (default: the node's), the
   * handler gets JSON values and answers one.
   */
  handleRpc(module: string | Atom, fun: string | Atom, handler: JsonRpcHandler | undefined, o: { json: true | JsonOptions }): RpcRegistration;
  handleRpc(module: string | Atom, fun: string | Atom, handler: RpcHandler | undefined, o?: { json?: JsonMode }): RpcRegistration;
  handleRpc(module: string | Atom, fun: string | Atom, handler: RpcHandler | JsonRpcHandler | undefined, o: { json?: JsonMode } = {}): RpcRegistration {
    const json = modeOf(o.json, this.json);
    return this.rpcHandlers.set(module, fun, handler && json ? jsonRpcHandler(handler as JsonRpcHandler, json) : (handler as RpcHandler | undefined));
  }

  // ---- pg ------------------------------------------------------------------------------------

  /**
   * Membership of the pg scope `scope` (default `pg`, kernel's default scope) on every connected
   * node that runs it (see pg.ts and docs/node.md). One PgScope per scope name, registered here
   * under that name.
   */
  pg(scope: Atom | string = 'pg', o?: PgOptions): PgScope {
    const a = scope instanceof Atom ? scope : atom(scope);
    const open = this.pgScopes.get(a);
    if (open?.process.alive) return open;
    const s = new PgScope(this, a, o);
    this.pgScopes.set(a, s);
    return s;
  }

  /**
   * A Phoenix.PubSub server of the cluster (`'MyApp.PubSub'`), spoken to as its PG2 adapter does
   * (see phoenix-pubsub.ts and docs/node.md). One object per name; options count on first use.
   */
  phoenixPubSub(name: Atom | string, o?: PubSubOptions): PhoenixPubSub {
    const a = elixirModule(name);
    let ps = this.pubsubs.get(a);
    if (!ps) {
      ps = new PhoenixPubSub(this, a, o);
      this.pubsubs.set(a, ps);
    }
    return ps;
  }

  // ---- stop ----------------------------------------------------------------------------------

  get running(): boolean {
    return !this.stopped;
  }

  /**
   * net_adm:ping/1: connects to `peer` if needed and asks its net_kernel `{is_auth, Node}`.
   * `'pong'` when the peer answers `yes`, `'pang'` otherwise (unreachable, wrong cookie, refused
   * name, timeout): like Erlang's, a ping never throws, but an aborted `signal` does.
   */
  async ping(peer: string, o: { timeout?: number; signal?: AbortSignal } = {}): Promise<'pong' | 'pang'> {
    o.signal?.throwIfAborted();
    try {
      const reply = await this.call([A.netKernel, atom(peer)], new Tuple([A.isAuth, this.atom]), { timeout: o.timeout ?? this.connectTimeout, signal: o.signal });
      return reply === A.yes ? 'pong' : 'pang';
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      log('ping %s: pang (%s)', peer, (e as Error).message);
      return 'pang';
    }
  }

  /** Same as `close()`. */
  stop(): Promise<void> {
    return this.close();
  }

  /** `await using node = await Node.start(…)` closes the node at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Closes every connection, ends every process (`shutdown`), unregisters from EPMD. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.dialer.rejectAll(new NodeError('BEAM_ERR_NODE_STOPPED', `node ${this.name} is stopped`));
    await this.network.close();
    this.runtime.stop(A.shutdown);
    await this.registration?.close();
    await this.epmdServer?.close();
    log('%s stopped', this.name);
  }
}
