/**
 * Predicts, per pod, the name the pod gives itself (`hostname -f`, which `erl -name app` takes)
 * and the name cluster DNS serves for it under a headless service, with and without CoreDNS's
 * `endpoint_pod_names` (CoreDNS plugin/kubernetes README; Kubernetes "DNS for Services and
 * Pods"). When the two differ, nodes started as `app@$(hostname -f)` cannot be reached under the
 * names discovery returns.
 */
import { dashedIp } from './classify.js';
import { canonicalIp } from './dns-records.js';
import type { PodInfo, ServiceInfo } from './k8s-model.js';

export interface DnsSettings {
  /** Cluster domain; default `cluster.local`. */
  clusterDomain?: string;
  /** Whether CoreDNS has `endpoint_pod_names`; undefined when the Corefile could not be read. */
  endpointPodNames?: boolean;
}

export type PredictionProblemCode =
  | 'not-headless' // no per-pod DNS names at all
  | 'no-subdomain' // hostname -f is the short name: erl -name app fails ("Can't set long node name")
  | 'subdomain-mismatch' // subdomain ≠ service: the FQDN names another (maybe absent) service
  | 'needs-endpoint-pod-names' // Deployment + subdomain: the FQDN exists in DNS only with endpoint_pod_names
  | 'name-mismatch' // the self FQDN is not served by DNS even with endpoint_pod_names
  | 'pod-name-too-long' // > 63 chars: kubelet truncates the hostname, CoreDNS uses the dashed IP
  | 'fqdn-too-long' // setHostnameAsFQDN with an FQDN > 64 chars: the pod does not start
  | 'not-in-dns' // not ready and publishNotReadyAddresses is false: absent from DNS
  | 'no-ip';

export interface PredictionProblem {
  code: PredictionProblemCode;
  message: string;
}

export interface PodNamePrediction {
  pod: string;
  namespace: string;
  ip: string | undefined;
  /** The pod's hostname as the kubelet sets it (spec.hostname, else the pod name cut to 63). */
  hostname: string;
  /** `hostname -f`: `<hostname>.<subdomain>.<ns>.svc.<zone>` when subdomain is set, else undefined. */
  selfFqdn: string | undefined;
  /** The EndpointSlice `hostname` the controller sets for this pod under this service. */
  endpointHostname: string | undefined;
  /** The pod's own name under the service in DNS (undefined for a non-headless service or without IP). */
  dnsName: {
    withoutEndpointPodNames: string | undefined;
    withEndpointPodNames: string | undefined;
    /** Per the Corefile, when `endpointPodNames` is known. */
    actual: string | undefined;
  };
  /** Whether the self FQDN equals the DNS name in each mode. */
  matches: { withoutEndpointPodNames: boolean; withEndpointPodNames: boolean; actual: boolean | undefined };
  /** The pod's endpoint appears in the service's DNS answers (ready, or publishNotReadyAddresses). */
  inDns: boolean;
  problems: PredictionProblem[];
}

const MAX_LABEL = 63;
const MAX_FQDN_HOSTNAME = 64; // kubelet: "64 characters is the max" for setHostnameAsFQDN

/** The kubelet's hostname: spec.hostname, else the pod name truncated to 63 without a trailing `-`/`.`. */
export function kubeletHostname(pod: Pick<PodInfo, 'name' | 'hostname'>): string {
  if (pod.hostname) return pod.hostname;
  return pod.name.length <= MAX_LABEL ? pod.name : pod.name.slice(0, MAX_LABEL).replace(/[-.]+$/, '');
}

export function predictNames(pods: readonly PodInfo[], service: ServiceInfo, dns: DnsSettings = {}): PodNamePrediction[] {
  const zone = dns.clusterDomain ?? 'cluster.local';
  const svcFqdn = `${service.name}.${service.namespace}.svc.${zone}`;
  return pods.map((pod) => {
    const problems: PredictionProblem[] = [];
    const add = (code: PredictionProblemCode, message: string) => problems.push({ code, message });
    const ip = pod.podIPs[0] ? canonicalIp(pod.podIPs[0]) : undefined;
    const hostname = kubeletHostname(pod);
    const selfFqdn = pod.subdomain ? `${hostname}.${pod.subdomain}.${pod.namespace}.svc.${zone}` : undefined;
    // ShouldSetHostname (k8s endpointslice utils): hostname && subdomain == service && same namespace.
    const endpointHostname =
      pod.hostname && pod.subdomain === service.name && pod.namespace === service.namespace ? pod.hostname : undefined;
    const label = (podNames: boolean) =>
      endpointHostname ?? (podNames && pod.name.length <= MAX_LABEL ? pod.name : ip ? dashedIp(ip) : undefined);
    const nameFor = (podNames: boolean) => {
      const l = service.headless ? label(podNames) : undefined;
      return l ? `${l}.${svcFqdn}` : undefined;
    };
    const without = nameFor(false);
    const withPodNames = nameFor(true);
    const actual = dns.endpointPodNames === undefined ? undefined : dns.endpointPodNames ? withPodNames : without;
    const inDns = service.headless && ip !== undefined && (pod.ready || service.publishNotReadyAddresses) && !(pod.deleting && !service.publishNotReadyAddresses);

    if (!ip) add('no-ip', `pod ${pod.name} has no IP yet`);
    if (!service.headless)
      add('not-headless', `service ${service.name} has clusterIP ${service.clusterIP ?? '?'}: DNS gives the service name, never a pod name; set clusterIP: None`);
    if (!pod.subdomain)
      add(
        'no-subdomain',
        `pod ${pod.name} has no spec.subdomain: hostname -f is the short name "${hostname}", so erl -name app fails ("Can't set long node name"); set subdomain: ${service.name}`,
      );
    else if (pod.subdomain !== service.name)
      add(
        'subdomain-mismatch',
        `pod ${pod.name} has subdomain "${pod.subdomain}", not the service "${service.name}": its FQDN ${selfFqdn} is not a name of this service`,
      );
    if (pod.name.length > MAX_LABEL && !pod.hostname)
      add(
        'pod-name-too-long',
        `pod name ${pod.name} is ${pod.name.length} characters: the kubelet cuts the hostname to "${hostname}" and CoreDNS falls back to the dashed IP even with endpoint_pod_names`,
      );
    if (pod.setHostnameAsFQDN && selfFqdn && selfFqdn.length > MAX_FQDN_HOSTNAME)
      add('fqdn-too-long', `setHostnameAsFQDN with FQDN ${selfFqdn} (${selfFqdn.length} characters; 64 is the max): the pod cannot start`);
    if (service.headless && ip && !inDns)
      add('not-in-dns', `pod ${pod.name} is not ready and publishNotReadyAddresses is false: DNS does not list it`);
    const mWithout = selfFqdn !== undefined && selfFqdn === without;
    const mWith = selfFqdn !== undefined && selfFqdn === withPodNames;
    if (selfFqdn && service.headless && pod.subdomain === service.name) {
      if (!mWithout && mWith && dns.endpointPodNames !== true)
        add(
          'needs-endpoint-pod-names',
          `pod ${pod.name} calls itself ${selfFqdn}, which DNS serves only when CoreDNS has endpoint_pod_names (without it: ${without ?? '-'})`,
        );
      else if (!mWithout && !mWith)
        add('name-mismatch', `pod ${pod.name} calls itself ${selfFqdn}, but DNS serves ${withPodNames ?? without ?? 'no name'} for it`);
    }
    return {
      pod: pod.name,
      namespace: pod.namespace,
      ip,
      hostname,
      selfFqdn,
      endpointHostname,
      dnsName: { withoutEndpointPodNames: without, withEndpointPodNames: withPodNames, actual },
      matches: {
        withoutEndpointPodNames: mWithout,
        withEndpointPodNames: mWith,
        actual: actual === undefined ? undefined : selfFqdn !== undefined && selfFqdn === actual,
      },
      inDns,
      problems,
    };
  });
}
