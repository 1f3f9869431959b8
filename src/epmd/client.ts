/**
 * EPMD client: PORT_PLEASE2 (where does node X listen?), NAMES (who is registered?), DUMP, KILL,
 * STOP, and ALIVE2 registration (a socket held open for the node's lifetime; epmd forgets the
 * name when it closes).
 *
 * Every call has a timeout (default 5 s) and takes an AbortSignal. A refused or timed-out connect
 * is BEAM_ERR_EPMD_UNREACHABLE; a connected EPMD that does not answer in time is BEAM_ERR_TIMEOUT.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import createDebug from 'debug';
import {
  decodeAlive2Reply,
  decodeDumpReply,
  decodeKillReply,
  decodeNamesReply,
  decodePort2Reply,
  decodeStopReply,
  encodeAlive2Req,
  encodeDumpReq,
  encodeKillReq,
  encodeNamesReq,
  encodePortPlease2Req,
  encodeStopReq,
  type Decoded,
} from './codec.js';
import { TimeoutError } from '../errors.js';
import { EpmdError } from './errors.js';
import { DEFAULT_EPMD_PORT, NODE_TYPE_HIDDEN, NODE_TYPE_NORMAL, PROTOCOL_TCP, type DumpReply, type NamesEntry, type NodeInfo } from './messages.js';

const log = createDebug('beamnode:epmd:client');

/** Default per-call timeout (connect + reply), like erl_epmd's short waits. */
export const DEFAULT_EPMD_TIMEOUT = 5000;
/** NAMES/DUMP replies are read until epmd closes; this bounds them (about 10 000 nodes). */
export const DEFAULT_MAX_REPLY_BYTES = 1 << 20;

/** The EPMD port to use: `ERL_EPMD_PORT` when set to a valid port, else 4369. */
export function defaultEpmdPort(): number {
  const env = process.env.ERL_EPMD_PORT;
  if (env !== undefined && /^\d+$/.test(env.trim())) {
    const n = Number(env.trim());
    if (n > 0 && n <= 0xffff) return n;
  }
  return DEFAULT_EPMD_PORT;
}

export interface EpmdCallOptions {
  /** EPMD port (default: `ERL_EPMD_PORT`, else 4369). */
  port?: number;
  /** Milliseconds for connect plus reply (default 5000). */
  timeout?: number;
  signal?: AbortSignal;
}

/** What PORT2_RESP says of a registered node (the same fields epmd holds for it). */
export type PortPleaseResult = NodeInfo;

// ---------------------------------------------------------------------------------------------
// One request/reply exchange

interface Exchange<T> {
  host: string;
  port: number;
  request: Buffer;
  /** What the request is, for messages ("PORT_PLEASE2 n1"). */
  what: string;
  /** Called with all bytes so far; returns the result once complete. `ended` = epmd closed. */
  parse: (buf: Buffer, ended: boolean) => T | undefined;
  timeout: number;
  signal?: AbortSignal;
  maxReplyBytes?: number;
  /** Keep the socket open after the reply (registration); otherwise it is destroyed. */
  keep?: boolean;
}

function resolvePort(port: number | undefined): number {
  const p = port ?? defaultEpmdPort();
  if (!Number.isInteger(p) || p <= 0 || p > 0xffff) throw new EpmdError('BEAM_ERR_EPMD_USAGE', `EPMD port ${p} is not 1..65535`);
  return p;
}

function resolveTimeout(ms: number | undefined): number {
  const t = ms ?? DEFAULT_EPMD_TIMEOUT;
  if (!(t > 0) || !Number.isFinite(t)) throw new EpmdError('BEAM_ERR_EPMD_USAGE', `timeout ${t} ms is not a positive number`);
  return t;
}

/**
 * Connects, writes the request, feeds every chunk to `parse` until it yields, and settles once.
 * Resolves with the result and (when `keep`) the still-open socket.
 */
function exchange<T>(x: Exchange<T>): Promise<{ value: T; socket: Socket; rest: Buffer }> {
  const where = `${x.host}:${x.port}`;
  const max = x.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  return new Promise((resolve, reject) => {
    if (x.signal?.aborted) {
      reject(x.signal.reason);
      return;
    }
    let connected = false;
    let settled = false;
    let chunks: Buffer[] = [];
    let size = 0;
    const socket = connect({ host: x.host, port: x.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      fail(
        connected
          ? new TimeoutError('epmd', `${x.what} to EPMD at ${where}`, x.timeout, { host: x.host, port: x.port })
          : new EpmdError('BEAM_ERR_EPMD_UNREACHABLE', `cannot reach EPMD at ${where}: connect timed out after ${x.timeout} ms`, {
              host: x.host,
              port: x.port,
            }),
      );
    }, x.timeout);
    const onAbort = () => fail(x.signal!.reason as Error);
    x.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanup = () => {
      clearTimeout(timer);
      x.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      log('%s %s failed: %s', where, x.what, err.message);
      reject(err);
    }
    function tryParse(ended: boolean) {
      const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      chunks = [buf];
      let value: T | undefined;
      try {
        value = x.parse(buf, ended);
      } catch (e) {
        const err = e instanceof EpmdError ? new EpmdError(e.code, `EPMD at ${where}, ${x.what}: ${e.message}`, { host: x.host, port: x.port, cause: e }) : (e as Error);
        fail(err);
        return;
      }
      if (value === undefined) {
        if (ended) {
          fail(
            new EpmdError(
              size === 0 ? 'BEAM_ERR_EPMD_REFUSED' : 'BEAM_ERR_EPMD_MALFORMED',
              size === 0
                ? `EPMD at ${where} closed the connection without answering ${x.what} (epmd does so for requests it refuses, e.g. DUMP/KILL/STOP from a non-local peer)`
                : `EPMD at ${where} closed the connection after ${size} bytes of an incomplete ${x.what} reply`,
              { host: x.host, port: x.port },
            ),
          );
        }
        return;
      }
      settled = true;
      cleanup();
      if (!x.keep) socket.destroy();
      // Until the registration attaches its own listeners, an error must not go unhandled.
      else socket.once('error', (err) => log('%s %s: socket error before hand-over: %s', where, x.what, err.message));
      resolve({ value, socket, rest: buf });
    }
    function onData(d: Buffer) {
      size += d.length;
      if (size > max) {
        fail(new EpmdError('BEAM_ERR_EPMD_MALFORMED', `EPMD at ${where}: ${x.what} reply exceeds ${max} bytes`, { host: x.host, port: x.port }));
        return;
      }
      chunks.push(d);
      tryParse(false);
    }
    function onEnd() {
      if (!settled) tryParse(true);
    }
    function onClose() {
      if (!settled) tryParse(true);
    }
    function onError(err: NodeJS.ErrnoException) {
      const code = err.code ?? 'error';
      fail(
        new EpmdError(
          'BEAM_ERR_EPMD_UNREACHABLE',
          connected ? `EPMD at ${where}: connection failed during ${x.what} (${code})` : `cannot reach EPMD at ${where} (${code})`,
          { host: x.host, port: x.port, cause: err },
        ),
      );
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.once('connect', () => {
      connected = true;
      log('%s connected, %s', where, x.what);
      socket.write(x.request);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// PORT_PLEASE2

/**
 * Asks the EPMD on `host` where the node with alive name `alive` listens. Throws
 * BEAM_ERR_EPMD_NOT_REGISTERED when epmd does not know the name.
 */
export async function portPlease(alive: string, host: string, opts: EpmdCallOptions = {}): Promise<PortPleaseResult> {
  const port = resolvePort(opts.port);
  const request = encodePortPlease2Req(alive);
  const { value } = await exchange({
    host,
    port,
    request,
    what: `PORT_PLEASE2 ${alive}`,
    parse: (buf) => decodePort2Reply(buf)?.value,
    timeout: resolveTimeout(opts.timeout),
    signal: opts.signal,
  });
  if (value.result !== 0 || !value.node) {
    throw new EpmdError('BEAM_ERR_EPMD_NOT_REGISTERED', `'${alive}' is not registered with EPMD at ${host}:${port} (PORT2_RESP result ${value.result})`, {
      host,
      port,
    });
  }
  const n = value.node;
  log('%s:%d %s -> port %d type %d hi %d lo %d', host, port, alive, n.port, n.nodeType, n.highestVersion, n.lowestVersion);
  return { port: n.port, nodeType: n.nodeType, protocol: n.protocol, highestVersion: n.highestVersion, lowestVersion: n.lowestVersion, name: n.name, extra: n.extra };
}

// ---------------------------------------------------------------------------------------------
// NAMES, DUMP, KILL, STOP

export interface NamesOptions extends EpmdCallOptions {
  /** Bound on the reply (default 1 MiB). */
  maxReplyBytes?: number;
}

/** The names registered with the EPMD on `host`, as `{ name, port }` in epmd's order. */
export async function names(host: string, opts: NamesOptions = {}): Promise<NamesEntry[]> {
  return (await namesReply(host, opts)).nodes;
}

/** The whole NAMES reply: epmd's own port, the nodes, and any lines that did not parse. */
export async function namesReply(host: string, opts: NamesOptions = {}): Promise<ReturnType<typeof decodeNamesReply>> {
  const port = resolvePort(opts.port);
  const { value } = await exchange({
    host,
    port,
    request: encodeNamesReq(),
    what: 'NAMES',
    parse: (buf, ended) => (ended ? decodeNamesReply(buf) : undefined),
    timeout: resolveTimeout(opts.timeout),
    signal: opts.signal,
    maxReplyBytes: opts.maxReplyBytes,
  });
  if (value.unparsed.length) log('%s:%d NAMES: %d unparsed lines', host, port, value.unparsed.length);
  return value;
}

/** DUMP (epmd answers only local peers; a remote epmd closes without a reply → BEAM_ERR_EPMD_REFUSED). */
export async function dump(host: string, opts: NamesOptions = {}): Promise<DumpReply> {
  const port = resolvePort(opts.port);
  const { value } = await exchange({
    host,
    port,
    request: encodeDumpReq(),
    what: 'DUMP',
    parse: (buf, ended) => (ended ? decodeDumpReply(buf) : undefined),
    timeout: resolveTimeout(opts.timeout),
    signal: opts.signal,
    maxReplyBytes: opts.maxReplyBytes,
  });
  return value;
}

/** KILL: `'OK'` when epmd stops, `'NO'` when nodes are still registered. */
export async function kill(host: string, opts: EpmdCallOptions = {}): Promise<'OK' | 'NO'> {
  const port = resolvePort(opts.port);
  const { value } = await exchange({
    host,
    port,
    request: encodeKillReq(),
    what: 'KILL',
    parse: (buf) => decodeKillReply(buf)?.value,
    timeout: resolveTimeout(opts.timeout),
    signal: opts.signal,
  });
  return value;
}

/** STOP a registration by name (epmd honours it only with -relaxed_command_check). */
export async function stop(alive: string, host: string, opts: EpmdCallOptions = {}): Promise<'STOPPED' | 'NOEXIST'> {
  const port = resolvePort(opts.port);
  const { value } = await exchange({
    host,
    port,
    request: encodeStopReq(alive),
    what: `STOP ${alive}`,
    parse: (buf) => decodeStopReply(buf)?.value,
    timeout: resolveTimeout(opts.timeout),
    signal: opts.signal,
  });
  return value;
}

// ---------------------------------------------------------------------------------------------
// ALIVE2 registration

export interface RegisterOptions {
  /** The alive name (before `@`). */
  alive: string;
  /** The node's distribution listen port. */
  port: number;
  /** Register as hidden (NodeType 72) rather than normal (77). Default false, as OTP. */
  hidden?: boolean;
  /** The EPMD host; epmd accepts ALIVE2 only from local peers. Default 127.0.0.1. */
  host?: string;
  /** EPMD port (default: `ERL_EPMD_PORT`, else 4369). */
  epmdPort?: number;
  highestVersion?: number;
  lowestVersion?: number;
  extra?: Uint8Array;
  /** Milliseconds for connect plus reply (default 5000). */
  timeout?: number;
  signal?: AbortSignal;
  /** Called once when the registration ends (same as the 'close' event). */
  onClose?: (info: RegistrationClosed) => void;
}

export interface RegistrationClosed {
  /** True when `close()` ended it; false when epmd closed the socket or it failed. */
  byUs: boolean;
  error?: Error;
}

export interface EpmdRegistrationEvents {
  close: [RegistrationClosed];
}

/**
 * A live registration: epmd keeps the name while this socket is open. Emits 'close' once when it
 * ends; when `byUs` is false the EPMD went away (restart, kill) and the node should register again.
 */
export class EpmdRegistration extends EventEmitter<EpmdRegistrationEvents> {
  /** Creation from the reply: 32-bit when epmd sent ALIVE2_X_RESP, 1..3 from ALIVE2_RESP. */
  readonly creation: number;
  /** True when the reply was ALIVE2_X_RESP (32-bit creation). */
  readonly extended: boolean;
  readonly alive: string;
  readonly port: number;
  readonly nodeType: number;
  readonly host: string;
  readonly epmdPort: number;
  private socket: Socket;
  private ended = false;
  private closing = false;

  /** @internal built by `register()`. */
  constructor(socket: Socket, info: { alive: string; port: number; nodeType: number; host: string; epmdPort: number; creation: number; extended: boolean }, onClose?: (i: RegistrationClosed) => void) {
    super();
    this.socket = socket;
    this.alive = info.alive;
    this.port = info.port;
    this.nodeType = info.nodeType;
    this.host = info.host;
    this.epmdPort = info.epmdPort;
    this.creation = info.creation;
    this.extended = info.extended;
    if (onClose) this.once('close', onClose);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (d: Buffer) => {
      // epmd never writes on a registration socket after the reply.
      log('%s:%d registration %s: unexpected %d bytes from epmd', this.host, this.epmdPort, this.alive, d.length);
    });
    socket.on('error', (err) => this.finish(err));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    // The reply and epmd's FIN can arrive together: 'end' may already have fired.
    if (socket.destroyed || socket.readableEnded) queueMicrotask(() => this.finish());
  }

  /** Whether the registration is over. */
  get closed(): boolean {
    return this.ended;
  }

  private finish(error?: Error) {
    if (this.ended) return;
    this.ended = true;
    const byUs = this.closing;
    log('%s:%d registration %s closed (%s)%s', this.host, this.epmdPort, this.alive, byUs ? 'by us' : 'by epmd', error ? `: ${error.message}` : '');
    this.socket.destroy();
    this.emit('close', error && !byUs ? { byUs, error } : { byUs });
  }

  /** Unregisters (closes the socket). Resolves once closed. */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.once('close', () => resolve());
      this.socket.end();
      // A peer that never acknowledges the FIN must not keep us waiting.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }
}

/**
 * Registers `alive` → `port` with the local EPMD (ALIVE2_REQ) and keeps the socket open.
 * Throws BEAM_ERR_EPMD_NAME_TAKEN when epmd refuses (result > 0: name in use, or an extra/name
 * epmd rejects).
 */
export async function register(opts: RegisterOptions): Promise<EpmdRegistration> {
  const host = opts.host ?? '127.0.0.1';
  const epmdPort = resolvePort(opts.epmdPort);
  const nodeType = opts.hidden ? NODE_TYPE_HIDDEN : NODE_TYPE_NORMAL;
  const request = encodeAlive2Req({
    port: opts.port,
    name: opts.alive,
    nodeType,
    protocol: PROTOCOL_TCP,
    highestVersion: opts.highestVersion ?? 6,
    lowestVersion: opts.lowestVersion ?? 5,
    extra: opts.extra,
  });
  const { value, socket } = await exchange<Decoded<import('./messages.js').Alive2Reply>>({
    host,
    port: epmdPort,
    request,
    what: `ALIVE2 ${opts.alive}`,
    parse: (buf) => decodeAlive2Reply(buf),
    timeout: resolveTimeout(opts.timeout),
    signal: opts.signal,
    keep: true,
  });
  const reply = value.value;
  if (reply.result !== 0) {
    socket.destroy();
    throw new EpmdError(
      'BEAM_ERR_EPMD_NAME_TAKEN',
      `EPMD at ${host}:${epmdPort} refused to register '${opts.alive}' (result ${reply.result}): the name is already registered`,
      { host, port: epmdPort },
    );
  }
  log('%s:%d registered %s port %d type %d creation %d (%s)', host, epmdPort, opts.alive, opts.port, nodeType, reply.creation, reply.kind);
  return new EpmdRegistration(
    socket,
    { alive: opts.alive, port: opts.port, nodeType, host, epmdPort, creation: reply.creation, extended: reply.kind === 'alive2_x_resp' },
    opts.onClose,
  );
}

export type { NodeInfo, NamesEntry };
