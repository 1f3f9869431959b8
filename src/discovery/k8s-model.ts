/**
 * The Kubernetes facts discovery reads, as small plain objects (what the probe reasons about),
 * and their conversion from the API's objects (@kubernetes/client-node model classes or the raw
 * JSON the API server sends; both have the same field names).
 */
import type { ApiEndpointSlice, ApiPod, ApiService } from './k8s-api.js';

export interface EndpointInfo {
  /** The EndpointSlice this endpoint came from. */
  slice: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN' | string;
  addresses: string[];
  /** `conditions.ready`; undefined means unknown, which consumers (CoreDNS too) treat as ready. */
  ready: boolean | undefined;
  serving: boolean | undefined;
  terminating: boolean | undefined;
  /** Set only when the pod has `spec.hostname` and `spec.subdomain` equal to the service name. */
  hostname: string | undefined;
  targetRef: { kind: string | undefined; name: string; namespace: string | undefined } | undefined;
  nodeName: string | undefined;
  zone: string | undefined;
}

export interface ServicePortInfo {
  name: string | undefined;
  port: number;
  protocol: string;
  targetPort: string | number | undefined;
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  type: string;
  /** `None` for a headless service. */
  clusterIP: string | undefined;
  headless: boolean;
  ports: ServicePortInfo[];
  publishNotReadyAddresses: boolean;
  selector: Record<string, string> | undefined;
}

export interface PodInfo {
  name: string;
  namespace: string;
  hostname: string | undefined;
  subdomain: string | undefined;
  setHostnameAsFQDN: boolean;
  podIPs: string[];
  /** The Ready condition is True. */
  ready: boolean;
  phase: string | undefined;
  /** The controlling owner (ReplicaSet, StatefulSet, DaemonSet, Job, …). */
  owner: { kind: string; name: string } | undefined;
  labels: Record<string, string>;
  nodeName: string | undefined;
  /** metadata.deletionTimestamp is set (terminating). */
  deleting: boolean;
  /** spec.hostNetwork: the pod has its node's IP and hostname. */
  hostNetwork?: boolean;
  /** Some container declares a readinessProbe (else Ready follows the containers running). */
  readinessProbe?: boolean;
}

export function endpointsOf(slice: ApiEndpointSlice): EndpointInfo[] {
  const sliceName = slice.metadata?.name ?? '';
  return (slice.endpoints ?? []).map((e) => ({
    slice: sliceName,
    addressType: slice.addressType,
    addresses: [...(e.addresses ?? [])],
    ready: e.conditions?.ready ?? undefined,
    serving: e.conditions?.serving ?? undefined,
    terminating: e.conditions?.terminating ?? undefined,
    hostname: e.hostname || undefined,
    targetRef: e.targetRef?.name ? { kind: e.targetRef.kind, name: e.targetRef.name, namespace: e.targetRef.namespace } : undefined,
    nodeName: e.nodeName || undefined,
    zone: e.zone || undefined,
  }));
}

export function serviceOf(svc: ApiService): ServiceInfo {
  const clusterIP = svc.spec?.clusterIP || undefined;
  return {
    name: svc.metadata?.name ?? '',
    namespace: svc.metadata?.namespace ?? '',
    type: svc.spec?.type ?? 'ClusterIP',
    clusterIP,
    headless: clusterIP === 'None',
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name || undefined,
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      targetPort: p.targetPort ?? undefined,
    })),
    publishNotReadyAddresses: svc.spec?.publishNotReadyAddresses === true,
    selector: svc.spec?.selector ? { ...svc.spec.selector } : undefined,
  };
}

export function podOf(pod: ApiPod): PodInfo {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => Boolean(ip));
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    hostname: pod.spec?.hostname || undefined,
    subdomain: pod.spec?.subdomain || undefined,
    setHostnameAsFQDN: pod.spec?.setHostnameAsFQDN === true,
    podIPs: ips,
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    phase: pod.status?.phase,
    owner: owner ? { kind: owner.kind, name: owner.name } : undefined,
    labels: { ...(pod.metadata?.labels ?? {}) },
    nodeName: pod.spec?.nodeName || undefined,
    deleting: pod.metadata?.deletionTimestamp != null,
    hostNetwork: pod.spec?.hostNetwork === true,
    readinessProbe: (pod.spec?.containers ?? []).some((c) => c.readinessProbe != null),
  };
}

/** A label selector string (`a=b,c=d`) for a service's selector. */
export function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
