/**
 * The answers CoreDNS's `kubernetes` plugin gives for a model of Services and endpoints (CoreDNS plugin/kubernetes),
 * as a pure function: no sockets here (dns-server.ts serves it). Rules reproduced:
 * - `<svc>.<ns>.svc.<zone>` A/AAAA: a headless service's ready endpoints (NXDOMAIN when none is
 *   ready); a ClusterIP service's clusterIP.
 * - endpoint name: its hostname; else, with `endpoint_pod_names`, the pod name when ≤ 63 chars;
 *   else the dashed IP (`10-1-2-3`, `fd00-10-99--11`, a trailing `--` gets `0`).
 * - SRV on the bare service name: every port (named or not), N×M records, priority 0,
 *   weight floor(100/count), targets' A/AAAA in ADDITIONAL; no ports → NODATA (CoreDNS's port −1
 *   sentinel); `_port._proto.<svc>…` only named ports (no match → NXDOMAIN); ClusterIP service →
 *   the service's own name as target.
 * - `publishNotReadyAddresses` makes not-ready endpoints visible (the EndpointSlice controller
 *   marks them ready).
 * - PTR for endpoint IPs (→ endpoint name) and cluster IPs (→ service name).
 * - `a-b-c-d.<ns>.pod.<zone>`: `pods insecure` answers the IP in the name; `disabled` NXDOMAIN.
 * - NXDOMAIN vs NODATA (NOERROR, empty) as CoreDNS, with the zone's SOA in AUTHORITY; names
 *   outside the zone → REFUSED (no upstream).
 */
import { isIP } from 'node:net';
import { canonicalIp, ipFromReverseName, type DnsRecord } from '../discovery/dns-records.js';
import { dashedIp } from '../discovery/classify.js';

export interface ClusterDnsPort {
  name?: string;
  port: number;
  /** Default TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface ClusterDnsEndpoint {
  ip: string;
  /** EndpointSlice `hostname` (set for StatefulSet pods, or pods with hostname + subdomain == service). */
  hostname?: string;
  /** The pod the endpoint targets (`targetRef.name`). */
  podName?: string;
  /** Default true. */
  ready?: boolean;
}

export interface ClusterDnsService {
  name: string;
  namespace: string;
  /** `clusterIP: None`. Default true. */
  headless?: boolean;
  /** The ClusterIP of a non-headless service (default 10.96.0.100). */
  clusterIP?: string;
  ports?: ClusterDnsPort[];
  publishNotReadyAddresses?: boolean;
  endpoints?: ClusterDnsEndpoint[];
}

export interface ClusterDnsModel {
  /** Default `cluster.local`. */
  zone?: string;
  services: ClusterDnsService[];
  /** CoreDNS `endpoint_pod_names`. Default false (the kubeadm/kind/minikube default). */
  endpointPodNames?: boolean;
  /** CoreDNS `pods`. Default `disabled` (the plugin's default; kubeadm sets `insecure`). */
  podsMode?: 'disabled' | 'insecure';
  /** Record TTL, default 5 (the plugin's default; kubeadm sets 30). */
  ttl?: number;
}

export type ClusterDnsRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED' | 'NOTIMP';

export interface ClusterDnsAnswer {
  rcode: ClusterDnsRcode;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

const DEFAULT_CLUSTER_IP = '10.96.0.100';
const MAX_POD_NAME_LABEL = 63; // CoreDNS drops TargetRefName when len >= 64 (object/endpoint.go)

const norm = (n: string) => (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase();

/** The label CoreDNS gives an endpoint (`endpointHostname` in plugin/kubernetes/kubernetes.go). */
export function endpointLabel(ep: ClusterDnsEndpoint, endpointPodNames: boolean): string {
  if (ep.hostname) return ep.hostname.toLowerCase();
  if (endpointPodNames && ep.podName && ep.podName.length <= MAX_POD_NAME_LABEL) return ep.podName.toLowerCase();
  return dashedIp(canonicalIp(ep.ip));
}

/** Throws TypeError when the model is unusable (bad IPs, ports, names). */
export function checkModel(m: ClusterDnsModel): void {
  for (const s of m.services) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s.name) || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s.namespace))
      throw new TypeError(`service ${s.namespace}/${s.name}: names must be DNS labels`);
    if (s.clusterIP !== undefined && !isIP(s.clusterIP)) throw new TypeError(`service ${s.name}: clusterIP ${s.clusterIP} is not an IP`);
    for (const p of s.ports ?? [])
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new TypeError(`service ${s.name}: bad port ${p.port}`);
    for (const e of s.endpoints ?? []) if (!isIP(e.ip)) throw new TypeError(`service ${s.name}: endpoint IP ${e.ip} is not an IP`);
  }
}

/** The answer to one question, as CoreDNS would give it for this model. */
export function answerQuestion(model: ClusterDnsModel, qname: string, qtype: string): ClusterDnsAnswer {
  const zone = norm(model.zone ?? 'cluster.local');
  const ttl = model.ttl ?? 5;
  const podNames = model.endpointPodNames ?? false;
  const name = norm(qname);
  const soa: DnsRecord = {
    type: 'SOA',
    name: zone,
    ttl,
    mname: `ns.dns.${zone}`,
    rname: `hostmaster.${zone}`,
    serial: 1700000000,
    minimum: ttl,
  };
  const nxdomain = (): ClusterDnsAnswer => ({ rcode: 'NXDOMAIN', answers: [], authorities: [soa], additionals: [] });
  const nodata = (): ClusterDnsAnswer => ({ rcode: 'NOERROR', answers: [], authorities: [soa], additionals: [] });
  const ok = (answers: DnsRecord[], additionals: DnsRecord[] = []): ClusterDnsAnswer =>
    answers.length ? { rcode: 'NOERROR', answers, authorities: [], additionals } : nodata();

  if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) {
    const ip = ipFromReverseName(name);
    const targets = ip ? reverseTargets(model, ip, zone, podNames) : [];
    if (targets.length === 0) return nxdomain();
    return qtype === 'PTR' ? ok(targets.map((target) => ({ type: 'PTR', name, ttl, target }))) : nodata();
  }
  if (name !== zone && !name.endsWith(`.${zone}`)) return { rcode: 'REFUSED', answers: [], authorities: [], additionals: [] };
  if (name === zone) return qtype === 'SOA' ? ok([soa]) : nodata();
  const labels = name.slice(0, -zone.length - 1).split('.');
  const namespaces = new Set(model.services.map((s) => s.namespace));

  // <a-b-c-d>.<ns>.pod.<zone>
  if (labels.length >= 1 && labels.at(-1) === 'pod') {
    if (labels.length === 1) return nodata();
    if (labels.length !== 3 || (model.podsMode ?? 'disabled') === 'disabled') return nxdomain();
    const ip = podIp(labels[0]);
    if (!ip) return nxdomain();
    const want = isIP(ip) === 4 ? 'A' : 'AAAA';
    return qtype === want ? ok([{ type: want, name, ttl, address: ip } as DnsRecord]) : nodata();
  }
  if (labels.at(-1) !== 'svc') return nxdomain();
  if (labels.length === 1) return nodata();
  if (labels.length === 2) return namespaces.has(labels[0]) ? nodata() : nxdomain();

  const [svcName, ns] = labels.slice(-3, -1);
  const svc = model.services.find((s) => s.name === svcName && s.namespace === ns);
  if (!svc) return nxdomain();
  const svcFqdn = `${svc.name}.${svc.namespace}.svc.${zone}`;
  const headless = svc.headless ?? true;
  const visible = (svc.endpoints ?? []).filter((e) => (e.ready ?? true) || svc.publishNotReadyAddresses);
  const clusterIP = canonicalIp(svc.clusterIP ?? DEFAULT_CLUSTER_IP);
  const ports = svc.ports ?? [];
  const addr = (n: string, ip: string): DnsRecord =>
    isIP(ip) === 4 ? { type: 'A', name: n, ttl, address: ip } : { type: 'AAAA', name: n, ttl, address: canonicalIp(ip) };
  const addrOf = (n: string, ips: string[]) => ips.filter((ip) => (qtype === 'A' ? isIP(ip) === 4 : isIP(ip) === 6)).map((ip) => addr(n, ip));

  /** SRV records for these ports × (endpoints | the service itself), weight floor(100/count). */
  const srv = (owner: string, chosen: ClusterDnsPort[], eps: ClusterDnsEndpoint[]): ClusterDnsAnswer => {
    const targets: { target: string; ip: string }[] = headless
      ? eps.map((e) => ({ target: `${endpointLabel(e, podNames)}.${svcFqdn}`, ip: e.ip }))
      : [{ target: svcFqdn, ip: clusterIP }];
    const count = chosen.length * targets.length;
    if (count === 0) return nodata();
    const weight = Math.floor(100 / count);
    const answers: DnsRecord[] = [];
    const additionals: DnsRecord[] = [];
    const seen = new Set<string>();
    for (const p of chosen)
      for (const t of targets) {
        answers.push({ type: 'SRV', name: owner, ttl, priority: 0, weight, port: p.port, target: t.target });
        const key = `${t.target} ${t.ip}`;
        if (!seen.has(key)) {
          seen.add(key);
          additionals.push(addr(t.target, t.ip));
        }
      }
    return ok(answers, additionals);
  };

  if (labels.length === 3) {
    if (headless && visible.length === 0) return nxdomain(); // spec: no ready endpoints → NXDOMAIN
    if (qtype === 'A' || qtype === 'AAAA') return ok(addrOf(name, headless ? visible.map((e) => e.ip) : [clusterIP]));
    if (qtype === 'SRV') return srv(name, ports, visible);
    return nodata();
  }
  if (labels.length === 4) {
    if (!headless) return nxdomain();
    const eps = visible.filter((e) => endpointLabel(e, podNames) === labels[0]);
    if (eps.length === 0) return nxdomain();
    if (qtype === 'A' || qtype === 'AAAA') return ok(addrOf(name, eps.map((e) => e.ip)));
    if (qtype === 'SRV') return srv(name, ports, eps);
    return nodata();
  }
  if (labels.length === 5 && labels[0].startsWith('_') && labels[1].startsWith('_')) {
    const portName = labels[0].slice(1);
    const proto = labels[1].slice(1);
    // "Unnamed ports do not have an SRV record" in the _port._proto form.
    const chosen = ports.filter((p) => p.name?.toLowerCase() === portName && (p.protocol ?? 'TCP').toLowerCase() === proto);
    if (chosen.length === 0 || (headless && visible.length === 0)) return nxdomain();
    return qtype === 'SRV' ? srv(name, chosen, visible) : nodata();
  }
  return nxdomain();
}

function reverseTargets(model: ClusterDnsModel, ip: string, zone: string, podNames: boolean): string[] {
  const want = canonicalIp(ip);
  const out: string[] = [];
  for (const s of model.services) {
    const fqdn = `${s.name}.${s.namespace}.svc.${zone}`;
    if (s.headless ?? true) {
      for (const e of s.endpoints ?? [])
        if (((e.ready ?? true) || s.publishNotReadyAddresses) && canonicalIp(e.ip) === want) out.push(`${endpointLabel(e, podNames)}.${fqdn}`);
    } else if (canonicalIp(s.clusterIP ?? DEFAULT_CLUSTER_IP) === want) out.push(fqdn);
  }
  return [...new Set(out)];
}

/** `pods insecure`: IPv4 when the label has 3 dashes and no `--`, else IPv6 with `-` → `:`. */
function podIp(label: string): string | undefined {
  const dashes = label.split('-').length - 1;
  const text = dashes === 3 && !label.includes('--') ? label.replace(/-/g, '.') : label.replace(/-/g, ':');
  return isIP(text) ? canonicalIp(text) : undefined;
}
