/**
 * Our node's place in the distribution network: its identity, the listening socket, and the
 * table of connections by peer name, as net_kernel keeps it.
 *
 * Dialing (`connect`) follows inet_tcp_dist: check the name against our names mode, resolve the
 * host, ask the EPMD on that address for the port, TCP connect, handshake as initiator.
 * Concurrent callers for one peer share one attempt. Inbound connections run the acceptor's
 * handshake; a simultaneous connect is settled as net_kernel does (the node whose name is the
 * greater atom keeps its own attempt). EPMD registration is not done here: the Node registers the
 * port that `listen()` returns and sets the creation it gets with `setCreation()`.
 */
import { EventEmitter } from 'node:events';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import createDebug from 'debug';
import type { DecodeOptions } from '../../etf/index.js';
import { atom, type Atom, type Term } from '../../etf/types.js';
import { portPlease } from '../../epmd/client.js';
import { Connection, DEFAULT_TICK_TIME } from './connection.js';
import type { Control } from '../protocol/control.js';
import { resolveCookie } from './cookie.js';
import { TimeoutError } from '../../errors.js';
import { DistError, HandshakeError } from '../errors.js';
import { ourFlags } from '../protocol/flags.js';
import type { FragmentLimits } from '../protocol/fragments.js';
import {
  DEFAULT_SETUP_TIME,
  handshakeOtherStarted,
  handshakeWeStarted,
  type AcceptDecision,
  type HandshakeIdentity,
  type HandshakeResult,
} from './handshake.js';
import { checkDialName, checkOwnName, compareNodeNames, parseNodeName } from '../protocol/names.js';
import { tcpTransport, tlsTransport, type DistTlsOptions, type Transport } from './transport.js';

const log = createDebug('beamnode:dist:network');

/**
 * Terms one incoming frame may decode to (maxTerms), unless decodeOptions.limits.maxTerms says
 * otherwise: 4 Mi terms cost at most ~200 MiB of heap; big binaries count as one term each.
 */
export const DEFAULT_MAX_FRAME_TERMS = 4 * 1024 * 1024;

/** Unauthenticated handshakes held at once (see DistNetworkOptions.maxInboundHandshakes). */
export const DEFAULT_MAX_INBOUND_HANDSHAKES = 128;

export interface DistNetworkOptions {
  /** Our full node name, `alive@host`. */
  name: string;
  /** The cookie; default: ERLANG_COOKIE, else ~/.erlang.cookie (see cookie.ts). */
  cookie?: string;
  /** Our creation; default a random non-zero value (set the EPMD's with setCreation()). */
  creation?: number;
  /** Advertise PUBLISHED (a visible node). Default false: hidden. Ignored when `flags` is given. */
  published?: boolean;
  /** Advertise DIST_HDR_ATOM_CACHE (default on). Ignored when `flags` is given. See docs/hot-path.md. */
  atomCache?: boolean;
  /** Advertise FRAGMENTS (default on). Ignored when `flags` is given. */
  fragments?: boolean;
  /** Bounds on reassembling a peer's fragmented messages (per connection; see fragments.ts). */
  fragmentLimits?: Partial<FragmentLimits>;
  /** The exact flags to advertise (default: ourFlags({ published, atomCache, fragments })). */
  flags?: bigint;
  /** Flags a peer must have (default: the OTP 26 mandatory set). */
  requiredFlags?: bigint;
  /** Long names (`-name`) or short names (`-sname`); default: long when our host has a dot or is an IP. */
  longNames?: boolean;
  /** net_ticktime in ms (default 60000). */
  tickTime?: number;
  /** Per handshake step timeout in ms, like net_setuptime (default 7000). */
  setupTime?: number;
  /** The EPMD port to ask on peers' hosts (default ERL_EPMD_PORT, else 4369). */
  epmdPort?: number;
  /** net_kernel:allow/1: when non-empty, only these names (or `host` / `alive@` patterns) may connect. */
  allow?: readonly string[];
  /** Largest frame accepted on a connection (default 128 MiB). */
  maxFrame?: number;
  /**
   * Inbound handshakes in progress at once (default 128). Before the cookie is checked a peer
   * costs up to 1 MiB of buffer for up to setupTime per step; past this many, new connections are
   * closed at once (handshakeFailed BEAM_ERR_DIST_BUSY) instead of piling up.
   */
  maxInboundHandshakes?: number;
  /**
   * Options for decoding incoming terms. Unless `limits.maxTerms` is given, a frame may hold at
   * most DEFAULT_MAX_FRAME_TERMS terms: a JS term costs up to ~40× its ETF bytes (a list of nils,
   * a tuple of empty tuples), so a 128 MiB frame of those would need ~5 GiB of heap.
   */
  decodeOptions?: DecodeOptions;
  /** Host name resolution (default dns.lookup: IPv4 first, as inet_tcp_dist; else any family). */
  lookup?: (host: string) => Promise<string>;
  /** TLS distribution (as `-proto_dist inet_tls`) for dialing and accepting; see transport.ts. Default: plain TCP. */
  tls?: DistTlsOptions;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Overall deadline for this call in ms (default: 4 × setupTime). */
  timeout?: number;
  /** Dial this address instead of resolving the peer's host (the name is still the one checked). */
  address?: string;
  /** Dial this port instead of asking EPMD. */
  port?: number;
}

export interface DistNetworkEvents {
  nodeup: [name: string, conn: Connection];
  nodedown: [name: string, reason: Error | undefined];
  control: [conn: Connection, control: Control, message: Term | undefined];
  /** A handshake failed (either direction). Informational: connect() callers get the error too. */
  handshakeFailed: [error: Error, initiator: boolean];
}

interface Deferred {
  promise: Promise<Connection>;
  resolve(c: Connection): void;
  reject(e: Error): void;
}

function deferred(): Deferred {
  let resolve!: (c: Connection) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<Connection>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // nobody may be waiting: never an unhandled rejection
  return { promise, resolve, reject };
}

/** A connection being set up: by us (`out`) or by the peer (`in`); callers wait on `done`. */
interface Pending {
  done: Deferred;
  owner: 'out' | 'in';
  /** Aborts our outgoing attempt (when a simultaneous inbound one takes over). */
  abort?: AbortController;
  /** Set when our attempt got `nok`: wait this long for the peer's attempt to arrive. */
  nokTimer?: NodeJS.Timeout;
}

/** The distribution network of one node. */
export class DistNetwork extends EventEmitter<DistNetworkEvents> {
  readonly name: string;
  readonly nameAtom: Atom;
  readonly longNames: boolean;
  readonly flags: bigint;
  readonly tickTime: number;
  readonly setupTime: number;
  private readonly cookie: string;
  private creationValue: number;
  private readonly o: DistNetworkOptions;
  private readonly up = new Map<string, Connection>();
  private readonly pending = new Map<string, Pending>();
  private server: Server | undefined;
  private port: number | undefined;
  private readonly closing = new AbortController();
  private readonly inbound = new Set<Socket>();
  private readonly transport: Transport;
  /** decodeOptions with the default per-frame maxTerms filled in. */
  private readonly frameDecodeOptions: DecodeOptions;

  constructor(o: DistNetworkOptions) {
    super();
    const host = parseNodeName(o.name).host;
    this.longNames = o.longNames ?? (host.includes('.') || isIP(host) !== 0);
    checkOwnName(o.name, this.longNames);
    this.name = o.name;
    this.nameAtom = atom(o.name);
    this.cookie = resolveCookie({ cookie: o.cookie });
    this.creationValue = o.creation ?? randomCreation();
    this.flags = o.flags ?? ourFlags({ published: o.published, atomCache: o.atomCache, fragments: o.fragments });
    this.tickTime = o.tickTime ?? DEFAULT_TICK_TIME;
    this.setupTime = o.setupTime ?? DEFAULT_SETUP_TIME;
    this.transport = o.tls ? tlsTransport(o.tls, this.setupTime) : tcpTransport;
    this.frameDecodeOptions = { ...o.decodeOptions, limits: { maxTerms: DEFAULT_MAX_FRAME_TERMS, ...o.decodeOptions?.limits } };
    this.o = o;
  }

  /** Our creation (in send_name/challenge and in every pid/ref/port we make). */
  get creation(): number {
    return this.creationValue;
  }

  /** Sets the creation (the one EPMD's ALIVE2 reply gave). Applies to connections made afterwards. */
  setCreation(creation: number): void {
    if (!Number.isInteger(creation) || creation <= 0 || creation > 0xffffffff) throw new RangeError(`creation ${creation} must be a non-zero 32-bit value`);
    this.creationValue = creation;
  }

  /** The port we listen on (after listen()). */
  get listenPort(): number | undefined {
    return this.port;
  }

  /** The open connections by peer name. */
  connections(): ReadonlyMap<string, Connection> {
    return this.up;
  }

  /** The open connection to `peer`, if any. */
  get(peer: string): Connection | undefined {
    return this.up.get(peer);
  }

  private identity(): HandshakeIdentity {
    return { name: this.name, cookie: this.cookie, creation: this.creationValue, flags: this.flags, requiredFlags: this.o.requiredFlags };
  }

  // ---- listening and accepting -----------------------------------------------------------------

  /** Starts accepting connections; resolves with the port (register it with EPMD). */
  listen(o: { port?: number; address?: string } = {}): Promise<number> {
    if (this.server) return Promise.reject(new DistError('BEAM_ERR_DIST_USAGE', 'already listening'));
    if (this.closing.signal.aborted) return Promise.reject(new DistError('BEAM_ERR_DIST_CLOSED', 'the network is closed'));
    const server = this.transport.createServer(
      (s) => this.accept(s),
      (e) => this.emit('handshakeFailed', e, false),
    );
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, o.address, () => {
        server.off('error', reject);
        server.on('error', (e) => log('listen socket error: %s', e.message));
        this.port = (server.address() as { port: number }).port;
        log('%s listening on %s:%d', this.name, o.address ?? '*', this.port);
        resolve(this.port);
      });
    });
  }

  private accept(socket: Socket): void {
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    const max = this.o.maxInboundHandshakes ?? DEFAULT_MAX_INBOUND_HANDSHAKES;
    if (this.inbound.size >= max) {
      log('refusing %s: %d inbound handshakes in progress (maxInboundHandshakes)', from, this.inbound.size);
      socket.on('error', () => {});
      socket.destroy();
      this.emit('handshakeFailed', new DistError('BEAM_ERR_DIST_BUSY', `refused ${from}: ${max} inbound handshakes in progress (maxInboundHandshakes)`), false);
      return;
    }
    this.inbound.add(socket);
    socket.on('error', () => {}); // the handshake/connection report errors; never crash on one
    handshakeOtherStarted(socket, this.identity(), from, {
      setupTime: this.setupTime,
      headerBytes: this.transport.handshakeHeaderBytes,
      signal: this.closing.signal,
      allow: this.o.allow,
      markPending: (peer, hidden) => this.markPending(peer, hidden),
      waitPending: (peer) => this.replaceUp(peer),
      abandon: (peer) => this.abandonInbound(peer),
    }).then(
      (hs) => {
        this.inbound.delete(socket);
        const conn = this.install(socket, hs);
        const p = this.pending.get(hs.peer);
        if (p && p.owner === 'in') {
          this.pending.delete(hs.peer);
          if (p.nokTimer) clearTimeout(p.nokTimer);
          p.done.resolve(conn);
        }
      },
      (e: Error) => {
        this.inbound.delete(socket);
        log('inbound from %s failed: %s', from, e.message);
        this.emit('handshakeFailed', e, false);
      },
    );
  }

  /** net_kernel's accept_pending: what to answer a peer that dials us. */
  private markPending(peer: string, _hidden: boolean): AcceptDecision {
    if (peer === this.name) return 'nok'; // OTP: "Cannot get connection id" and nok
    if (this.up.has(peer)) {
      const p = this.pending.get(peer);
      if (p) return 'already_pending';
      this.pending.set(peer, { done: deferred(), owner: 'in' });
      return 'alive';
    }
    const p = this.pending.get(peer);
    if (p) {
      if (p.owner === 'out' && !p.nokTimer && compareNodeNames(this.name, peer) > 0) return 'nok';
      // The peer's attempt wins: cancel ours; callers waiting on it get this connection.
      if (p.abort) p.abort.abort(new DistError('BEAM_ERR_DIST_SIMULTANEOUS', `simultaneous connect with ${peer}: its attempt won`, { peer }));
      p.owner = 'in';
      return 'ok_simultaneous';
    }
    this.pending.set(peer, { done: deferred(), owner: 'in' });
    return 'ok';
  }

  /** After `alive` → `true`: the old connection is dead; close it and let the new one in. */
  private async replaceUp(peer: string): Promise<void> {
    const old = this.up.get(peer);
    if (old) old.close(new DistError('BEAM_ERR_DIST_REPLACED', `connection to ${peer} replaced by a new one from the peer`, { peer }));
  }

  private abandonInbound(peer: string): void {
    const p = this.pending.get(peer);
    if (p && p.owner === 'in' && !p.nokTimer) {
      this.pending.delete(peer);
      p.done.reject(new DistError('BEAM_ERR_DIST_CONNECT', `the connection from ${peer} failed during its handshake`, { peer }));
    }
  }

  /** Builds the Connection for a finished handshake and puts it in the table. */
  private install(socket: Socket, hs: HandshakeResult): Connection {
    const conn = new Connection(socket, hs, {
      tickTime: this.tickTime,
      maxFrame: this.o.maxFrame,
      decodeOptions: this.frameDecodeOptions,
      fragmentLimits: this.o.fragmentLimits,
    });
    const prev = this.up.get(hs.peer);
    if (prev && prev !== conn) prev.close(new DistError('BEAM_ERR_DIST_REPLACED', `connection to ${hs.peer} replaced`, { peer: hs.peer }));
    this.up.set(hs.peer, conn);
    conn.on('control', (c, m) => this.emit('control', conn, c, m));
    conn.once('close', (reason) => {
      if (this.up.get(hs.peer) === conn) this.up.delete(hs.peer);
      this.emit('nodedown', hs.peer, reason);
    });
    this.emit('nodeup', hs.peer, conn);
    return conn;
  }

  // ---- dialing ---------------------------------------------------------------------------------

  /**
   * The connection to `peer` (`alive@host`, exactly the peer's own name): the open one, the one
   * being set up, or a new one. Rejects with DistError (bad/illegal name, unresolvable host,
   * TCP), EpmdError (EPMD unreachable, name not registered) or HandshakeError.
   */
  connect(peer: string, o: ConnectOptions = {}): Promise<Connection> {
    try {
      o.signal?.throwIfAborted();
      if (this.closing.signal.aborted) throw new DistError('BEAM_ERR_DIST_CLOSED', 'the network is closed', { peer });
      checkDialName(peer, this.longNames);
      if (peer === this.name) throw new DistError('BEAM_ERR_DIST_SELF', `${peer} is our own name`, { peer });
    } catch (e) {
      return Promise.reject(e);
    }
    const existing = this.up.get(peer);
    if (existing && !existing.closed) return Promise.resolve(existing);
    let p = this.pending.get(peer);
    if (!p) {
      const abort = new AbortController();
      const entry: Pending = { done: deferred(), owner: 'out', abort };
      this.pending.set(peer, entry);
      this.dial(peer, entry, o).then(
        (conn) => {
          if (this.pending.get(peer) === entry) this.pending.delete(peer);
          entry.done.resolve(conn);
        },
        (e: Error) => this.dialFailed(peer, entry, e),
      );
      p = entry;
    }
    return withDeadline(p.done.promise, o.timeout ?? this.setupTime * 4, o.signal, 'connect', `connect to ${peer}`, peer);
  }

  private dialFailed(peer: string, entry: Pending, e: Error): void {
    this.emit('handshakeFailed', e, true);
    if (this.pending.get(peer) !== entry) {
      entry.done.reject(e);
      return;
    }
    if (entry.owner === 'in') return; // an inbound attempt took over; it settles `done`
    if (e instanceof HandshakeError && e.code === 'BEAM_ERR_HANDSHAKE_NOK') {
      // The peer is dialing us and its attempt wins: wait for it to arrive (net_kernel: the
      // setup process "waits to be killed").
      entry.owner = 'in';
      entry.nokTimer = setTimeout(() => {
        if (this.pending.get(peer) === entry) this.pending.delete(peer);
        entry.done.reject(e);
      }, this.setupTime * 2);
      entry.nokTimer.unref();
      return;
    }
    this.pending.delete(peer);
    entry.done.reject(e);
  }

  private async dial(peer: string, entry: Pending, o: ConnectOptions): Promise<Connection> {
    const signal = AbortSignal.any([entry.abort!.signal, this.closing.signal]);
    const { alive, host } = parseNodeName(peer);
    const address = o.address ?? (await this.resolve(host, peer, signal));
    signal.throwIfAborted();
    const port = o.port ?? (await portPlease(alive, address, { port: this.o.epmdPort, timeout: this.setupTime, signal })).port;
    log('%s dialing %s:%d', peer, address, port);
    const socket = await this.transport.connect(address, port, this.setupTime, signal, peer);
    const hs = await handshakeWeStarted(socket, this.identity(), peer, {
      setupTime: this.setupTime,
      headerBytes: this.transport.handshakeHeaderBytes,
      signal,
      onAlive: () => true,
    });
    return this.install(socket, hs);
  }

  private async resolve(host: string, peer: string, signal: AbortSignal): Promise<string> {
    if (isIP(host)) return host;
    const f = this.o.lookup ?? lookupPreferIPv4;
    try {
      return await withDeadline(f(host), this.setupTime, signal, 'resolve', `resolve ${host}`, peer);
    } catch (e) {
      if (e instanceof DistError || e instanceof TimeoutError) throw e;
      throw new DistError('BEAM_ERR_DIST_UNRESOLVED', `cannot resolve the host of ${peer}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        cause: e,
        peer,
      });
    }
  }

  /** Closes the connection to `peer` (nodedown follows). Returns false when there was none. */
  disconnect(peer: string): boolean {
    const c = this.up.get(peer);
    if (!c) return false;
    c.close();
    return true;
  }

  /** Stops listening, aborts attempts in progress and closes every connection. */
  async close(): Promise<void> {
    if (!this.closing.signal.aborted) this.closing.abort(new DistError('BEAM_ERR_DIST_CLOSED', 'the network is closed'));
    for (const s of this.inbound) s.destroy();
    for (const [peer, p] of this.pending) {
      if (p.nokTimer) clearTimeout(p.nokTimer);
      p.done.reject(new DistError('BEAM_ERR_DIST_CLOSED', 'the network is closed', { peer }));
    }
    this.pending.clear();
    for (const c of [...this.up.values()]) c.close();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Races `p` against a timeout and a signal (the underlying work is not cancelled by this). */
function withDeadline<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, phase: 'connect' | 'resolve', what: string, peer: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const cleanup = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      cleanup();
      reject(new TimeoutError(phase, what, ms, { peer }));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/** IPv4 first, as inet_tcp_dist (inet:getaddr(Host, inet)); any family when the host has no IPv4 address. */
async function lookupPreferIPv4(host: string): Promise<string> {
  try {
    return (await dnsLookup(host, { family: 4 })).address;
  } catch {
    return (await dnsLookup(host, { family: 0 })).address;
  }
}

function randomCreation(): number {
  let c = 0;
  while (c === 0) c = randomBytes(4).readUInt32BE(0);
  return c;
}
