/**
 * The probe's report: what discovery found, each node's true name, every name it was tried
 * under and why each failed, the verdict and the advice. Plain data (JSON-serialisable) so the
 * renderers, the advice rules and the tests work on it without sockets.
 */
import type { CandidateForm, TargetKind } from '../discovery/index.js';

/** Why one dial failed (undefined when the handshake completed). */
export type AttemptReason =
  /** The peer's challenge carried another name than the one dialed (`actual` holds it). */
  | 'mismatch'
  /** erl's long/short names rule refuses this host before any dial ("Hostname X is illegal"). */
  | 'illegal-host'
  /** The host part does not resolve (DNS through the chosen nameserver and search list). */
  | 'unresolvable'
  /** EPMD or the distribution port refused or timed out. */
  | 'unreachable'
  /** EPMD at the resolved address answered but has no node with that alive name. */
  | 'not-registered'
  /** The name matched; the cookies differ. */
  | 'bad-cookie'
  /** The peer's net_kernel:allow/1 list (or its required flags) excludes the probe. */
  | 'not-allowed'
  /** The port speaks TLS (a `-proto_dist inet_tls` node dialed in plain TCP), or our TLS failed. */
  | 'tls'
  /** The port accepted and answered in another protocol (HTTP/1.1, HTTP/2…): a proxy such as a mesh sidecar. */
  | 'foreign'
  /** The port accepted, then reset or closed without a byte of handshake: typically a proxy with nowhere to forward. */
  | 'reset'
  /** The handshake failed otherwise (closed, timed out, protocol error): see `detail`. */
  | 'handshake-failed';

export interface Attempt {
  /** The first candidate form that produced this name. */
  form: CandidateForm;
  /** Every form that produced the same name (`ip` and `dns` coincide when discovery gives IPs). */
  forms: CandidateForm[];
  /** The full node name dialed, `alive@host`. */
  dialed: string;
  accepted: boolean;
  reason?: AttemptReason;
  /** mismatch: the name the peer holds. */
  actual?: string;
  /** The address the host resolved to, when it did. */
  address?: string;
  /** One line on what happened (the underlying error's message, never a cookie). */
  detail?: string;
}

/** A node behind one host, as EPMD lists it, and every attempt made on it. */
export interface NodeReport {
  /** Its true name from the handshake challenge, or `alive@<ip>?` when no challenge was read. */
  name: string;
  /** Whether `name` came from the peer's challenge (false: the handshake never got that far). */
  nameKnown: boolean;
  alive: string;
  /** The host's address (what EPMD was asked on). */
  host: string;
  /** The name discovery returned for the host (SRV target, or the IP for A-record discovery). */
  dnsName: string;
  /** The distribution port EPMD gave. */
  port: number;
  /** Long names (`-name`): the true host has a dot or is an IP. Undefined when unknown. */
  longNames?: boolean;
  attempts: Attempt[];
  /** When the true name is unknown: why the first contact read no challenge. */
  firstContact?: string;
  /** The first contact's reason, when it failed (tls, foreign, reset…). */
  firstContactReason?: AttemptReason;
  /** Where the true name came from: the first contact's challenge, or an accepted dial under a name. */
  nameFrom?: 'challenge' | 'accepted';
  /** Other addresses of the same node (dual stack: the node answered on both families). */
  alsoAt?: string[];
}

/** One host discovery returned and what its EPMD said. */
export interface HostReport {
  ip: string;
  /** The discovery name (SRV target) or the IP. */
  dnsName: string;
  /** Where it came from. */
  sources: ('srv' | 'epmd-srv' | 'a' | 'aaaa' | 'kubernetes' | 'host')[];
  /** Shape of the discovery name (classifyName kind). */
  kind: TargetKind;
  /** `foreign`: something accepted on the EPMD port and answered in another protocol (or reset). */
  epmd: 'ok' | 'unreachable' | 'error' | 'foreign';
  /** EPMD's error, when it failed. */
  error?: string;
  /** Alive names EPMD listed that the probe skipped (its own, `rpc-…`, `remote-…` leftovers; with a node name given, every other node). */
  skipped: string[];
  /** Kubernetes: the pod behind the address and whether its endpoint is ready. */
  pod?: string;
  ready?: boolean;
}

export type DnsMode = 'endpoint_pod_names' | 'default' | 'unknown';
export type Verdict = 'ok' | 'broken';

export type AdviceCode =
  | 'endpoint_pod_names'
  | 'subdomain'
  | 'not-headless'
  | 'publish-not-ready'
  | 'not-ready'
  | 'name-mode'
  | 'cookie'
  | 'name-ip-mismatch'
  | 'ip-name-mismatch'
  | 'no-service'
  | 'dns-unreachable'
  | 'duplicate-name'
  | 'no-ports'
  | 'no-nodes'
  | 'epmd-unreachable'
  | 'dist-port'
  | 'not-allowed'
  | 'kubernetes-access'
  | 'ipv6'
  | 'ip-family'
  | 'tls'
  | 'sidecar'
  | 'statefulset-service'
  | 'host-network'
  | 'global-partition'
  | 'mesh'
  | 'node-name';

export interface Advice {
  code: AdviceCode;
  text: string;
}

/** The DNS side of discovery. */
export interface DiscoveryReport {
  /** The service as given on the command line. */
  service: string;
  /** The FQDN the search list resolved it to (or the name as given). */
  fqdn: string;
  nameserver: string;
  /** Outcome per question: `ok`, `nodata`, `nxdomain`, `timeout`, … (or `skipped`). */
  srv: { epmd: string; bare: string; a: string; aaaa: string };
  /** SRV targets (deduplicated) with their shapes. */
  targets: { name: string; kind: TargetKind; port: number }[];
  /** Addresses of the service name itself. */
  addresses: string[];
  /** Kubernetes API facts when `--kubernetes` was used. */
  kubernetes?: KubernetesFacts;
  /** A host or node probed without service discovery (`localhost`, an IP, `app@host`): no DNS questions were asked. */
  target?: { kind: 'host' | 'node'; host: string; address: string; alive?: string };
}

export interface KubernetesFacts {
  namespace: string;
  headless?: boolean;
  publishNotReadyAddresses?: boolean;
  /** Endpoint pod → ready. */
  endpoints: { ip: string; pod?: string; hostname?: string; ready: boolean }[];
  /** Pod → its predicted self FQDN, subdomain, what runs it and the problems predictNames found. */
  pods: {
    name: string;
    subdomain?: string;
    selfFqdn?: string;
    ip?: string;
    ready?: boolean;
    /** A container declares a readinessProbe. */
    readinessProbe?: boolean;
    hostNetwork?: boolean;
    /** The Kubernetes node it runs on (spec.nodeName). */
    nodeName?: string;
    /** The controlling owner's kind (ReplicaSet, StatefulSet, …). */
    owner?: string;
    problems: { code: string; message: string }[];
  }[];
  /** CoreDNS endpoint_pod_names per its ConfigMap (undefined when unreadable). */
  endpointPodNames?: boolean;
  /** A failure reading the API (the probe goes on with DNS). */
  error?: string;
}

export interface MeshReport {
  /**
   * from → to → 'pong' | 'pang' | error text; `why` for a pang (what `from` saw: resolution, EPMD,
   * TCP) or a drop; `dropped`: pong, but no longer connected once the cluster settled.
   */
  matrix: { from: string; to: string; result: string; why?: string; dropped?: boolean }[];
  /** The asked nodes once settled: their visible connections, OTP release, global's prevent_overlapping_partitions. */
  nodes?: { name: string; otp?: number; preventOverlappingPartitions?: boolean; connected?: string[] }[];
  /** Nodes the probe could not ask (no accepted connection, or rpc failed). */
  skipped: { node: string; reason: string }[];
}

export interface ProbeReport {
  verdict: Verdict;
  dnsMode: DnsMode;
  service: string;
  /** A short hash of the cookie used (sha256, 8 hex digits) and whether one was given at all. */
  cookie: { hash: string; known: boolean };
  discovery: DiscoveryReport;
  hosts: HostReport[];
  nodes: NodeReport[];
  mesh?: MeshReport;
  advice: Advice[];
  /** Wall time of the run, ms. */
  elapsedMs: number;
}
