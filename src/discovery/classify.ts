/**
 * What a name that discovery returned says about the cluster (an IP, a dashed pod A record, a
 * hostname under the service), and the candidate node names the probe dials for one host (`alive@IP`, `@localhost`, short, DNS, FQDN).
 *
 * Shapes, by the first label of the name:
 *   10-1-2-3           CoreDNS default for an endpoint without hostname (dashed IPv4)
 *   fd00-10-99--11     the same for IPv6 (`:` → `-`; an address ending in `::` gets a trailing `0`)
 *   3763656465393934   legacy kube-dns hash label (16 hex digits)
 *   app-7d9f8b6c5-x2b4q  a ReplicaSet (Deployment) pod name → CoreDNS `endpoint_pod_names`
 *   app-0              a StatefulSet pod hostname
 * and the service's own name (a SRV target equal to the service → the service is not headless).
 */
import { isIP } from 'node:net';
import { canonicalIp } from './dns-records.js';

export type TargetClass =
  | { kind: 'pod-name'; owner: 'replicaset'; workload: string; podTemplateHash: string }
  | { kind: 'pod-name'; owner: 'statefulset'; workload: string; ordinal: number }
  | { kind: 'dashed-ipv4'; ip: string }
  | { kind: 'dashed-ipv6'; ip: string }
  | { kind: 'service-itself' }
  | { kind: 'kube-dns-hash'; hash: string }
  | { kind: 'ip'; ip: string }
  | { kind: 'other' };

export type TargetKind = TargetClass['kind'];

export type ClassifiedName = TargetClass & {
  /** The name, lower case, without trailing dot. */
  name: string;
  /** The first label (the endpoint part of `<endpoint>.<svc>.<ns>.svc.<zone>`). */
  label: string;
  /** The rest after the first label ('' when none). */
  domain: string;
  /** One sentence on what this shape means for BEAM clustering. */
  note: string;
};

export interface ClassifyContext {
  /** The service's FQDN (`<svc>.<ns>.svc.<zone>`) or the name that was queried; a target equal to it is `service-itself`. */
  service?: string;
}

const norm = (n: string) => (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase();

// Pod names of a ReplicaSet: `<deployment>-<pod-template-hash>-<5>`. Kubernetes draws both from
// "bcdfghjklmnpqrstvwxz2456789", but hand-written examples (`abcde`) use any [a-z0-9]: accept those too.
const REPLICASET_POD = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-([a-z0-9]{5,10})-([a-z0-9]{5})$/;
const STATEFULSET_POD = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(\d{1,9})$/;
const DASHED_IPV4 = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/;
const KUBE_DNS_HASH = /^[0-9a-f]{16}$/;

export function classifyName(name: string, ctx: ClassifyContext = {}): ClassifiedName {
  const n = norm(name);
  const dot = n.indexOf('.');
  const label = dot < 0 ? n : n.slice(0, dot);
  const domain = dot < 0 ? '' : n.slice(dot + 1);
  const base = { name: n, label, domain };
  if (isIP(n)) return { ...base, kind: 'ip', ip: canonicalIp(n), note: 'an IP literal: nodes must be named app@<this IP>' };
  if (ctx.service && n === norm(ctx.service))
    return {
      ...base,
      kind: 'service-itself',
      note: 'the target is the service itself: the Service is not headless (clusterIP is set), so DNS names no pods',
    };
  const v4 = dashedIpv4(label);
  if (v4)
    return {
      ...base,
      kind: 'dashed-ipv4',
      ip: v4,
      note: 'a dashed-IP endpoint name: the endpoint has no hostname and CoreDNS runs without endpoint_pod_names; no BEAM node calls itself this',
    };
  const v6 = dashedIpv6(label);
  if (v6)
    return {
      ...base,
      kind: 'dashed-ipv6',
      ip: v6,
      note: 'a dashed-IPv6 endpoint name: the endpoint has no hostname and CoreDNS runs without endpoint_pod_names; no BEAM node calls itself this',
    };
  if (KUBE_DNS_HASH.test(label))
    return { ...base, kind: 'kube-dns-hash', hash: label, note: 'a kube-dns hash label: legacy kube-dns names endpoints without hostname this way; no BEAM node calls itself this' };
  // Four numbers that are not an IP (`300-1-2-3`) are a broken dashed IP, not a StatefulSet ordinal.
  if (/^\d+(-\d+){3}$/.test(label)) return { ...base, kind: 'other', note: 'looks like a dashed IP but is not a valid one' };
  let m = REPLICASET_POD.exec(label);
  if (m && /\d/.test(m[2] + m[3]))
    return {
      ...base,
      kind: 'pod-name',
      owner: 'replicaset',
      workload: m[1],
      podTemplateHash: m[2],
      note: 'a Deployment pod name: CoreDNS has endpoint_pod_names; matches nodes started as app@$(hostname -f) when the pod subdomain is the service',
    };
  m = STATEFULSET_POD.exec(label);
  if (m)
    return {
      ...base,
      kind: 'pod-name',
      owner: 'statefulset',
      workload: m[1],
      ordinal: Number(m[2]),
      note: 'a StatefulSet pod hostname: matches nodes started as app@$(hostname -f) when serviceName is this service',
    };
  return { ...base, kind: 'other', note: 'a name of no known Kubernetes shape' };
}

/** `10-1-2-3` → `10.1.2.3`, else undefined. */
export function dashedIpv4(label: string): string | undefined {
  const m = DASHED_IPV4.exec(label);
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  return parts.every((p) => p <= 255) ? parts.join('.') : undefined;
}

/** `fd00-10-99--11` → `fd00:10:99::11`, `2001-db8--0` → `2001:db8::`, else undefined. */
export function dashedIpv6(label: string): string | undefined {
  if (!/^[0-9a-f-]+$/.test(label) || label.startsWith('-')) return undefined;
  const groups = label.split('-');
  // Without `--` an IPv6 address needs all eight groups; otherwise this is just a dashed word.
  if (!label.includes('--') && groups.length !== 8) return undefined;
  if (groups.some((g) => g.length > 4)) return undefined;
  const text = label.replace(/-/g, ':');
  return isIP(text) === 6 ? canonicalIp(text) : undefined;
}

/** The CoreDNS endpoint label for an IP: dots or colons to dashes; a trailing `-` gets a `0`. */
export function dashedIp(ip: string): string {
  if (ip.includes('.') && !ip.includes(':')) return ip.replace(/\./g, '-');
  const h = ip.toLowerCase().replace(/:/g, '-');
  return h.endsWith('-') ? `${h}0` : h;
}

// ---------------------------------------------------------------------------------------------

export type CandidateForm = 'ip' | 'localhost' | 'short' | 'dns' | 'fqdn';

export interface CandidateInfo {
  /** The alive part (what EPMD lists), e.g. `myapp`. */
  alive: string;
  /** The host's IP (IPv4 or IPv6 literal). */
  ip?: string;
  /** The name discovery returned for this host (SRV target, PTR name, …). */
  dnsName?: string;
  /** The node's true name from the handshake challenge (`myapp@host`) or just its host part. */
  trueName?: string;
  /** Include `alive@localhost` (default true; a long-names node rejects it, which is the point). */
  localhost?: boolean;
}

export interface Candidate {
  /** `alive@host`. */
  node: string;
  host: string;
  /** The first form that produced this name. */
  form: CandidateForm;
  /** Every form that produced this same name (after deduplication). */
  forms: CandidateForm[];
  /** The host part has a dot or is an IP literal: a long (`-name`) name; otherwise a short (`-sname`) one. */
  long: boolean;
}

/** The node names to try for one host, deduplicated, in the order ip, localhost, short, dns, fqdn. */
export function candidateNames(info: CandidateInfo): Candidate[] {
  const trueHost = info.trueName
    ? canonicalIp(norm(info.trueName.includes('@') ? info.trueName.slice(info.trueName.indexOf('@') + 1) : info.trueName))
    : undefined;
  const dns = info.dnsName ? norm(info.dnsName) : undefined;
  const shortFrom = [trueHost, dns].find((h) => h !== undefined && !isIP(h) && h.includes('.'));
  const hosts: [CandidateForm, string | undefined][] = [
    ['ip', info.ip ? canonicalIp(info.ip) : undefined],
    ['localhost', info.localhost === false ? undefined : 'localhost'],
    ['short', shortFrom?.slice(0, shortFrom.indexOf('.')) ?? (trueHost && !isIP(trueHost) ? trueHost : undefined)],
    ['dns', dns],
    ['fqdn', trueHost],
  ];
  const out: Candidate[] = [];
  for (const [form, host] of hosts) {
    if (!host) continue;
    const node = `${info.alive}@${host}`;
    const seen = out.find((c) => c.node === node);
    if (seen) seen.forms.push(form);
    else out.push({ node, host, form, forms: [form], long: isIP(host) !== 0 || host.includes('.') });
  }
  return out;
}
