/**
 * An embedded EPMD server speaking OTP's epmd protocol, for hosts (or pods) without an epmd: real
 * `erl -start_epmd false` nodes register with it and find each other through it, and OTP's own
 * `epmd -names` lists them. Behaviour follows erts/epmd/src/epmd_srv.c:
 *
 * - one request per connection (`Length:16` + body, body 1..3057 bytes); more bytes than the
 *   length announced, or a request it cannot decode, closes that connection without a reply;
 * - ALIVE2, DUMP, KILL and STOP are served only to local peers (127/8, ::1, or the address the
 *   connection arrived on); other peers are closed without a reply;
 * - ALIVE2: name valid UTF-8, no NUL, 1..255 characters, extra ≤ 1020 bytes, not already
 *   registered, else Result 1 / Creation 99; ALIVE2_X_RESP (32-bit creation) when the node's
 *   HighestVersion ≥ 6, else ALIVE2_RESP with `counter % 3 + 1`. A new name's counter starts at
 *   the Unix time + 1; a name registered again gets its remembered counter + 1 (at least 4);
 * - the registration socket stays open; its close (or any byte on it) unregisters the name;
 * - NAMES and DUMP replies are byte-for-byte epmd's, newest registration first;
 * - KILL answers "NO" while nodes are registered (unless `relaxedCommandCheck`), else "OK" and
 *   the server closes; STOP is honoured only with `relaxedCommandCheck`;
 * - a connection that does not complete its request within `packetTimeout` is closed.
 *
 * Differences: DUMP's `fd = N` shows a connection number; after a refused ALIVE2 the connection is
 * ended (epmd keeps it open until the client closes it, which clients do).
 */
import { EventEmitter } from 'node:events';
import { createServer, isIPv4, type AddressInfo, type Server, type Socket } from 'node:net';
import createDebug from 'debug';
import {
  decodeRequest,
  encodeAlive2Failure,
  encodeAlive2Reply,
  encodeDumpReply,
  encodeNamesReply,
  encodePort2Reply,
  nodeNameFromBytes,
  requestFrameLength,
} from './codec.js';
import { EpmdError } from './errors.js';
import { MAX_EXTRA_BYTES, MAX_REQUEST_BODY, type EpmdRequest, type NodeInfo } from './messages.js';
import { defaultEpmdPort } from './client.js';

const log = createDebug('beamnode:epmd:server');

export interface EpmdServerOptions {
  /** Port to listen on (default: `ERL_EPMD_PORT`, else 4369; 0 = any free port). */
  port?: number;
  /**
   * Address(es) to listen on. Default: all interfaces, as epmd. When given and none is a
   * loopback address, 127.0.0.1 is added (epmd does the same), so local nodes can register.
   */
  address?: string | readonly string[];
  /** Honour STOP, and KILL while nodes are registered (epmd `-relaxed_command_check`). */
  relaxedCommandCheck?: boolean;
  /** Milliseconds a connection has to complete its request (default 60000, epmd's). */
  packetTimeout?: number;
  /** Simultaneous connections (default 1024); more are refused by the listener. */
  maxConnections?: number;
  /** Unregistered names remembered for creation bumping (default 1000, epmd's MAX_UNREG_COUNT). */
  maxRemembered?: number;
}

/** A node registered with the server. */
export interface RegisteredNode extends NodeInfo {
  /** The creation handed out (as sent: 32-bit, or 1..3 for HighestVersion < 6). */
  creation: number;
  /** Address of the registering connection. */
  remoteAddress: string;
  /** Connection number (shown as `fd` in DUMP). */
  connection: number;
  registeredAt: Date;
}

export interface UnregisterInfo {
  node: RegisteredNode;
  reason: 'closed' | 'unexpected-data' | 'stop' | 'server-closed' | 'error';
}

export interface MalformedInfo {
  remoteAddress: string;
  connection: number;
  error: EpmdError;
}

export interface EpmdServerEvents {
  register: [RegisteredNode];
  unregister: [UnregisterInfo];
  /** A connection sent bytes that are not a request (it was closed; the server carries on). */
  malformed: [MalformedInfo];
  /** A local KILL was honoured; the server is closing. */
  kill: [];
}

interface Slot {
  counter: number;
}

interface Conn {
  id: number;
  socket: Socket;
  local: boolean;
  chunks: Buffer[];
  size: number;
  want: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The name this connection holds (after a successful ALIVE2). */
  registered: string | undefined;
  done: boolean;
}

interface Entry {
  node: RegisteredNode;
  conn: Conn;
  slot: Slot;
}

function isLoopback(addr: string): boolean {
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return (isIPv4(a) && a.startsWith('127.')) || a === '::1';
}

export class EpmdServer extends EventEmitter<EpmdServerEvents> {
  private readonly servers: Server[] = [];
  private readonly conns = new Set<Conn>();
  /** Registered names, in registration order (replies list them newest first, as epmd). */
  private readonly reg = new Map<string, Entry>();
  /** Unregistered names → creation counter, oldest first. */
  private readonly remembered = new Map<string, Slot>();
  private nextConn = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly relaxed: boolean;
  private readonly packetTimeout: number;
  private readonly maxRemembered: number;
  private listenPort = 0;

  /** @internal use `startEpmdServer()`. */
  constructor(private readonly opts: EpmdServerOptions = {}) {
    super();
    this.relaxed = opts.relaxedCommandCheck ?? false;
    this.packetTimeout = opts.packetTimeout ?? 60_000;
    this.maxRemembered = opts.maxRemembered ?? 1000;
    if (!(this.packetTimeout > 0)) throw new EpmdError('BEAM_ERR_EPMD_USAGE', `packetTimeout ${this.packetTimeout} is not positive`);
  }

  /** The port the server listens on. */
  get port(): number {
    return this.listenPort;
  }

  /** The bound addresses (`host:port`). */
  get addresses(): string[] {
    return this.servers.map((s) => {
      const a = s.address() as AddressInfo | null;
      return a ? (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : '';
    });
  }

  /** The registered nodes, newest first (NAMES order). */
  nodes(): RegisteredNode[] {
    return [...this.reg.values()].reverse().map((e) => ({ ...e.node, extra: Buffer.from(e.node.extra) }));
  }

  /** @internal */
  async listen(): Promise<void> {
    const port = this.opts.port ?? defaultEpmdPort();
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new EpmdError('BEAM_ERR_EPMD_USAGE', `port ${port} is not 0..65535`);
    let hosts: (string | undefined)[];
    const a = this.opts.address;
    if (a === undefined || (typeof a === 'string' && a.trim() === '')) hosts = [undefined];
    else {
      const list = (typeof a === 'string' ? a.split(/[ ,]+/) : [...a]).filter(Boolean);
      hosts = list.some(isLoopback) ? list : [...list, '127.0.0.1'];
    }
    let bound = port;
    try {
      for (const host of hosts) {
        const srv = createServer({ noDelay: true }, (s) => this.onConnection(s));
        srv.maxConnections = this.opts.maxConnections ?? 1024;
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen({ port: bound, host, exclusive: true }, () => {
            srv.off('error', reject);
            resolve();
          });
        });
        srv.on('error', (err) => log('listener error: %s', err.message));
        this.servers.push(srv);
        bound = (srv.address() as AddressInfo).port; // port 0: the others share the first's port
      }
    } catch (cause) {
      await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      const e = cause as NodeJS.ErrnoException;
      throw new EpmdError('BEAM_ERR_EPMD_LISTEN', `cannot listen on ${hosts.map((h) => `${h ?? '*'}:${bound}`).join(', ')} (${e.code ?? e.message})`, {
        cause,
        port: bound,
      });
    }
    this.listenPort = bound;
    log('listening on %s', this.addresses.join(', '));
  }

  /** Stops listening and closes every connection (which unregisters every node). */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const done = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
      for (const c of [...this.conns]) this.drop(c, 'server-closed');
      await Promise.all(done);
      log('closed');
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------

  private onConnection(socket: Socket) {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const remote = socket.remoteAddress ?? '';
    const c: Conn = {
      id: this.nextConn++,
      socket,
      local: isLoopback(remote) || (remote !== '' && remote === socket.localAddress),
      chunks: [],
      size: 0,
      want: undefined,
      timer: undefined,
      registered: undefined,
      done: false,
    };
    this.conns.add(c);
    c.timer = setTimeout(() => {
      log('#%d %s: no complete request within %d ms, closing', c.id, remote, this.packetTimeout);
      this.drop(c, 'error');
    }, this.packetTimeout);
    socket.on('data', (d: Buffer) => this.onData(c, d));
    socket.on('error', (err) => {
      log('#%d %s: %s', c.id, remote, err.message);
      this.drop(c, 'error');
    });
    socket.on('close', () => this.drop(c, 'closed'));
    socket.on('end', () => {
      // A registration's FIN means the node is gone; a half-sent request is abandoned. After a
      // complete request the reply is still flushing: 'close' follows on its own.
      if (c.registered || !c.done) this.drop(c, 'closed');
    });
  }

  private onData(c: Conn, d: Buffer) {
    if (c.done && !c.registered) return; // reply sent, close under way
    if (c.registered) {
      // epmd: "got more than expected on ALIVE socket": unregister and close.
      log('#%d %d unexpected bytes on the registration of %s', c.id, d.length, c.registered);
      this.drop(c, 'unexpected-data');
      return;
    }
    c.size += d.length;
    if (c.size > 2 + MAX_REQUEST_BODY) {
      this.malformed(c, new EpmdError('BEAM_ERR_EPMD_MALFORMED', `more than ${2 + MAX_REQUEST_BODY} bytes in one request`));
      return;
    }
    c.chunks.push(d);
    const buf = c.chunks.length === 1 ? c.chunks[0] : Buffer.concat(c.chunks, c.size);
    c.chunks = [buf];
    try {
      if (c.want === undefined) c.want = requestFrameLength(buf);
      if (c.want === undefined || buf.length < c.want) return;
      if (buf.length > c.want) {
        throw new EpmdError('BEAM_ERR_EPMD_MALFORMED', `got ${buf.length - 2} bytes in a request of ${c.want - 2}`);
      }
      const req = decodeRequest(buf.subarray(2));
      c.chunks = [];
      clearTimeout(c.timer);
      c.done = true;
      this.handle(c, req);
    } catch (e) {
      if (e instanceof EpmdError) this.malformed(c, e);
      else throw e;
    }
  }

  private malformed(c: Conn, error: EpmdError) {
    const remoteAddress = c.socket.remoteAddress ?? '';
    log('#%d %s: malformed request, closing: %s', c.id, remoteAddress, error.message);
    this.drop(c, 'error');
    this.emit('malformed', { remoteAddress, connection: c.id, error });
  }

  private handle(c: Conn, req: EpmdRequest) {
    const remote = c.socket.remoteAddress ?? '';
    switch (req.kind) {
      case 'alive2':
        if (!c.local) return this.refuseRemote(c, 'ALIVE2_REQ');
        return this.alive2(c, req);
      case 'port_please2': {
        let name: string;
        try {
          name = nodeNameFromBytes(req.name);
        } catch {
          log('#%d %s: PORT_PLEASE2 with an invalid name, closing', c.id, remote);
          return this.finish(c);
        }
        const e = this.reg.get(name);
        log('#%d %s: PORT_PLEASE2 %s -> %s', c.id, remote, name, e ? e.node.port : 'not registered');
        return this.finish(c, encodePort2Reply(e?.node));
      }
      case 'names':
        log('#%d %s: NAMES', c.id, remote);
        return this.finish(c, encodeNamesReply(this.listenPort, this.nodes()));
      case 'dump': {
        if (!c.local) return this.refuseRemote(c, 'DUMP_REQ');
        const active = this.nodes().map((n) => ({ name: n.name, port: n.port, fd: n.connection }));
        const old = [...this.remembered.keys()].map((name) => ({ name, port: 0, fd: -1 }));
        return this.finish(c, encodeDumpReply(this.listenPort, active, old));
      }
      case 'kill': {
        if (!c.local) return this.refuseRemote(c, 'KILL_REQ');
        if (!this.relaxed && this.reg.size > 0) {
          log('#%d KILL refused: %d live nodes', c.id, this.reg.size);
          return this.finish(c, Buffer.from('NO'));
        }
        log('#%d KILL: closing', c.id);
        c.socket.end(Buffer.from('OK'), () => {
          this.emit('kill');
          void this.close();
        });
        return;
      }
      case 'stop': {
        if (!c.local) return this.refuseRemote(c, 'STOP_REQ');
        if (!this.relaxed) {
          log('#%d STOP refused: no relaxedCommandCheck', c.id);
          return this.finish(c);
        }
        const name = req.name.toString('utf8');
        const e = this.reg.get(name);
        if (!e) return this.finish(c, Buffer.from('NOEXIST'));
        this.drop(e.conn, 'stop');
        return this.finish(c, Buffer.from('STOPPED'));
      }
      default: {
        const never: never = req;
        return never;
      }
    }
  }

  private refuseRemote(c: Conn, what: string) {
    log('#%d %s from non-local %s, closing', c.id, what, c.socket.remoteAddress);
    this.finish(c);
  }

  private alive2(c: Conn, req: Extract<EpmdRequest, { kind: 'alive2' }>) {
    const extended = req.highestVersion >= 6;
    let name: string;
    try {
      name = nodeNameFromBytes(req.name);
      if (req.extra.length > MAX_EXTRA_BYTES) throw new EpmdError('BEAM_ERR_EPMD_MALFORMED', `extra of ${req.extra.length} bytes`);
    } catch (e) {
      log('#%d ALIVE2 refused: %s', c.id, (e as Error).message);
      return this.finish(c, encodeAlive2Failure(extended));
    }
    if (this.reg.has(name)) {
      log('#%d ALIVE2 refused: %s already registered', c.id, name);
      return this.finish(c, encodeAlive2Failure(extended));
    }
    let slot = this.remembered.get(name);
    if (slot) {
      this.remembered.delete(name);
      bump(slot);
    } else {
      slot = { counter: Math.floor(Date.now() / 1000) >>> 0 };
      bump(slot);
    }
    const creation = extended ? slot.counter : (slot.counter % 3) + 1;
    const node: RegisteredNode = {
      port: req.port,
      nodeType: req.nodeType,
      protocol: req.protocol,
      highestVersion: req.highestVersion,
      lowestVersion: req.lowestVersion,
      name,
      extra: req.extra,
      creation,
      remoteAddress: c.socket.remoteAddress ?? '',
      connection: c.id,
      registeredAt: new Date(),
    };
    this.reg.set(name, { node, conn: c, slot });
    c.registered = name;
    c.socket.setKeepAlive(true, 30_000);
    c.socket.write(encodeAlive2Reply(0, creation, extended));
    log('#%d registered %s port %d type %d hi %d lo %d creation %d', c.id, name, req.port, req.nodeType, req.highestVersion, req.lowestVersion, creation);
    this.emit('register', { ...node });
  }

  /** Sends the last reply (if any) and closes the connection. */
  private finish(c: Conn, reply?: Buffer) {
    c.done = true;
    clearTimeout(c.timer);
    if (reply) c.socket.end(reply);
    else c.socket.end();
    // A peer that never reads must not hold the connection.
    setTimeout(() => c.socket.destroy(), 5000).unref();
  }

  /** Closes a connection and unregisters what it held. */
  private drop(c: Conn, reason: UnregisterInfo['reason']) {
    clearTimeout(c.timer);
    if (c.registered) {
      const name = c.registered;
      c.registered = undefined;
      const e = this.reg.get(name);
      if (e && e.conn === c) {
        this.reg.delete(name);
        this.remembered.set(name, e.slot);
        if (this.remembered.size > this.maxRemembered) {
          const oldest = this.remembered.keys().next().value;
          if (oldest !== undefined) this.remembered.delete(oldest);
        }
        log('#%d unregistered %s (%s)', c.id, name, reason);
        this.emit('unregister', { node: { ...e.node }, reason });
      }
    }
    if (this.conns.delete(c)) c.socket.destroy();
  }
}

/** epmd's bump_creation: +1, wrapping in 32 bits, never below 4 (1..3 are the old creations). */
function bump(slot: Slot) {
  slot.counter = (slot.counter + 1) >>> 0;
  if (slot.counter < 4) slot.counter = 4;
}

/** Starts an embedded EPMD server and resolves once it listens. */
export async function startEpmdServer(opts: EpmdServerOptions = {}): Promise<EpmdServer> {
  const s = new EpmdServer(opts);
  await s.listen();
  return s;
}
