/**
 * /etc/resolv.conf as glibc reads it: `nameserver` (at most 3 used by glibc; we keep them all),
 * `search` / `domain` (the last of the two wins), `options ndots:N timeout:N attempts:N`, and the
 * search-list expansion of a relative name (glibc `res_nsearch`).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';

export interface Nameserver {
  address: string;
  port: number;
}

export interface ResolvConf {
  nameservers: Nameserver[];
  /** Domains appended to relative names, in order. */
  search: string[];
  /** A name with at least this many dots is tried as-is first (glibc default 1, Kubernetes pods 5). */
  ndots: number;
  /** Per-try timeout in seconds (glibc default 5). */
  timeout: number;
  /** Rounds over the nameservers (glibc default 2). */
  attempts: number;
  /** `options use-vc`: TCP only. */
  useVc: boolean;
}

const MAX_NDOTS = 15; // glibc caps ndots at RES_MAXNDOTS
const MAX_SEARCH = 32; // bounded; glibc ≥ 2.26 has no fixed limit but we never need more

/** Parses resolv.conf text. Unknown lines are ignored, as glibc does. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2, useVc: false };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...args] = line.split(/\s+/);
    switch (key) {
      case 'nameserver': {
        // glibc accepts a bare IP (an IPv6 one may carry a %scope); no port syntax exists there.
        const a = args[0];
        if (a && isIP(a.replace(/%.*$/, ''))) conf.nameservers.push({ address: a, port: 53 });
        break;
      }
      case 'domain':
        if (args[0]) conf.search = [stripDot(args[0])];
        break;
      case 'search':
        conf.search = args.map(stripDot).filter((d) => d.length > 0).slice(0, MAX_SEARCH);
        break;
      case 'options':
        for (const opt of args) applyOption(conf, opt);
        break;
    }
  }
  return conf;
}

function applyOption(conf: ResolvConf, opt: string): void {
  const [name, value] = opt.split(':', 2);
  const n = value === undefined ? NaN : Number.parseInt(value, 10);
  if (name === 'ndots' && n >= 0) conf.ndots = Math.min(n, MAX_NDOTS);
  else if (name === 'timeout' && n >= 1) conf.timeout = Math.min(n, 30);
  else if (name === 'attempts' && n >= 1) conf.attempts = Math.min(n, 5);
  else if (name === 'use-vc' || name === 'usevc' || name === 'tcp') conf.useVc = true;
}

const stripDot = (d: string) => (d.endsWith('.') ? d.slice(0, -1) : d);

/** Reads and parses a resolv.conf file (default /etc/resolv.conf). */
export async function readResolvConf(path = '/etc/resolv.conf'): Promise<ResolvConf> {
  return parseResolvConf(await readFile(path, 'utf8'));
}

/**
 * The fully qualified names glibc tries for `name`, in order (without trailing dots):
 * a name ending in `.` is absolute; a name with ≥ ndots dots is tried as-is first, then with each
 * search domain; a name with fewer dots is tried with each search domain first, then as-is.
 */
export function searchNames(name: string, conf: Pick<ResolvConf, 'search' | 'ndots'>): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const expanded = conf.search.map((d) => `${name}.${d}`);
  const out = dots >= conf.ndots ? [name, ...expanded] : [...expanded, name];
  return [...new Set(out.map((n) => n.toLowerCase()))];
}

/** The cluster domain a pod's search list implies (`<ns>.svc.<zone>` → zone), if it looks like one. */
export function clusterDomainFromSearch(search: readonly string[]): string | undefined {
  for (const d of search) {
    const m = /^[^.]+\.svc\.(.+)$/.exec(d);
    if (m) return m[1];
  }
  for (const d of search) {
    const m = /^svc\.(.+)$/.exec(d);
    if (m) return m[1];
  }
  return undefined;
}

/** Parses `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address into a nameserver. */
export function parseNameserver(spec: string, defaultPort = 53): Nameserver | undefined {
  const s = spec.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return withPort(bracket[1], bracket[2], defaultPort);
  if (isIP(s) === 6) return { address: s, port: defaultPort };
  const hostPort = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (hostPort && isIP(hostPort[1]) === 4) return withPort(hostPort[1], hostPort[2], defaultPort);
  return undefined;
}

function withPort(address: string, port: string | undefined, def: number): Nameserver | undefined {
  if (!isIP(address)) return undefined;
  const p = port === undefined ? def : Number(port);
  return Number.isInteger(p) && p > 0 && p < 65536 ? { address, port: p } : undefined;
}
