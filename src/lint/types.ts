/**
 * The shapes the manifest lint works on: objects read from YAML (with where they came from) and
 * the findings it reports. Findings name the file, the line the object starts on and the object,
 * so a user can jump to it; they never carry a cookie's value.
 */

export type Severity = 'error' | 'warning' | 'info';

/** Stable rule identifiers (used in `--json` output and in docs/lint.md). */
export type LintRule =
  | 'yaml-parse' // the file is not YAML
  | 'template' // a Helm/Go template: render it first
  | 'subdomain-no-service' // pod subdomain / StatefulSet serviceName names no Service in the set
  | 'subdomain-not-headless' // … names a Service that is not headless
  | 'subdomain-not-selected' // … names a headless Service whose selector does not select the pods
  | 'service-not-headless' // a Service carrying EPMD for BEAM pods has a cluster IP
  | 'selector-no-match' // a headless/EPMD Service selects no pod template in the set
  | 'service-no-ports' // headless Service without ports: no SRV records at all
  | 'service-unnamed-ports' // no named port: no `_<port>._tcp` SRV records
  | 'publish-not-ready' // not-ready pods vanish from DNS
  | 'short-names' // -sname / RELEASE_DISTRIBUTION=sname (or the release default) with DNS discovery
  | 'long-names-no-fqdn' // -name with a host taken from the pod, but the pod has no FQDN
  | 'node-host-suffix' // <pod>.<suffix> is not the pod's DNS name (subdomain, namespace, cluster domain)
  | 'node-host-empty' // the host (or a label of it) expands to nothing
  | 'node-host-k8s-node' // the host is the Kubernetes node's (spec.nodeName, status.hostIP) without hostNetwork
  | 'node-host-loopback' // 127.0.0.1 / localhost in a clustered workload
  | 'discovery-name-mismatch' // a product's peer discovery dials IPs, the nodes are named by DNS name (or the reverse)
  | 'env-shell-command' // $(hostname -f) in an env value: Kubernetes runs no shell there
  | 'env-var-reference' // $(VAR) in an env value where VAR is not defined earlier
  | 'name-too-long' // a DNS label > 63, an FQDN > 64 with setHostnameAsFQDN, a node name > 255
  | 'plain-text-cookie' // the cookie written in a manifest (env value, ConfigMap, -setcookie)
  | 'cookie-not-shared' // RabbitMQ without a cookie: each pod makes its own random one
  | 'coredns-endpoint-pod-names' // Deployment + subdomain: CoreDNS must run with endpoint_pod_names
  | 'coredns-corefile' // a CoreDNS ConfigMap whose Corefile does not parse
  | 'fixed-hostname' // hostname: in a Deployment template: every pod gets the same name
  | 'network-policy'; // a NetworkPolicy selecting BEAM pods blocks EPMD, the distribution port or DNS

export interface Finding {
  rule: LintRule;
  severity: Severity;
  file: string;
  /** 1-based line where the object's YAML document starts (0 when unknown). */
  line: number;
  /** `Kind/name`, or the file when no object applies. */
  object: string;
  namespace?: string;
  container?: string;
  message: string;
  /** What to change. */
  fix: string;
}

/** A plain Kubernetes object as read from YAML. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface ManifestObject {
  file: string;
  line: number;
  kind: string;
  name: string;
  /** metadata.namespace, else the lint's default namespace. */
  namespace: string;
  raw: KubeObject;
}

export interface LintOptions {
  /** Namespace for objects without one (default `default`, as kubectl). */
  namespace?: string;
  /** Cluster domain for FQDN lengths, unless a CoreDNS Corefile in the set says otherwise (default `cluster.local`). */
  clusterDomain?: string;
}

export interface LoadLimits {
  /** Largest file read (default 8 MiB). */
  maxFileBytes: number;
  /** Most files read from the given paths (default 5000). */
  maxFiles: number;
  /** Deepest directory walked (default 32). */
  maxDepth: number;
}
