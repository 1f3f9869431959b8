/**
 * `beamnode probe` of one host or one node, without service discovery: `app@host`, `localhost`
 * or an IP address. The host is resolved as erl's inet_tcp_dist resolves it on a laptop (the
 * system resolver: the hosts file, then DNS; IPv4 first), its EPMD lists the nodes, and each node
 * (or only `app`) is dialed under every form of its name. The verdict asks whether each node
 * accepts the name as given: `app@host`, or `<alive>@<host>` for every node EPMD lists.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { canonicalIp, classifyName } from '../discovery/index.js';
import { DistError } from '../dist/errors.js';
import { advise } from './advice.js';
import type { Discovered } from './discover.js';
import { ProbeError } from './errors.js';
import type { Advice, DiscoveryReport, HostReport, ProbeReport } from './types.js';

export type ProbeTarget = { kind: 'service'; service: string } | { kind: 'host'; host: string } | { kind: 'node'; alive: string; host: string };

/** `alive@host` is a node, an IP literal (`[v6]` too) or `localhost` a host, anything else a service. */
export function parseTarget(given: string): ProbeTarget {
  const at = given.indexOf('@');
  if (at >= 0) {
    const alive = given.slice(0, at);
    const host = unbracket(given.slice(at + 1));
    if (!/^[A-Za-z0-9_-]+$/.test(alive) || !host || host.includes('@'))
      throw new ProbeError('BEAM_ERR_PROBE_USAGE', `not a node name: ${JSON.stringify(given)} (alive@host, alive of letters, digits, _ and -)`);
    return { kind: 'node', alive, host };
  }
  const host = unbracket(given);
  if (isIP(host) || host.toLowerCase() === 'localhost') return { kind: 'host', host };
  return { kind: 'service', service: given };
}

const unbracket = (h: string) => (/^\[.*\]$/.test(h) ? h.slice(1, -1) : h);

/**
 * A host name as the system resolves it (getaddrinfo: /etc/hosts, then DNS), IPv4 first as
 * inet_tcp_dist asks, then IPv6. `localhost` is 127.0.0.1 (::1 for family 6) without asking.
 * getaddrinfo cannot be cancelled: the wait is bounded by `timeoutMs` and the signal.
 */
export async function systemLookup(host: string, o: { timeoutMs: number; signal?: AbortSignal; family?: 4 | 6 }): Promise<string> {
  if (isIP(host)) return canonicalIp(host);
  const family = o.family ?? 4;
  if (host.toLowerCase() === 'localhost') return family === 6 ? '::1' : '127.0.0.1';
  const failures: string[] = [];
  for (const f of family === 6 ? [6, 4] : [4, 6]) {
    try {
      const r = await bounded(lookup(host, { family: f }), o.timeoutMs, o.signal, host);
      return canonicalIp(r.address);
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      failures.push(`IPv${f} ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  throw new DistError('BEAM_ERR_DIST_UNRESOLVED', `${host} does not resolve through the system resolver (${failures.join(', ')})`);
}

async function bounded<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, host: string): Promise<T> {
  signal?.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer for ${host} in ${ms} ms`)), ms);
        onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** The one host of a host or node target, as discovery would report it. */
export async function hostTargetDiscovery(
  t: Exclude<ProbeTarget, { kind: 'service' }>,
  given: string,
  o: { timeoutMs: number; signal?: AbortSignal },
): Promise<Discovered> {
  let address: string;
  try {
    address = await systemLookup(t.host, o);
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new ProbeError('BEAM_ERR_PROBE_USAGE', `cannot probe ${given}: ${(e as Error).message}`, { cause: e });
  }
  const literal = isIP(t.host) !== 0;
  const name = literal ? canonicalIp(t.host) : t.host.toLowerCase();
  const discovery: DiscoveryReport = {
    service: given,
    fqdn: given,
    nameserver: literal ? 'none (an address)' : 'the system resolver',
    srv: { epmd: 'skipped', bare: 'skipped', a: 'skipped', aaaa: 'skipped' },
    targets: [],
    addresses: [address],
    target: { kind: t.kind, host: name, address, ...(t.kind === 'node' ? { alive: t.alive } : {}) },
  };
  const host: HostReport = { ip: address, dnsName: name, sources: ['host'], kind: classifyName(name).kind, epmd: 'ok', skipped: [] };
  return { discovery, hosts: [host] };
}

/**
 * Advice for a host or node target: the general rules that do not assume a Kubernetes service
 * (EPMD, ports, cookie, allow lists, TLS, proxies, mesh), then what the names showed.
 */
export function adviseTarget(r: ProbeReport): Advice[] {
  const t = r.discovery.target;
  if (!t) return [];
  const general = new Set(['epmd-unreachable', 'dist-port', 'cookie', 'not-allowed', 'tls', 'sidecar', 'mesh', 'global-partition']);
  const out = advise(r).filter((a) => general.has(a.code));
  const h = r.hosts[0];
  if (h?.epmd === 'ok' && r.nodes.length === 0) {
    const listed = h.skipped.filter((n) => n !== t.alive).sort();
    out.unshift({
      code: 'no-nodes',
      text:
        `EPMD on ${h.ip} lists ${t.alive ? `no node named ${t.alive}` : 'no application node'}` +
        `${listed.length ? ` (it lists ${listed.join(', ')})` : ''}: the node is not running there, runs without distribution, or registered with another EPMD (ERL_EPMD_PORT).`,
    });
  }
  for (const n of r.nodes) {
    const given = n.attempts.find((a) => a.forms.includes('dns'));
    if (!given || given.accepted || given.reason === 'bad-cookie') continue;
    const ok = n.attempts.filter((a) => a.accepted).map((a) => a.dialed);
    const mode = n.longNames === undefined ? '' : n.longNames ? ' (long names, -name)' : ' (short names, -sname)';
    out.push({
      code: 'node-name',
      text:
        `${given.dialed} is not a name ${n.nameKnown ? n.name : 'this node'} accepts${mode}: a node accepts only its own name. ` +
        (ok.length ? `Dial it as ${ok.join(' or ')}.` : n.nameKnown ? `Dial it as ${n.name}.` : `${given.detail ?? ''}`),
    });
  }
  return out;
}
