/**
 * The fields of the Kubernetes API objects that discovery reads, as the API server sends them
 * (JSON; @kubernetes/client-node's model classes have the same field names, so either fits).
 * Declared here rather than imported from @kubernetes/client-node, so that the published types
 * compile without that package: it is an optional peer, needed only for `probe --kubernetes`.
 * Field meanings: the Kubernetes API reference (core/v1 Pod and Service, discovery/v1 EndpointSlice).
 */
export interface ApiObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  deletionTimestamp?: Date | string | null;
}

export interface ApiEndpointSlice {
  metadata?: ApiObjectMeta;
  addressType: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    hostname?: string;
    targetRef?: { kind?: string; name?: string; namespace?: string };
    nodeName?: string;
    zone?: string;
  }[];
}

export interface ApiService {
  metadata?: ApiObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    ports?: { name?: string; port: number; protocol?: string; targetPort?: string | number }[];
    publishNotReadyAddresses?: boolean;
    selector?: Record<string, string>;
  };
}

export interface ApiPod {
  metadata?: ApiObjectMeta;
  spec?: {
    hostname?: string;
    subdomain?: string;
    setHostnameAsFQDN?: boolean;
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: { name: string; readinessProbe?: object }[];
  };
  status?: {
    podIP?: string;
    podIPs?: { ip?: string }[];
    phase?: string;
    conditions?: { type: string; status: string }[];
  };
}

/**
 * The part of @kubernetes/client-node's `KubeConfig` that discovery uses: pass a real KubeConfig.
 * (`makeApiClient` is typed loosely so that the real, generic method fits.)
 */
export interface KubeConfigLike {
  getCurrentCluster(): { name: string; server: string } | null;
  getCurrentContext(): string;
  makeApiClient: (...args: never[]) => unknown;
}
