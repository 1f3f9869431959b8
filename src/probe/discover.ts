/**
 * Discovery for the probe: the hosts behind a service, from DNS (SRV `_epmd._tcp.<svc>` and the
 * bare name as libcluster DNSSRV asks, then A/AAAA of the service) and optionally the Kubernetes
 * API (EndpointSlices, Service, Pods, the CoreDNS ConfigMap). Hosts are merged by IP; each keeps
 * the name discovery returned for it (the SRV target, else its IP), which is the name a
 * DNS-based strategy dials.
 */
import { isIP } from 'node:net';
import createDebug from 'debug';
import {
  canonicalIp,
  classifyName,
  type DnsClient,
  type DnsLookup,
  type KubernetesDiscovery,
  type SrvRecord,
  type TargetKind,
} from '../discovery/index.js';
import type { DiscoveryReport, DnsMode, HostReport, KubernetesFacts } from './types.js';

const log = createDebug('beamnode:probe:discover');

export interface DiscoverOptions {
  dns: DnsClient;
  /** The service as given: `myapp-headless`, `myapp-headless.default`, or its FQDN. */
  service: string;
  /** Label for the report (the nameserver(s) asked). */
  nameserverLabel: string;
  /** When given, also read the Kubernetes API (errors are recorded, DNS goes on). */
  kubernetes?: { client: () => Promise<KubernetesDiscovery>; namespace?: string };
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface Discovered {
  discovery: DiscoveryReport;
  hosts: HostReport[];
}

/** Bounds the number of SRV targets we follow (a service never has this many pods worth probing at once). */
const MAX_TARGETS = 256;

export async function discoverHosts(o: DiscoverOptions): Promise<Discovered> {
  const q = { signal: o.signal, timeoutMs: o.timeoutMs };
  // A nameserver that does not answer the first question would make each further one wait its
  // full timeout × attempts: ask the rest only when the first got an answer.
  const epmdSrv = await o.dns.lookup(`_epmd._tcp.${o.service}`, 'SRV', q);
  const dead = epmdSrv.status === 'timeout' || epmdSrv.status === 'failed';
  const skipped = (type: 'SRV' | 'A' | 'AAAA'): DnsLookup => ({ query: o.service, type, status: epmdSrv.status, name: o.service, tried: [], records: [] });
  const bareSrv = dead ? skipped('SRV') : await o.dns.lookup(o.service, 'SRV', q);
  const a = dead ? skipped('A') : await o.dns.lookup(o.service, 'A', q);
  const aaaa = dead ? skipped('AAAA') : await o.dns.lookup(o.service, 'AAAA', q);
  const fqdn = [bareSrv, a, aaaa, epmdSrv].find((l) => l.status === 'ok')?.name.replace(/^_epmd\._tcp\./, '') ?? bareSrv.name;
  log('%s: epmd SRV %s, SRV %s, A %s, AAAA %s (fqdn %s)', o.service, epmdSrv.status, bareSrv.status, a.status, aaaa.status, fqdn);

  const hosts: HostReport[] = [];
  const byIp = new Map<string, HostReport>();
  const add = (ip: string, dnsName: string, source: HostReport['sources'][number], kind: TargetKind) => {
    const key = canonicalIp(ip);
    const seen = byIp.get(key);
    if (seen) {
      if (!seen.sources.includes(source)) seen.sources.push(source);
      return seen;
    }
    const h: HostReport = { ip: key, dnsName, sources: [source], kind, epmd: 'ok', skipped: [] };
    byIp.set(key, h);
    hosts.push(h);
    return h;
  };

  const targets: DiscoveryReport['targets'] = [];
  const srvRecords: { r: SrvRecord; from: DnsLookup; source: 'epmd-srv' | 'srv' }[] = [];
  for (const [l, source] of [
    [epmdSrv, 'epmd-srv'],
    [bareSrv, 'srv'],
  ] as const) {
    for (const r of l.records) if (r.type === 'SRV') srvRecords.push({ r, from: l, source });
  }
  for (const { r, from, source } of srvRecords.slice(0, MAX_TARGETS)) {
    const target = r.target.replace(/\.$/, '').toLowerCase();
    const cls = classifyName(target, { service: fqdn });
    if (!targets.some((t) => t.name === target && t.port === r.port)) targets.push({ name: target, kind: cls.kind, port: r.port });
    // Only the EPMD port's records name hosts worth asking; the bare SRV lists every port.
    let ips = (from.response?.additionals ?? [])
      .filter((x) => (x.type === 'A' || x.type === 'AAAA') && x.name.replace(/\.$/, '').toLowerCase() === target)
      .map((x) => (x as { address: string }).address);
    if (ips.length === 0) ips = await addressesOf(o.dns, target, q);
    for (const ip of ips) add(ip, target, source, cls.kind);
  }
  for (const l of [a, aaaa]) {
    for (const r of l.records) {
      if (r.type !== 'A' && r.type !== 'AAAA') continue;
      const h = byIp.get(canonicalIp(r.address));
      if (h) {
        if (!h.sources.includes(l.type === 'A' ? 'a' : 'aaaa')) h.sources.push(l.type === 'A' ? 'a' : 'aaaa');
      } else add(r.address, canonicalIp(r.address), l.type === 'A' ? 'a' : 'aaaa', 'ip');
    }
  }

  const discovery: DiscoveryReport = {
    service: o.service,
    fqdn,
    nameserver: o.nameserverLabel,
    srv: { epmd: epmdSrv.status, bare: bareSrv.status, a: a.status, aaaa: aaaa.status },
    targets,
    addresses: [...a.records, ...aaaa.records].flatMap((r) => (r.type === 'A' || r.type === 'AAAA' ? [canonicalIp(r.address)] : [])),
  };

  if (o.kubernetes) {
    discovery.kubernetes = await kubernetesFacts(o.kubernetes, o.service, fqdn, o.signal);
    for (const ep of discovery.kubernetes.endpoints) {
      const known = byIp.get(canonicalIp(ep.ip));
      if (known) {
        if (!known.sources.includes('kubernetes')) known.sources.push('kubernetes');
        known.pod = ep.pod;
        known.ready = ep.ready;
      } else {
        const h = add(ep.ip, canonicalIp(ep.ip), 'kubernetes', 'ip');
        h.pod = ep.pod;
        h.ready = ep.ready;
      }
    }
  }
  return { discovery, hosts };
}

async function addressesOf(dns: DnsClient, name: string, q: { signal?: AbortSignal; timeoutMs?: number }): Promise<string[]> {
  const out: string[] = [];
  for (const type of ['A', 'AAAA'] as const) {
    const l = await dns.lookup(`${name}.`, type, q);
    for (const r of l.records) if (r.type === 'A' || r.type === 'AAAA') out.push(r.address);
  }
  return out;
}

/** Service name and namespace from `svc`, `svc.ns`, or `svc.ns.svc.<zone>`. */
export function splitService(service: string, fqdn: string, namespace?: string): { name: string; namespace: string | undefined } {
  const labels = (fqdn.includes('.svc.') && !isIP(fqdn) ? fqdn : service).split('.');
  return { name: labels[0], namespace: namespace ?? labels[1] };
}

async function kubernetesFacts(
  k: NonNullable<DiscoverOptions['kubernetes']>,
  service: string,
  fqdn: string,
  signal: AbortSignal | undefined,
): Promise<KubernetesFacts> {
  const { name, namespace } = splitService(service, fqdn, k.namespace);
  const facts: KubernetesFacts = { namespace: namespace ?? 'default', endpoints: [], pods: [] };
  try {
    const client = await k.client();
    // --namespace, else the one in the name DNS answered for (a pod's search list starts with its own), else the client's.
    facts.namespace = namespace ?? client.namespace;
    const zone = /\.svc\.(.+)$/.exec(fqdn)?.[1];
    const d = await client.discover(name, { signal, namespace: facts.namespace, ...(zone ? { clusterDomain: zone } : {}) });
    facts.headless = d.service.headless;
    facts.publishNotReadyAddresses = d.service.publishNotReadyAddresses;
    for (const ep of d.endpoints)
      for (const ip of ep.addresses)
        if (isIP(ip)) facts.endpoints.push({ ip: canonicalIp(ip), pod: ep.targetRef?.name, hostname: ep.hostname, ready: ep.ready ?? true });
    facts.pods = d.predictions.map((p) => {
      const pod = d.pods.find((x) => x.name === p.pod);
      return {
        name: p.pod,
        subdomain: pod?.subdomain,
        selfFqdn: p.selfFqdn,
        ...(p.ip ? { ip: p.ip } : {}),
        ...(pod ? { ready: pod.ready } : {}),
        ...(pod?.readinessProbe !== undefined ? { readinessProbe: pod.readinessProbe } : {}),
        ...(pod?.hostNetwork ? { hostNetwork: true } : {}),
        ...(pod?.nodeName ? { nodeName: pod.nodeName } : {}),
        ...(pod?.owner ? { owner: pod.owner.kind } : {}),
        problems: p.problems.map((x) => ({ code: x.code, message: x.message })),
      };
    });
    facts.endpointPodNames = d.coreDns.plugin?.endpointPodNames;
    if (d.errors.length) facts.error = d.errors.map((e) => e.message).join('; ');
  } catch (e) {
    if (signal?.aborted) throw e;
    facts.error = (e as Error).message;
  }
  return facts;
}

/**
 * CoreDNS's mode from the SRV targets' shapes: dashed IPs → default (no endpoint_pod_names);
 * Deployment pod names → endpoint_pod_names; StatefulSet hostnames look the same either way.
 * The Corefile, when the API could read it, wins.
 */
export function inferDnsMode(targets: readonly { name: string }[], corefile?: boolean): DnsMode {
  if (corefile !== undefined) return corefile ? 'endpoint_pod_names' : 'default';
  const classes = targets.map((t) => classifyName(t.name));
  if (classes.some((c) => c.kind === 'pod-name' && c.owner === 'replicaset')) return 'endpoint_pod_names';
  if (classes.some((c) => c.kind === 'dashed-ipv4' || c.kind === 'dashed-ipv6')) return 'default';
  return 'unknown';
}
