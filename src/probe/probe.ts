/**
 * The name-matching experiment (DESIGN "why names must match"): discover the hosts of a service,
 * list each host's nodes through its EPMD, learn each node's true name from one handshake, then
 * dial it under every candidate form of its name (ip, localhost, short, dns, fqdn) exactly as a
 * BEAM pod would, and record which names it accepts and why the others fail. Ends with a verdict
 * and advice. Hosts run concurrently (bounded); every wait has a timeout; one AbortSignal stops it all.
 */
import { createHash, randomBytes } from 'node:crypto';
import createDebug from 'debug';
import { candidateNames, canonicalIp, DnsClient, DnsError, readResolvConf, type KubernetesDiscovery, type ResolvConf } from '../discovery/index.js';
import { resolveCookie } from '../dist/net/cookie.js';
import { names as epmdNames, defaultEpmdPort } from '../epmd/client.js';
import { adviseAndJudge } from './advice.js';
import { ProbeDialer } from './dial.js';
import { discoverHosts, inferDnsMode } from './discover.js';
import { ProbeError } from './errors.js';
import { probeMesh } from './mesh.js';
import { mapBounded } from './pool.js';
import type { Attempt, HostReport, NodeReport, ProbeReport } from './types.js';

const log = createDebug('beamnode:probe');

export interface ProbeOptions {
  /** The headless service: `myapp-headless`, `myapp-headless.default`, or its FQDN. */
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
  timeoutMs?: number;
  /** Hosts probed at once (default 8). */
  concurrency?: number;
  /** Ask every node over rpc to net_adm:ping every other (needs the right cookie). */
  mesh?: boolean;
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
  const timeoutMs = positive('timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const concurrency = positive('concurrency', o.concurrency ?? DEFAULT_CONCURRENCY);
  const dns = o.dns ?? (await dnsClient(o, timeoutMs));
  const nameserverLabel = dns.nameservers.map((n) => (n.port === 53 ? n.address : `${n.address}:${n.port}`)).join(', ');
  const { cookie, known } = pickCookie(o.cookie);
  const epmdPort = o.epmdPort ?? defaultEpmdPort();

  const kubernetes = o.kubernetes
    ? {
        namespace: o.kubernetes.namespace,
        client:
          o.kubernetes.client ??
          (async () => (await import('../discovery/kubernetes.js')).KubernetesDiscovery.create({ namespace: o.kubernetes?.namespace, timeoutMs: timeoutMs * 3 })),
      }
    : undefined;
  let found: Awaited<ReturnType<typeof discoverHosts>>;
  try {
    found = await discoverHosts({ dns, service: o.service, nameserverLabel, kubernetes, signal: o.signal, timeoutMs });
  } catch (e) {
    if (e instanceof DnsError && e.code === 'BEAM_ERR_DNS_USAGE') throw new ProbeError('BEAM_ERR_PROBE_USAGE', e.message, { cause: e });
    throw e;
  }
  const { discovery, hosts } = found;

  const dialer = new ProbeDialer({ cookie, dns, epmdPort, timeoutMs, ...o.probeName });
  let nodes: NodeReport[];
  let mesh: ProbeReport['mesh'];
  try {
    hosts.sort((a, b) => compareIps(a.ip, b.ip)); // stable output: DNS shuffles the records
    const perHost = await mapBounded(hosts, concurrency, (h) => probeHost(h, dialer, { epmdPort, timeoutMs, signal: o.signal }));
    nodes = perHost.flat();
    if (o.mesh) mesh = await probeMesh(nodes, { cookie, known, timeoutMs, signal: o.signal, alive: `${dialer.alive}-mesh`, epmdPort, longHost: o.probeName?.longHost, shortHost: o.probeName?.shortHost });
  } finally {
    await dialer.close();
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
  report.advice = judged.advice;
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
    return new DnsClient({ nameserver: o.nameserver, resolvConf: rc, timeoutMs: Math.min(timeoutMs, rc ? rc.timeout * 1000 : timeoutMs) });
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

async function probeHost(h: HostReport, dialer: ProbeDialer, o: { epmdPort: number; timeoutMs: number; signal?: AbortSignal }): Promise<NodeReport[]> {
  let entries: { name: string; port: number }[];
  try {
    entries = await epmdNames(h.ip, { port: o.epmdPort, timeout: o.timeoutMs, signal: o.signal });
  } catch (e) {
    if (o.signal?.aborted) throw o.signal.reason;
    h.epmd = (e as { code?: string }).code === 'BEAM_ERR_EPMD_UNREACHABLE' ? 'unreachable' : 'error';
    h.error = (e as Error).message;
    log('EPMD on %s: %s', h.ip, h.error);
    return [];
  }
  const out: NodeReport[] = [];
  for (const entry of entries) {
    if (LEFTOVER_NAME.test(entry.name) || entry.name === dialer.alive) {
      h.skipped.push(entry.name);
      continue;
    }
    out.push(await probeNode(h, entry, dialer, o.signal));
  }
  return out;
}

async function probeNode(h: HostReport, entry: { name: string; port: number }, dialer: ProbeDialer, signal?: AbortSignal): Promise<NodeReport> {
  const learnt = await dialer.learnName(entry.name, h.ip, entry.port, signal);
  const trueHost = learnt.name?.slice(learnt.name.indexOf('@') + 1);
  const longNames = trueHost === undefined ? undefined : trueHost.includes('.') || trueHost.includes(':');
  const candidates = candidateNames({ alive: entry.name, ip: h.ip, dnsName: h.dnsName, trueName: learnt.name });
  const attempts: Attempt[] = [];
  for (const c of candidates) {
    const r = await dialer.dial(c.node, longNames ?? true, { signal });
    const { peerName: _ignored, ...rest } = r;
    attempts.push({ form: c.form, forms: c.forms, ...rest });
  }
  const report: NodeReport = {
    name: learnt.name ?? `${entry.name}@${canonicalIp(h.ip)}`,
    nameKnown: learnt.name !== undefined,
    alive: entry.name,
    host: h.ip,
    dnsName: h.dnsName,
    port: entry.port,
    ...(longNames === undefined ? {} : { longNames }),
    attempts,
  };
  if (learnt.name === undefined) report.firstContact = learnt.outcome.detail ?? learnt.outcome.reason;
  return report;
}
