/**
 * The name-matching experiment (DESIGN "why names must match"): discover the hosts of a service,
 * list each host's nodes through its EPMD, learn each node's true name from one handshake, then
 * dial it under every candidate form of its name (ip, localhost, short, dns, fqdn) exactly as a
 * BEAM pod would, and record which names it accepts and why the others fail. Ends with a verdict
 * and advice. Hosts run concurrently (bounded); every wait has a timeout; one AbortSignal stops it all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import createDebug from 'debug';
import { candidateNames, canonicalIp, DnsClient, DnsError, readResolvConf, type KubernetesDiscovery, type ResolvConf } from '../discovery/index.js';
import { resolveCookie } from '../dist/net/cookie.js';
import type { DistTlsOptions } from '../dist/net/transport.js';
import { namesReply, defaultEpmdPort } from '../epmd/client.js';
import { adviseAndJudge } from './advice.js';
import { ProbeDialer } from './dial.js';
import { discoverHosts, inferDnsMode } from './discover.js';
import { ProbeError } from './errors.js';
import { identifyForeign } from './foreign.js';
import { probeMesh } from './mesh.js';
import { mapBounded } from './pool.js';
import { adviseTarget, hostTargetDiscovery, parseTarget, systemLookup } from './target.js';
import type { Attempt, HostReport, NodeReport, ProbeReport } from './types.js';

const log = createDebug('beamnode:probe');

export interface ProbeOptions {
  /**
   * The headless service: `myapp-headless`, `myapp-headless.default`, or its FQDN. Or one host
   * or node without service discovery: `localhost`, an IP address, or `app@host`.
   */
  service: string;
  /** `IP[:PORT]` of the nameserver to ask (the search list still comes from resolv.conf when readable). */
  nameserver?: string;
  /** A ready DNS client (wins over `nameserver`/`resolvConf`). */
  dns?: DnsClient;
  /** resolv.conf to take the search list (and nameservers) from; default /etc/resolv.conf. */
  resolvConf?: ResolvConf | string;
  /** The cookie to try. Default: ERLANG_COOKIE, else ~/.erlang.cookie; with none, a random one (names are still checked). */
  cookie?: string;
  /** Also read the Kubernetes API. `client` makes the client (tests); default KubernetesDiscovery.create(). */
  kubernetes?: { namespace?: string; client?: () => Promise<KubernetesDiscovery> };
  /** EPMD port on the hosts (default ERL_EPMD_PORT, else 4369). */
  epmdPort?: number;
  /** Per step timeout in ms (DNS question, EPMD request, TCP connect, handshake step). Default 3000. */
  timeout?: number;
  /** @deprecated Use `timeout` (one name for every timeout option; this one is read when `timeout` is absent). */
  timeoutMs?: number;
  /** Hosts probed at once (default 8). */
  concurrency?: number;
  /** Ask every node over rpc to net_adm:ping every other (needs the right cookie). */
  mesh?: boolean;
  /** Dial the nodes over TLS (`-proto_dist inet_tls`) with these certificates. */
  tls?: DistTlsOptions;
  /** Our own names (default probe-<rand>@<first IPv4> / @<short hostname>). */
  probeName?: { alive?: string; longHost?: string; shortHost?: string };
  signal?: AbortSignal;
}

/** EPMD entries that are not application nodes: remote shells, rpc helpers, probes. */
export const LEFTOVER_NAME = /^(rpc-[0-9a-f]+-|remote-|rem-[0-9a-f]+-|remsh|probe-|beamnode-probe)/i;

export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_CONCURRENCY = 8;

export async function runProbe(o: ProbeOptions): Promise<ProbeReport> {
  const started = Date.now();
  o.signal?.throwIfAborted();
  if (!o.service || /\s/.test(o.service)) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `not a service name: ${JSON.stringify(o.service)}`);
  const timeoutMs = positive('timeout', o.timeout ?? o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const concurrency = positive('concurrency', o.concurrency ?? DEFAULT_CONCURRENCY);
  const target = parseTarget(o.service);
  // A host or node target asks no DNS server: the system resolver, as erl on that machine.
  const dns = target.kind !== 'service' ? undefined : (o.dns ?? (await dnsClient(o, timeoutMs)));
  const nameserverLabel = dns?.nameservers.map((n) => (n.port === 53 ? n.address : `${n.address}:${n.port}`)).join(', ') ?? '';
  const { cookie, known } = pickCookie(o.cookie);
  const epmdPort = o.epmdPort ?? defaultEpmdPort();

  const kubernetes = o.kubernetes
    ? {
        namespace: o.kubernetes.namespace,
        client:
          o.kubernetes.client ??
          (async () => (await import('../discovery/kubernetes.js')).KubernetesDiscovery.create({ namespace: o.kubernetes?.namespace, timeout: timeoutMs * 3 })),
      }
    : undefined;
  let found: Awaited<ReturnType<typeof discoverHosts>>;
  try {
    if (target.kind !== 'service') {
      if (o.kubernetes) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `kubernetes goes with a service, not with the ${target.kind} ${o.service}`);
      found = await hostTargetDiscovery(target, o.service, { timeoutMs, signal: o.signal });
    } else found = await discoverHosts({ dns: dns!, service: o.service, nameserverLabel, kubernetes, signal: o.signal, timeoutMs });
  } catch (e) {
    if (e instanceof DnsError && e.code === 'BEAM_ERR_DNS_USAGE') throw new ProbeError('BEAM_ERR_PROBE_USAGE', e.message, { cause: e });
    throw e;
  }
  const { discovery, hosts } = found;

  hosts.sort((a, b) => compareIps(a.ip, b.ip)); // stable output: DNS shuffles the records
  const resolve = dns ? { dns } : { lookup: (h: string, signal?: AbortSignal, family?: 4 | 6) => systemLookup(h, { timeoutMs, signal, family }) };
  const dialerOptions = { cookie, ...resolve, epmdPort, timeoutMs, ...o.probeName, ...(o.tls ? { tls: o.tls } : {}) };
  const dialer = new ProbeDialer(dialerOptions);
  // One probe name per host: a dual-stack node is reached from two hosts at once, and a node
  // refuses a second connection from a name it is already talking to (status alive / nok).
  const dialers = hosts.map((_, i) => (i === 0 ? dialer : new ProbeDialer({ ...dialerOptions, alive: `${dialer.alive}-${i}` })));
  let nodes: NodeReport[];
  let mesh: ProbeReport['mesh'];
  try {
    const perHost = await mapBounded(hosts, concurrency, (h, i) => probeHost(h, dialers[i] ?? dialer, { epmdPort, timeoutMs, signal: o.signal, only: target.kind === 'node' ? target.alive : undefined }));
    nodes = mergeDualStack(perHost.flat());
    if (o.mesh)
      mesh = await probeMesh(nodes, {
        cookie, known, timeoutMs, signal: o.signal, alive: `${dialer.alive}-mesh`, epmdPort, longHost: o.probeName?.longHost, shortHost: o.probeName?.shortHost,
        ...(o.tls ? { tls: o.tls } : {}),
      });
  } finally {
    await Promise.all([dialer, ...dialers].map((d) => d.close()));
  }

  const dnsMode = inferDnsMode(discovery.targets, discovery.kubernetes?.endpointPodNames);
  const report: ProbeReport = {
    verdict: 'broken',
    dnsMode,
    service: discovery.fqdn,
    cookie: { hash: cookieHash(cookie), known },
    discovery,
    hosts,
    nodes,
    ...(mesh ? { mesh } : {}),
    advice: [],
    elapsedMs: Date.now() - started,
  };
  const judged = adviseAndJudge(report);
  report.verdict = judged.verdict;
  report.advice = discovery.target ? adviseTarget(report) : judged.advice;
  log('%s: %s, %d hosts, %d nodes, %d advice in %d ms', o.service, report.verdict, hosts.length, nodes.length, report.advice.length, report.elapsedMs);
  return report;
}

async function dnsClient(o: ProbeOptions, timeoutMs: number): Promise<DnsClient> {
  let rc: ResolvConf | undefined;
  if (typeof o.resolvConf === 'object') rc = o.resolvConf;
  else {
    try {
      rc = await readResolvConf(o.resolvConf ?? '/etc/resolv.conf');
    } catch (e) {
      if (!o.nameserver) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `no --nameserver and no readable resolv.conf: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    return new DnsClient({ nameserver: o.nameserver, resolvConf: rc, timeout: Math.min(timeoutMs, rc ? rc.timeout * 1000 : timeoutMs) });
  } catch (e) {
    throw new ProbeError('BEAM_ERR_PROBE_USAGE', (e as Error).message, { cause: e });
  }
}

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `${what} must be a positive integer, not ${n}`);
  return n;
}

function pickCookie(given: string | undefined): { cookie: string; known: boolean } {
  if (given !== undefined) {
    try {
      return { cookie: resolveCookie({ cookie: given }), known: true }; // erl's rules (Latin-1, ≤ 255 characters)
    } catch (e) {
      throw new ProbeError('BEAM_ERR_PROBE_USAGE', (e as Error).message, { cause: e });
    }
  }
  try {
    return { cookie: resolveCookie(), known: true };
  } catch {
    // No cookie anywhere: names can still be checked (the challenge comes before the cookie).
    return { cookie: randomBytes(16).toString('hex'), known: false };
  }
}

/** IPv4 before IPv6, then numerically. */
function compareIps(a: string, b: string): number {
  const key = (ip: string) => (ip.includes(':') ? `6${ip}` : `4${ip.split('.').map((p) => p.padStart(3, '0')).join('.')}`);
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** sha256 of the cookie, 8 hex digits: enough to compare two runs, useless to recover it. */
export function cookieHash(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex').slice(0, 8);
}

async function probeHost(h: HostReport, dialer: ProbeDialer, o: { epmdPort: number; timeoutMs: number; signal?: AbortSignal; only?: string }): Promise<NodeReport[]> {
  let entries: { name: string; port: number }[];
  try {
    const reply = await namesReply(h.ip, { port: o.epmdPort, timeout: o.timeoutMs, signal: o.signal });
    // A real EPMD starts its NAMES reply with its own port; anything else answered in its place.
    if (reply.epmdPort !== o.epmdPort && reply.nodes.length === 0) {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(reply.epmdPort >>> 0);
      const f = identifyForeign(Buffer.concat([head, Buffer.from(reply.unparsed.join('\n'), 'latin1')]));
      h.epmd = 'foreign';
      h.error = `port ${o.epmdPort} accepted and answered NAMES with ${f?.what ?? 'bytes that are not EPMD'}${f ? ` (bytes ${f.hex})` : ''}`;
      return [];
    }
    entries = reply.nodes;
  } catch (e) {
    if (o.signal?.aborted) throw o.signal.reason;
    const err = e as Error & { code?: string };
    // Connected, then reset or closed without a byte: EPMD never does that to NAMES; a proxy with nowhere to forward does.
    const proxied = err.code === 'BEAM_ERR_EPMD_REFUSED' || (err.code === 'BEAM_ERR_EPMD_UNREACHABLE' && /connection failed during/.test(err.message));
    h.epmd = proxied ? 'foreign' : err.code === 'BEAM_ERR_EPMD_UNREACHABLE' ? 'unreachable' : 'error';
    h.error = proxied ? `port ${o.epmdPort} accepted the connection, then ${/ECONNRESET/.test(err.message) ? 'reset it' : 'closed it'} without answering NAMES (${err.message})` : err.message;
    log('EPMD on %s: %s', h.ip, h.error);
    return [];
  }
  const out: NodeReport[] = [];
  for (const entry of entries) {
    if ((o.only !== undefined && entry.name !== o.only) || LEFTOVER_NAME.test(entry.name) || entry.name === dialer.alive) {
      h.skipped.push(entry.name);
      continue;
    }
    out.push(await probeNode(h, entry, dialer, o.signal));
  }
  return out;
}

async function probeNode(h: HostReport, entry: { name: string; port: number }, dialer: ProbeDialer, signal?: AbortSignal): Promise<NodeReport> {
  const learnt = await dialer.learnName(entry.name, h.ip, entry.port, signal);
  const family = isIPv6(h.ip) ? 6 : 4;
  const trueHostOf = (name: string | undefined) => name?.slice(name.indexOf('@') + 1);
  const longOf = (host: string | undefined) => (host === undefined ? undefined : host.includes('.') || host.includes(':'));
  // Without a challenge (e.g. TLS, a proxy) the names mode follows the name discovery gave.
  let longNames = longOf(trueHostOf(learnt.name)) ?? longOf(h.dnsName);
  const candidates = candidateNames({ alive: entry.name, ip: h.ip, dnsName: h.dnsName, trueName: learnt.name });
  const attempts: Attempt[] = [];
  for (const c of candidates) {
    const r = await dialer.dial(c.node, longNames ?? true, { signal, family });
    const { peerName: _ignored, ...rest } = r;
    attempts.push({ form: c.form, forms: c.forms, ...rest });
  }
  // The first contact may read no challenge where a dial under a name still proves the name:
  // an accepted dial, or a mismatch, whose challenge carried the true name.
  let name = learnt.name;
  let nameFrom: NodeReport['nameFrom'] = name === undefined ? undefined : 'challenge';
  if (name === undefined) {
    const accepted = attempts.find((a) => a.accepted);
    const told = attempts.find((a) => a.actual !== undefined);
    name = accepted?.dialed ?? told?.actual;
    nameFrom = accepted ? 'accepted' : told ? 'challenge' : undefined;
    if (name !== undefined) longNames = longOf(trueHostOf(name));
  }
  const report: NodeReport = {
    name: name ?? `${entry.name}@${canonicalIp(h.ip)}`,
    nameKnown: name !== undefined,
    ...(nameFrom ? { nameFrom } : {}),
    alive: entry.name,
    host: h.ip,
    dnsName: h.dnsName,
    port: entry.port,
    ...(longNames === undefined ? {} : { longNames }),
    attempts,
  };
  if (learnt.name === undefined) {
    report.firstContact = learnt.outcome.detail ?? learnt.outcome.reason;
    if (learnt.outcome.reason) report.firstContactReason = learnt.outcome.reason;
  }
  return report;
}

/**
 * Dual stack: a node reached at an IPv4 and an IPv6 address (A and AAAA records of one pod) is
 * one node, not two with the same name. Its reports are merged: the first address stays `host`,
 * the others go to `alsoAt`, and the attempts under names not tried yet are added.
 */
export function mergeDualStack(nodes: readonly NodeReport[]): NodeReport[] {
  const out: NodeReport[] = [];
  for (const n of nodes) {
    const same = n.nameKnown ? out.find((m) => m.nameKnown && m.name === n.name && isIPv6(m.host) !== isIPv6(n.host) && !(m.alsoAt ?? []).some((a) => isIPv6(a) === isIPv6(n.host))) : undefined;
    if (!same) {
      out.push({ ...n, attempts: [...n.attempts] });
      continue;
    }
    same.alsoAt = [...(same.alsoAt ?? []), n.host];
    for (const a of n.attempts) if (!same.attempts.some((x) => x.dialed === a.dialed)) same.attempts.push(a);
  }
  return out;
}
