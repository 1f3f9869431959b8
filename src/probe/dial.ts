/**
 * One real dial of a node under one name, the way a BEAM node does it (inet_tcp_dist): check the
 * host against the names mode (splitnode/3), resolve it as a pod would (DNS through the chosen
 * nameserver and search list; `localhost` from the hosts file), ask the EPMD on that address for
 * the port, connect, and run the handshake with the dialed name. The peer's challenge decides.
 *
 * The probe is a hidden node named `probe-<rand>@<host>` in the same long/short mode as the
 * target. An accepted connection is closed at once (visible to monitor_nodes(…, all) users as a
 * short nodeup/nodedown of a hidden node).
 */
import { isIP, isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import createDebug from 'debug';
import { canonicalIp, type DnsClient } from '../discovery/index.js';
import { DistError, HandshakeError } from '../dist/errors.js';
import { DistNetwork } from '../dist/net/network.js';
import { checkHost, parseNodeName } from '../dist/protocol/names.js';
import type { DistTlsOptions } from '../dist/net/transport.js';
import { EpmdError } from '../epmd/errors.js';
import { TimeoutError } from '../errors.js';
import { identifyForeign } from './foreign.js';
import type { Attempt, AttemptReason } from './types.js';

const log = createDebug('beamnode:probe:dial');

export interface DialerOptions {
  cookie: string;
  /** Resolves hosts as a pod does (nameserver and search list). */
  dns?: DnsClient;
  /** Or resolves them some other way (the probe of one host: the system resolver). One of the two. */
  lookup?: (host: string, signal?: AbortSignal, family?: Family) => Promise<string>;
  /** EPMD port on the targets (default ERL_EPMD_PORT, else 4369). */
  epmdPort?: number;
  /** Per step timeout (DNS, EPMD, TCP connect, each handshake step), ms. */
  timeoutMs: number;
  /** Our alive name (default `probe-<6 hex>`). */
  alive?: string;
  /** Our host for long names (default: this machine's first non-internal IPv4, else 127.0.0.1). */
  longHost?: string;
  /** Our host for short names (default: the host name up to its first dot). */
  shortHost?: string;
  /** Dial over TLS (as `-proto_dist inet_tls`) with these certificates. */
  tls?: DistTlsOptions;
}

/** Which address family a pod's node resolves a host in: inet_tcp asks A, inet6_tcp asks AAAA. */
export type Family = 4 | 6;

/** An attempt before its form is known; `peerName` is the name any challenge carried. */
export type DialOutcome = Omit<Attempt, 'form' | 'forms'> & { peerName?: string };

export class ProbeDialer {
  readonly alive: string;
  private readonly o: DialerOptions;
  private readonly nets = new Map<boolean, DistNetwork>();

  constructor(o: DialerOptions) {
    this.o = o;
    this.alive = o.alive ?? `probe-${randomBytes(3).toString('hex')}`;
  }

  /** Our node name in this names mode. */
  nameFor(longNames: boolean): string {
    return `${this.alive}@${longNames ? (this.o.longHost ?? defaultLongHost()) : (this.o.shortHost ?? hostname().split('.')[0])}`;
  }

  private net(longNames: boolean): DistNetwork {
    let n = this.nets.get(longNames);
    if (!n) {
      n = new DistNetwork({
        name: this.nameFor(longNames),
        cookie: this.o.cookie,
        longNames,
        setupTime: this.o.timeoutMs,
        epmdPort: this.o.epmdPort,
        lookup: (h) => this.resolve(h),
        ...(this.o.tls ? { tls: this.o.tls } : {}),
      });
      n.on('handshakeFailed', () => {}); // reported through connect()'s rejection
      this.nets.set(longNames, n);
    }
    return n;
  }

  /**
   * A host as a pod resolves it: IP literals as they are, `localhost` from the hosts file, else
   * DNS, in the node's family first (`family` 6: AAAA, then A; default A, then AAAA).
   */
  async resolve(host: string, signal?: AbortSignal, family: Family = 4): Promise<string> {
    if (isIP(host)) return canonicalIp(host);
    if (host === 'localhost') return family === 6 ? '::1' : '127.0.0.1';
    if (this.o.lookup) return this.o.lookup(host, signal, family);
    if (!this.o.dns) throw new DistError('BEAM_ERR_DIST_UNRESOLVED', `cannot resolve ${host}: the dialer has no resolver`);
    const q = { signal, timeoutMs: this.o.timeoutMs };
    const order = family === 6 ? (['AAAA', 'A'] as const) : (['A', 'AAAA'] as const);
    for (const type of order) {
      const l = await this.o.dns.lookup(host, type, q);
      for (const r of l.records) if (r.type === 'A' || r.type === 'AAAA') return canonicalIp(r.address);
      if (l.status === 'timeout' || l.status === 'failed') {
        throw new DistError('BEAM_ERR_DIST_UNRESOLVED', `cannot resolve ${host}: DNS ${l.status}${l.error ? ` (${l.error.message})` : ''}`);
      }
      if (type === order[1]) {
        const statuses = [...new Set(l.tried.map((t) => t.status.toUpperCase()))].join('/') || l.status.toUpperCase();
        const n = l.tried.length;
        throw new DistError('BEAM_ERR_DIST_UNRESOLVED', `${host}: ${statuses}${n > 1 ? ` (${n} names tried with the search list)` : ''}`);
      }
    }
    throw new DistError('BEAM_ERR_DIST_UNRESOLVED', `${host} does not resolve`);
  }

  /**
   * Dials `dialed` as a node with these names rules would. With `address`/`port` the resolution
   * and EPMD are skipped (the first contact, which learns the true name). An IPv6 literal host is
   * legal for a long-names node: the pod dialing it runs `-proto_dist inet6_tcp`.
   */
  async dial(dialed: string, longNames: boolean, o: { signal?: AbortSignal; address?: string; port?: number; family?: Family; anyHost?: boolean } = {}): Promise<DialOutcome> {
    o.signal?.throwIfAborted();
    let host: string;
    try {
      host = parseNodeName(dialed).host;
    } catch (e) {
      return { dialed, accepted: false, reason: 'illegal-host', detail: (e as Error).message };
    }
    const check = o.anyHost ? { ok: true as const } : checkHost(host, longNames, isIPv6(host));
    if (!check.ok) {
      const mode = longNames ? 'long names (-name)' : 'short names (-sname)';
      return { dialed, accepted: false, reason: 'illegal-host', detail: `a node running with ${mode} refuses to dial it: ${check.message}` };
    }
    let address = o.address;
    if (!address) {
      try {
        address = await this.resolve(host, o.signal, o.family);
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        return { dialed, accepted: false, reason: 'unresolvable', detail: (e as Error).message };
      }
    }
    const net = this.net(longNames);
    try {
      await net.connect(dialed, { address, port: o.port, signal: o.signal, timeout: this.o.timeoutMs * 6 });
      net.disconnect(dialed);
      log('%s accepted at %s', dialed, address);
      return { dialed, accepted: true, address };
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      const out: DialOutcome = { dialed, accepted: false, address, ...classifyFailure(e) };
      log('%s at %s: %s (%s)', dialed, address, out.reason, out.detail);
      return out;
    }
  }

  /**
   * First contact with a node EPMD listed: dial `alive@<ip>` at its port and read the name in
   * its challenge (even when the cookie is wrong). Undefined when no challenge came.
   */
  async learnName(alive: string, ip: string, port: number, signal?: AbortSignal): Promise<{ name: string | undefined; outcome: DialOutcome }> {
    const dialed = `${alive}@${canonicalIp(ip)}`;
    // No names-mode check: this dial only reads the challenge, whatever the host looks like.
    const outcome = await this.dial(dialed, true, { signal, address: ip, port, anyHost: true });
    const name = outcome.accepted ? dialed : outcome.actual ?? (outcome.reason === 'bad-cookie' || outcome.reason === 'not-allowed' ? outcome.peerName : undefined);
    return { name, outcome };
  }

  async close(): Promise<void> {
    await Promise.all([...this.nets.values()].map((n) => n.close()));
    this.nets.clear();
  }
}

/** Attempt reason and detail from a connect() failure. */
/** A peer that answered send_name with another protocol's bytes: TLS (an inet_tls node) or a proxy. */
function foreignOutcome(received: Buffer | undefined): { reason: AttemptReason; detail: string } | undefined {
  const foreign = identifyForeign(received);
  if (!foreign) return undefined;
  if (foreign.kind === 'tls')
    return { reason: 'tls', detail: `the port speaks TLS: it answered our send_name with ${foreign.what} (a -proto_dist inet_tls node; probe it with --tls-cert/--tls-key/--tls-ca)` };
  return { reason: 'foreign', detail: `the port is not a BEAM node: it answered our send_name with ${foreign.what} (bytes ${foreign.hex})` };
}

export function classifyFailure(e: unknown): { reason: AttemptReason; detail: string; actual?: string; peerName?: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const detail = err.message;
  if (err instanceof HandshakeError) {
    const peerName = err.peerInfo?.name;
    const foreign = foreignOutcome(err.received);
    if (foreign) return foreign;
    // Over TLS a refused certificate can surface only as the socket's error at the first read.
    if (err.code === 'BEAM_ERR_HANDSHAKE_CLOSED' && /ERR_SSL_/.test(detail)) return { reason: 'tls', detail };
    if (err.code === 'BEAM_ERR_HANDSHAKE_CLOSED' && err.step === 'recv_status')
      return {
        reason: 'reset',
        detail: `the port accepted the connection, then ${/ECONNRESET/.test(detail) ? 'reset it' : 'closed it'} without a byte of handshake (${detail})`,
      };
    switch (err.code) {
      case 'BEAM_ERR_HANDSHAKE_NAME_MISMATCH':
        return { reason: 'mismatch', actual: err.actual, detail: `the node there calls itself ${err.actual}`, peerName };
      case 'BEAM_ERR_HANDSHAKE_BAD_COOKIE':
        return { reason: 'bad-cookie', detail: 'the name matched; the peer rejected our challenge reply (the cookies differ)', peerName };
      case 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED':
        return { reason: 'not-allowed', detail, peerName };
      default:
        return { reason: 'handshake-failed', detail, peerName };
    }
  }
  if (err instanceof TimeoutError) {
    // A handshake step unanswered: the peer is there but the handshake did not complete. A proxy
    // that answered send_name with something else (HTTP, TLS) and kept the socket open ends here.
    const foreign = err.phase === 'handshake' ? foreignOutcome(err.received) : undefined;
    if (foreign) return foreign;
    if (err.phase === 'handshake') return { reason: 'handshake-failed', detail };
    return { reason: 'unreachable', detail: err.phase === 'epmd' ? `EPMD: ${detail}` : detail };
  }
  if (err instanceof EpmdError) {
    if (err.code === 'BEAM_ERR_EPMD_NOT_REGISTERED') return { reason: 'not-registered', detail };
    return { reason: 'unreachable', detail: `EPMD: ${detail}` };
  }
  if (err instanceof DistError) {
    switch (err.code) {
      case 'BEAM_ERR_DIST_TLS':
        return { reason: 'tls', detail };
      case 'BEAM_ERR_DIST_UNRESOLVED':
        return { reason: 'unresolvable', detail };
      case 'BEAM_ERR_DIST_ILLEGAL_HOST':
      case 'BEAM_ERR_DIST_BAD_NAME':
        return { reason: 'illegal-host', detail };
      default:
        return { reason: 'unreachable', detail };
    }
  }
  return { reason: 'handshake-failed', detail };
}

/** This machine's first non-internal IPv4 (a pod's IP), else its first global IPv6, else 127.0.0.1: our host part under long names. */
export function defaultLongHost(): string {
  const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  const v4 = all.find((i) => i.family === 'IPv4' && !i.internal);
  if (v4) return v4.address;
  const v6 = all.find((i) => i.family === 'IPv6' && !i.internal && !i.address.startsWith('fe80'));
  return v6 ? canonicalIp(v6.address) : '127.0.0.1';
}
