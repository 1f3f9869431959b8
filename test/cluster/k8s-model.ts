/**
 * What Kubernetes would make of a pod list, as plain text and names (no processes, no root):
 * the kubelet's /etc/hosts and /etc/resolv.conf, the CoreDNS endpoint names, and a dnsmasq
 * configuration serving the records CoreDNS's `kubernetes` plugin would serve.
 *
 * Sources: the kubelet's hosts file (pkg/kubelet), CoreDNS plugin/kubernetes (endpoint hostnames,
 * record shapes, SRV weights, readiness), Kubernetes' ShouldSetHostname and the 63-character
 * hostname limit, and dnsmasq(8) for the flags.
 */

/** CoreDNS's `kubernetes` plugin without (`default`) or with `endpoint_pod_names`. */
export type DnsMode = 'default' | 'endpoint_pod_names';

export interface PodSpec {
  /** metadata.name, e.g. `myapp-7d9f8b6c5-abcde` (a Deployment's pod) or `myapp-0`. */
  podName: string;
  /** spec.hostname (a StatefulSet sets it to the pod name; Deployments never do). */
  hostname?: string;
  /** spec.subdomain: the kubelet writes the FQDN line into /etc/hosts only when it is set. */
  subdomain?: string;
  /** Ready condition (default true). Not-ready pods are left out of DNS unless publishNotReadyAddresses. */
  ready?: boolean;
}

export interface ServiceModel {
  namespace: string;
  /** The headless service's name, e.g. `myapp-headless`. */
  service: string;
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** spec.publishNotReadyAddresses: not-ready pods count as ready for DNS. */
  publishNotReadyAddresses?: boolean;
  /** spec.ports, default one TCP port named `epmd`, 4369. `[]`: A records but no SRV (CoreDNS's port -1). */
  ports?: ServicePort[];
  /** clusterIP: None (default true). A ClusterIP service answers with its own name and address. */
  headless?: boolean;
  /** The virtual address of a non-headless service (required when headless is false). */
  clusterIP?: string;
}

export interface ServicePort {
  /** Port name: `_<name>._<proto>` SRV records exist only for named ports. */
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export const DEFAULT_PORTS: readonly ServicePort[] = [{ name: 'epmd', port: 4369, protocol: 'TCP' }];

export interface PlacedPod extends PodSpec {
  ip: string;
  /** The pod's IPv6 address in a dual-stack or IPv6-only cluster. */
  ip6?: string;
}

const zoneOf = (svc: ServiceModel) => svc.clusterDomain ?? 'cluster.local';

/** `<svc>.<ns>.svc.<zone>` */
export function serviceFqdn(svc: ServiceModel): string {
  return `${svc.service}.${svc.namespace}.svc.${zoneOf(svc)}`;
}

/** The pod's hostname as the kubelet sets it: spec.hostname or the pod name, cut to 63, no trailing `-`/`.`. */
export function kubeletHostname(pod: PodSpec): string {
  const h = (pod.hostname ?? pod.podName).slice(0, 63);
  return h.replace(/[-.]+$/, '');
}

/** The FQDN the pod believes it has (`hostname -f`), or undefined without a subdomain. */
export function podSelfFqdn(pod: PodSpec, svc: ServiceModel): string | undefined {
  if (!pod.subdomain) return undefined;
  return `${kubeletHostname(pod)}.${pod.subdomain}.${svc.namespace}.svc.${zoneOf(svc)}`;
}

/** The kubelet's managed /etc/hosts (pkg/kubelet/kubelet_pods.go managedHostsFileContent). */
export function kubeletHostsFile(pod: PlacedPod, svc: ServiceModel): string {
  const host = kubeletHostname(pod);
  const fqdn = podSelfFqdn(pod, svc);
  return [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    fqdn ? `${pod.ip}\t${fqdn}\t${host}` : `${pod.ip}\t${host}`,
    '',
  ].join('\n');
}

/** A pod's /etc/resolv.conf with ClusterFirst DNS policy. */
export function podResolvConf(dnsIp: string, svc: ServiceModel): string {
  const zone = zoneOf(svc);
  return `nameserver ${dnsIp}\nsearch ${svc.namespace}.svc.${zone} svc.${zone} ${zone}\noptions ndots:5\n`;
}

/** `10.1.2.3` → `10-1-2-3`, `fd00::11` → `fd00--11` (CoreDNS's name for an endpoint without hostname). */
export function dashedIp(ip: string): string {
  if (!ip.includes(':')) return ip.replaceAll('.', '-');
  const d = ip.toLowerCase().replaceAll(':', '-');
  return d.endsWith('-') ? `${d}0` : d;
}

/** The addresses DNS serves for a pod: IPv4, IPv6 or both (dual stack lists both families). */
export function podAddresses(pod: PlacedPod, ipv6Only = false): string[] {
  if (ipv6Only && pod.ip6) return [pod.ip6];
  return pod.ip6 ? [pod.ip, pod.ip6] : [pod.ip];
}

/** Whether the EndpointSlice controller fills in `hostname` (ShouldSetHostname). */
export function endpointHasHostname(pod: PodSpec, svc: ServiceModel): boolean {
  return !!pod.hostname && pod.subdomain === svc.service;
}

/** CoreDNS `endpointHostname`: the endpoint's first label in per-endpoint A, SRV and PTR records. */
export function endpointLabel(pod: PlacedPod, svc: ServiceModel, mode: DnsMode, ipv6Only = false): string {
  if (endpointHasHostname(pod, svc)) return pod.hostname!;
  // TargetRefName is dropped when the pod name does not fit a DNS label (object/endpoint.go).
  if (mode === 'endpoint_pod_names' && pod.podName.length <= 63) return pod.podName;
  return dashedIp(ipv6Only && pod.ip6 ? pod.ip6 : pod.ip);
}

/** `<endpoint label>.<svc>.<ns>.svc.<zone>` */
export function endpointFqdn(pod: PlacedPod, svc: ServiceModel, mode: DnsMode, ipv6Only = false): string {
  return `${endpointLabel(pod, svc, mode, ipv6Only)}.${serviceFqdn(svc)}`;
}

/** The pods DNS publishes: ready ones, or all with publishNotReadyAddresses. */
export function publishedPods(pods: readonly PlacedPod[], svc: ServiceModel): PlacedPod[] {
  return pods.filter((p) => svc.publishNotReadyAddresses || p.ready !== false);
}

export interface DnsmasqConfigInput {
  svc: ServiceModel;
  pods: readonly PlacedPod[];
  mode: DnsMode;
  /** The address dnsmasq listens on (port 53: glibc's resolv.conf cannot name a port). */
  listenIp: string;
  /** Reverse zone kept local, e.g. `7.231.10.in-addr.arpa` for 10.231.7.0/24. */
  reverseZone: string;
  /** Record TTL, default 5 (the plugin's default). */
  ttl?: number;
  /** IPv6-only cluster: AAAA records only (pods' `ip6`), dashed-IPv6 endpoint names. */
  ipv6Only?: boolean;
}

/**
 * A dnsmasq configuration answering as CoreDNS does for one service (configs A/B, §5.2/5.3; §3.2):
 * headless: service A records, per-endpoint A (and PTR: dnsmasq gives an IP's PTR to its first
 * name, so endpoint names come first), SRV on the bare service name (libcluster DNSSRV: every port)
 * and on `_<port>._<proto>` (named ports); ClusterIP: the service's own name as the SRV target and
 * its clusterIP as the A record. `pods insecure` names without PTR; NXDOMAIN for the rest of the zone.
 */
export function dnsmasqConfig(input: DnsmasqConfigInput): string {
  const { svc, mode, listenIp, reverseZone } = input;
  const ttl = input.ttl ?? 5;
  const ports = svc.ports ?? DEFAULT_PORTS;
  const zone = zoneOf(svc);
  const published = publishedPods(input.pods, svc);
  const lines = [
    `# generated by test/cluster/k8s-model.ts: CoreDNS kubernetes plugin, mode ${mode}`,
    'port=53',
    `listen-address=${listenIp}`,
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    `local=/${zone}/`,
    `local=/${reverseZone}/`,
    `local-ttl=${ttl}`,
  ];
  // Each SRV owner: the bare name (every port) and `_<name>._<proto>` per named port.
  const owners: { owner: string; ports: readonly ServicePort[] }[] = [{ owner: serviceFqdn(svc), ports }];
  for (const p of ports) {
    if (p.name) owners.push({ owner: `_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${serviceFqdn(svc)}`, ports: [p] });
  }
  // CoreDNS: priority 0, weight floor(100/N) over the answer's records; dnsmasq's order is target,port,priority,weight.
  const srv = (owner: string, target: string, port: number, n: number) =>
    `srv-host=${owner},${target},${port},0,${Math.floor(100 / n)}`;
  if (svc.headless === false) {
    if (!svc.clusterIP) throw new Error('a ClusterIP service needs clusterIP');
    lines.push(`host-record=${serviceFqdn(svc)},${svc.clusterIP},${ttl}`);
    for (const o of owners) for (const p of o.ports) lines.push(srv(o.owner, serviceFqdn(svc), p.port, o.ports.length));
  } else {
    const v6only = input.ipv6Only === true;
    for (const p of published) lines.push(`host-record=${endpointFqdn(p, svc, mode, v6only)},${podAddresses(p, v6only).join(',')},${ttl}`);
    for (const p of published) lines.push(`host-record=${serviceFqdn(svc)},${podAddresses(p, v6only).join(',')},${ttl}`);
    for (const o of owners) {
      const n = published.length * o.ports.length;
      for (const p of published) for (const port of o.ports) lines.push(srv(o.owner, endpointFqdn(p, svc, mode, v6only), port.port, n));
    }
  }
  // `pods insecure`: a-b-c-d.<ns>.pod.<zone> for any pod IP; `address=` adds no PTR, as CoreDNS.
  if (input.ipv6Only !== true) for (const p of input.pods) lines.push(`address=/${dashedIp(p.ip)}.${svc.namespace}.pod.${zone}/${p.ip}`);
  return lines.join('\n') + '\n';
}

/** `a.b.c.0/24` → `c.b.a.in-addr.arpa`; only /24 subnets are used by the rig. */
export function reverseZoneOf24(subnet: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.0\/24$/.exec(subnet);
  if (!m) throw new Error(`subnet must be a.b.c.0/24, got ${subnet}`);
  return `${m[3]}.${m[2]}.${m[1]}.in-addr.arpa`;
}
