/**
 * A DNS stub resolver for discovery diagnostics: asks a chosen nameserver (or the ones in
 * /etc/resolv.conf), applies the search list like glibc, falls back to TCP when a UDP reply is
 * truncated, and keeps what a diagnosis needs: NXDOMAIN vs NODATA vs SERVFAIL vs timeout, the
 * additional section (A/AAAA of SRV targets), which names were tried, and which server answered.
 */
import dnsPacket from 'dns-packet';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import createDebug from 'debug';
import { DnsError, type DnsErrorCode } from './errors.js';
import {
  parseNameserver,
  readResolvConf,
  searchNames,
  type Nameserver,
  type ResolvConf,
} from './resolv-conf.js';
import { exchangeTcp, exchangeUdp, formatNameserver } from './dns-transport.js';
import { fromPacketAnswer } from './dns-packet-records.js';
import { reverseName, type AddressRecord, type DnsRecord, type QueryType, type SrvRecord } from './dns-records.js';

const log = createDebug('beamnode:discovery:dns');

export type DnsStatus = 'ok' | 'nodata' | 'nxdomain' | 'servfail' | 'refused' | 'error';

/** One question answered by one server. */
export interface DnsResponse {
  /** The fully qualified name asked (no trailing dot, lower case). */
  name: string;
  type: QueryType;
  status: DnsStatus;
  /** The rcode as dns-packet names it: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, … */
  rcode: string;
  authoritative: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  server: Nameserver;
  transport: 'udp' | 'tcp';
  /** The UDP reply had TC set and the answer came over TCP. */
  truncatedUdp: boolean;
  bytes: number;
}

/** The outcome of a lookup through the search list; only the timeout case has no response. */
export interface DnsLookup {
  /** The name as given. */
  query: string;
  type: QueryType;
  /** `timeout`: no reply; `failed`: a network error or an unusable reply (see `error`). */
  status: DnsStatus | 'timeout' | 'failed';
  /** The FQDN whose response is reported (the answered one, else by glibc's precedence). */
  name: string;
  /** Every FQDN tried, with its status. */
  tried: { name: string; status: DnsStatus | 'timeout' | 'failed' }[];
  response?: DnsResponse;
  /** For `timeout` and `failed`: the error of the last exchange (TIMEOUT, NETWORK, BAD_RESPONSE). */
  error?: DnsError;
  /** Records of the asked type in the answer section. */
  records: DnsRecord[];
}

export interface DnsClientOptions {
  /** `IP`, `IP:PORT`, `[IPv6]:PORT`, or a list of them. Default: the nameservers of `resolvConf`. */
  nameserver?: string | Nameserver | (string | Nameserver)[];
  /** A parsed resolv.conf (search list, ndots, timeout, attempts). Default: none (no search list). */
  resolvConf?: ResolvConf;
  /** Per-try timeout in ms (default: resolv.conf `timeout`, else 2000). */
  timeout?: number;
  /** @deprecated Use `timeout` (one name for every timeout option; this one is read when `timeout` is absent). */
  timeoutMs?: number;
  /** Rounds over the nameservers (default: resolv.conf `attempts`, else 2). Bounded to 1..5. */
  attempts?: number;
  /** Largest reply accepted, in bytes (default 65535, the TCP maximum). */
  maxResponseBytes?: number;
  /** Advertise this EDNS UDP payload size; default: none, so servers truncate at 512 bytes as classic DNS. */
  ednsUdpSize?: number;
  /** `udp` (UDP, TCP on truncation; default), `tcp` (TCP only). */
  transport?: 'udp' | 'tcp';
}

export interface QueryOptions {
  signal?: AbortSignal;
  /** Per-try timeout in ms (default: the client's). */
  timeout?: number;
  /** @deprecated Use `timeout` (one name for every timeout option; this one is read when `timeout` is absent). */
  timeoutMs?: number;
}

/** An SRV lookup with the additional section's addresses per target. */
export interface SrvAnswer {
  name: string;
  records: SrvRecord[];
  /** target → addresses the server put in the ADDITIONAL section (may be empty). */
  additional: Map<string, string[]>;
  lookup: DnsLookup;
}

const DEFAULT_TIMEOUT_MS = 2000;

export class DnsClient {
  readonly nameservers: readonly Nameserver[];
  readonly search: readonly string[];
  readonly ndots: number;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly maxResponseBytes: number;
  readonly ednsUdpSize: number | undefined;
  readonly transport: 'udp' | 'tcp';

  constructor(opts: DnsClientOptions) {
    const rc = opts.resolvConf;
    const given = opts.nameserver === undefined ? undefined : Array.isArray(opts.nameserver) ? opts.nameserver : [opts.nameserver];
    const servers = given
      ? given.map((s) => {
          const ns = typeof s === 'string' ? parseNameserver(s) : s;
          if (!ns) throw new DnsError('BEAM_ERR_DNS_USAGE', '-', [], `not a nameserver address: ${String(s)} (want IP, IP:PORT or [IPv6]:PORT)`);
          return ns;
        })
      : (rc?.nameservers ?? []);
    if (servers.length === 0) throw new DnsError('BEAM_ERR_DNS_USAGE', '-', [], 'no nameserver given and none in resolv.conf');
    this.nameservers = servers;
    this.search = rc?.search ?? [];
    this.ndots = rc?.ndots ?? 1;
    this.timeoutMs = opts.timeout ?? opts.timeoutMs ?? (rc ? rc.timeout * 1000 : DEFAULT_TIMEOUT_MS);
    this.attempts = Math.min(5, Math.max(1, opts.attempts ?? rc?.attempts ?? 2));
    this.maxResponseBytes = Math.min(65535, Math.max(512, opts.maxResponseBytes ?? 65535));
    this.ednsUdpSize = opts.ednsUdpSize;
    this.transport = opts.transport ?? (rc?.useVc ? 'tcp' : 'udp');
  }

  /** A client for the system resolver configuration (default /etc/resolv.conf), optionally with another nameserver. */
  static async fromResolvConf(path = '/etc/resolv.conf', opts: Omit<DnsClientOptions, 'resolvConf'> = {}): Promise<DnsClient> {
    return new DnsClient({ ...opts, resolvConf: await readResolvConf(path) });
  }

  /** The names a lookup of `name` tries, in order (search list applied like glibc). */
  expand(name: string): string[] {
    return searchNames(name, { search: [...this.search], ndots: this.ndots });
  }

  /**
   * Asks one fully qualified name (no search list). Tries each nameserver `attempts` times; a
   * SERVFAIL/REFUSED moves to the next server like glibc. Throws DnsError TIMEOUT / NETWORK /
   * BAD_RESPONSE when no server gave a usable reply, or the signal's reason when aborted.
   */
  async exchange(fqdn: string, type: QueryType, opts: QueryOptions = {}): Promise<DnsResponse> {
    const name = checkName(fqdn, type);
    let last: DnsResponse | undefined;
    let lastErr: unknown;
    for (let round = 0; round < this.attempts; round++) {
      for (const server of this.nameservers) {
        opts.signal?.throwIfAborted();
        try {
          const r = await this.exchangeOnce(server, name, type, opts);
          if (r.status !== 'servfail' && r.status !== 'refused') return r;
          last = r;
        } catch (e) {
          if (opts.signal?.aborted) throw opts.signal.reason;
          if (!(e instanceof DnsError)) throw e;
          log('%s %s via %s: %s', type, name, formatNameserver(server), e.code);
          lastErr = e;
        }
      }
    }
    if (last) return last;
    throw lastErr instanceof DnsError
      ? lastErr
      : new DnsError('BEAM_ERR_DNS_TIMEOUT', type, [name], `${type} ${name}: no reply`);
  }

  private async exchangeOnce(server: Nameserver, name: string, type: QueryType, opts: QueryOptions): Promise<DnsResponse> {
    const id = randomInt(0, 65536);
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
      additionals: this.ednsUdpSize
        ? [{ type: 'OPT', name: '.', udpPayloadSize: this.ednsUdpSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
        : [],
    });
    const xo = { timeoutMs: opts.timeout ?? opts.timeoutMs ?? this.timeoutMs, maxBytes: this.maxResponseBytes, signal: opts.signal, name, type };
    let transport: 'udp' | 'tcp' = this.transport;
    let truncatedUdp = false;
    let reply = transport === 'udp' ? await exchangeUdp(server, id, query, xo) : await exchangeTcp(server, id, query, xo);
    if (transport === 'udp' && reply.length >= 4 && (reply[2] & 0x02) !== 0) {
      log('%s %s via %s: truncated UDP reply (%d bytes), retrying over TCP', type, name, formatNameserver(server), reply.length);
      truncatedUdp = true;
      transport = 'tcp';
      reply = await exchangeTcp(server, id, query, xo);
    }
    const r = parseReply(reply, name, type, server, transport, truncatedUdp);
    log('%s %s via %s/%s: %s answers=%d additionals=%d', type, name, formatNameserver(server), transport, r.rcode, r.answers.length, r.additionals.length);
    return r;
  }

  /**
   * Looks `name` up through the search list like glibc `res_nsearch`: the first answered name
   * wins; any other rcode moves to the next candidate; a timeout stops. The reported status when
   * nothing answered: NODATA if any candidate had NODATA, else NXDOMAIN, else SERVFAIL, else the
   * last one's; `tried` lists every candidate's own status. Never throws for DNS outcomes; throws on abort or bad name.
   */
  async lookup(name: string, type: QueryType, opts: QueryOptions = {}): Promise<DnsLookup> {
    const names = this.expand(name);
    const tried: DnsLookup['tried'] = [];
    const responses: DnsResponse[] = [];
    let failure: DnsError | undefined;
    for (const fqdn of names) {
      let r: DnsResponse;
      try {
        r = await this.exchange(fqdn, type, opts);
      } catch (e) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (!(e instanceof DnsError) || e.code === 'BEAM_ERR_DNS_USAGE') throw e;
        tried.push({ name: fqdn, status: e.code === 'BEAM_ERR_DNS_TIMEOUT' ? 'timeout' : 'failed' });
        failure = e;
        break;
      }
      tried.push({ name: fqdn, status: r.status });
      responses.push(r);
      if (r.status === 'ok') return result(name, type, tried, r);
    }
    // A diagnosis wants the most telling outcome: a name that exists (NODATA) beats NXDOMAIN, and
    // NXDOMAIN inside the search domains beats a REFUSED for the bare name outside them.
    const pick =
      responses.find((r) => r.status === 'nodata') ??
      responses.find((r) => r.status === 'nxdomain') ??
      responses.find((r) => r.status === 'servfail') ??
      responses.at(-1);
    // A failure after NXDOMAINs hides whether a later search name exists: report the failure.
    if (failure && (!pick || pick.status === 'nxdomain')) {
      const status = failure.code === 'BEAM_ERR_DNS_TIMEOUT' ? 'timeout' : 'failed';
      return { query: name, type, status, name: tried.at(-1)?.name ?? name, tried, ...(pick ? { response: pick } : {}), records: [], error: failure };
    }
    return result(name, type, tried, pick!);
  }

  /** Like `lookup` but throws DnsError (NXDOMAIN, NODATA, SERVFAIL, REFUSED, TIMEOUT) unless records came back. */
  async resolve(name: string, type: QueryType, opts: QueryOptions = {}): Promise<DnsLookup> {
    const l = await this.lookup(name, type, opts);
    if (l.status === 'ok') return l;
    throw lookupError(l);
  }

  /** SRV records of `name` (as libcluster DNSSRV asks: the bare service name), with the additional section's addresses. */
  async srv(name: string, opts: QueryOptions = {}): Promise<SrvAnswer> {
    const l = await this.resolve(name, 'SRV', opts);
    return srvAnswer(l);
  }

  /** SRV records of `_epmd._tcp.<service>` (the port named `epmd`). */
  async epmdSrv(service: string, opts: QueryOptions = {}): Promise<SrvAnswer> {
    return this.srv(`_epmd._tcp.${service}`, opts);
  }

  /** IPv4 addresses of `name`. */
  async a(name: string, opts: QueryOptions = {}): Promise<string[]> {
    return addresses(await this.resolve(name, 'A', opts));
  }

  /** IPv6 addresses of `name`. */
  async aaaa(name: string, opts: QueryOptions = {}): Promise<string[]> {
    return addresses(await this.resolve(name, 'AAAA', opts));
  }

  /** Names the reverse zone gives for an IP literal. */
  async ptr(ip: string, opts: QueryOptions = {}): Promise<string[]> {
    const rev = reverseName(ip);
    if (!rev) throw new DnsError('BEAM_ERR_DNS_USAGE', 'PTR', [ip], `not an IP address: ${ip}`);
    const l = await this.resolve(`${rev}.`, 'PTR', opts);
    return l.records.flatMap((r) => (r.type === 'PTR' ? [r.target] : []));
  }
}

function result(query: string, type: QueryType, tried: DnsLookup['tried'], r: DnsResponse): DnsLookup {
  return { query, type, status: r.status, name: r.name, tried, response: r, records: r.answers.filter((a) => a.type === type) };
}

/** The DnsError for a lookup that did not give records. */
export function lookupError(l: DnsLookup): DnsError {
  if (l.status === 'failed' && l.error) return l.error;
  const codes: Record<Exclude<DnsLookup['status'], 'ok'>, DnsErrorCode> = {
    nodata: 'BEAM_ERR_DNS_NODATA',
    nxdomain: 'BEAM_ERR_DNS_NXDOMAIN',
    servfail: 'BEAM_ERR_DNS_SERVFAIL',
    refused: 'BEAM_ERR_DNS_REFUSED',
    error: 'BEAM_ERR_DNS_RCODE',
    timeout: 'BEAM_ERR_DNS_TIMEOUT',
    failed: 'BEAM_ERR_DNS_NETWORK',
  };
  if (l.status === 'ok') throw new TypeError('lookupError on a successful lookup');
  const names = l.tried.map((t) => t.name);
  const what =
    l.status === 'nodata'
      ? `the name exists but has no ${l.type} records (NOERROR, empty answer)`
      : l.status === 'nxdomain'
        ? 'no such name (NXDOMAIN)'
        : l.status === 'timeout'
          ? `no reply (timeout)${l.error ? `: ${l.error.message}` : ''}`
          : `the server answered ${l.response?.rcode ?? l.status}`;
  return new DnsError(codes[l.status], l.type, names, `${l.type} ${l.query}: ${what}; tried ${names.join(', ')}`);
}

export function srvAnswer(l: DnsLookup): SrvAnswer {
  const records = l.records.filter((r): r is SrvRecord => r.type === 'SRV');
  const additional = new Map<string, string[]>();
  for (const r of records) additional.set(r.target, []);
  for (const r of l.response?.additionals ?? []) {
    if ((r.type === 'A' || r.type === 'AAAA') && additional.has(r.name)) additional.get(r.name)!.push(r.address);
  }
  return { name: l.name, records, additional, lookup: l };
}

const addresses = (l: DnsLookup) => l.records.filter((r): r is AddressRecord => r.type === 'A' || r.type === 'AAAA').map((r) => r.address);

function checkName(fqdn: string, type: string): string {
  const name = (fqdn.endsWith('.') ? fqdn.slice(0, -1) : fqdn).toLowerCase();
  // RFC 1035: labels 1..63 octets, whole name ≤ 253 characters in text form.
  const ok = name.length > 0 && name.length <= 253 && name.split('.').every((l) => l.length > 0 && l.length <= 63);
  if (!ok || isIP(name) === 6) throw new DnsError('BEAM_ERR_DNS_USAGE', type, [fqdn], `not a DNS name: ${JSON.stringify(fqdn)}`);
  return name;
}

function parseReply(
  reply: Buffer,
  name: string,
  type: QueryType,
  server: Nameserver,
  transport: 'udp' | 'tcp',
  truncatedUdp: boolean,
): DnsResponse {
  let p: ReturnType<typeof dnsPacket.decode>;
  try {
    p = dnsPacket.decode(reply);
  } catch (e) {
    throw new DnsError('BEAM_ERR_DNS_BAD_RESPONSE', type, [name], `${type} ${name}: undecodable reply from ${formatNameserver(server)}`, { cause: e });
  }
  const q = p.questions?.[0];
  if (!p.flag_qr || !q || q.name.toLowerCase().replace(/\.$/, '') !== name || q.type !== type)
    throw new DnsError('BEAM_ERR_DNS_BAD_RESPONSE', type, [name], `${type} ${name}: the reply from ${formatNameserver(server)} does not answer our question`);
  const rcodeNum = reply[3] & 0x0f; // low 4 bits of the flags word (no EDNS extended rcodes here)
  const answers = (p.answers ?? []).map(fromPacketAnswer);
  const status: DnsStatus =
    rcodeNum === 0
      ? answers.some((a) => a.type === type)
        ? 'ok'
        : 'nodata'
      : rcodeNum === 3
        ? 'nxdomain'
        : rcodeNum === 2
          ? 'servfail'
          : rcodeNum === 5
            ? 'refused'
            : 'error';
  return {
    name,
    type,
    status,
    rcode: RCODES[rcodeNum] ?? `RCODE_${rcodeNum}`,
    authoritative: p.flag_aa,
    answers,
    authorities: (p.authorities ?? []).map(fromPacketAnswer),
    additionals: (p.additionals ?? []).filter((a) => a.type !== 'OPT').map(fromPacketAnswer),
    server,
    transport,
    truncatedUdp,
    bytes: reply.length,
  };
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
