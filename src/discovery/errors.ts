/**
 * Errors of the discovery layer. DNS outcomes that a diagnosis distinguishes (NXDOMAIN vs NODATA
 * vs SERVFAIL vs timeout) each have their own code; Kubernetes API failures say which resource
 * and verb failed so that a 403 is never mistaken for "no nodes".
 */
import { BeamnodeError } from '../errors.js';

export type DnsErrorCode =
  | 'BEAM_ERR_DNS_NXDOMAIN' // the name does not exist (every search-list expansion)
  | 'BEAM_ERR_DNS_NODATA' // the name exists, no record of the asked type (NOERROR, empty answer)
  | 'BEAM_ERR_DNS_SERVFAIL'
  | 'BEAM_ERR_DNS_REFUSED'
  | 'BEAM_ERR_DNS_RCODE' // any other non-zero rcode (FORMERR, NOTIMP, …)
  | 'BEAM_ERR_DNS_TIMEOUT' // no valid answer from any nameserver within the attempts
  | 'BEAM_ERR_DNS_BAD_RESPONSE' // undecodable, too large, or not an answer to our question
  | 'BEAM_ERR_DNS_NETWORK' // socket error (e.g. TCP connection refused)
  | 'BEAM_ERR_DNS_USAGE'; // bad argument (not a name, not an IP, no nameserver)

export class DnsError extends BeamnodeError {
  declare readonly code: DnsErrorCode;
  /** The fully qualified name(s) asked, in the order tried. */
  readonly names: readonly string[];
  readonly type: string;
  constructor(code: DnsErrorCode, type: string, names: readonly string[], message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.type = type;
    this.names = names;
  }
}

export type KubernetesErrorCode =
  | 'BEAM_ERR_K8S_FORBIDDEN' // 403 (RBAC)
  | 'BEAM_ERR_K8S_UNAUTHORIZED' // 401 (no or bad credentials)
  | 'BEAM_ERR_K8S_NOT_FOUND' // 404 on a named object (service, configmap)
  | 'BEAM_ERR_K8S_UNREACHABLE' // connection refused, DNS failure of the API host, TLS failure
  | 'BEAM_ERR_K8S_TIMEOUT'
  | 'BEAM_ERR_K8S_CONFIG' // no usable kubeconfig / in-cluster credentials
  | 'BEAM_ERR_K8S_CLIENT' // @kubernetes/client-node cannot be loaded (missing or broken install)
  | 'BEAM_ERR_K8S_API'; // any other HTTP status or a malformed body

export class KubernetesError extends BeamnodeError {
  declare readonly code: KubernetesErrorCode;
  /** HTTP status when the API answered. */
  readonly status: number | undefined;
  /** What was asked, e.g. `list endpointslices.discovery.k8s.io in default`. */
  readonly request: string;
  constructor(code: KubernetesErrorCode, request: string, message: string, status?: number, options?: ErrorOptions) {
    super(code, message, options);
    this.request = request;
    this.status = status;
  }
}

/** A 403: the credentials work, RBAC forbids this verb on this resource. `fix` is a Role that allows it. */
export class KubernetesAccessError extends KubernetesError {
  declare readonly code: 'BEAM_ERR_K8S_FORBIDDEN';
  readonly verb: string;
  /** `endpointslices.discovery.k8s.io`, `services`, `pods`, `configmaps`. */
  readonly resource: string;
  readonly namespace: string;
  /** The API server's own message (`pods is forbidden: User "…" cannot list resource …`). */
  readonly apiMessage: string;
  /** A kubectl command that grants the missing permission. */
  readonly fix: string;
  constructor(verb: string, resource: string, namespace: string, apiMessage: string, options?: ErrorOptions) {
    const [plural, group = ''] = splitResource(resource);
    const fix =
      `kubectl -n ${namespace} create role beamnode-discovery --verb=${verb} --resource=${resource}` +
      ` && kubectl -n ${namespace} create rolebinding beamnode-discovery --role=beamnode-discovery` +
      ` --serviceaccount=${namespace}:<service-account>` +
      ` (Role rule: apiGroups: ["${group}"], resources: ["${plural}"], verbs: ["${verb}"])`;
    super(
      'BEAM_ERR_K8S_FORBIDDEN',
      `${verb} ${resource} in ${namespace}`,
      `forbidden: cannot ${verb} ${resource} in namespace ${namespace} (HTTP 403: ${apiMessage}). ` +
        `This is an RBAC problem, not an empty cluster. Fix: ${fix}`,
      403,
      options,
    );
    this.verb = verb;
    this.resource = resource;
    this.namespace = namespace;
    this.apiMessage = apiMessage;
    this.fix = fix;
  }
}

function splitResource(resource: string): [string, string?] {
  const dot = resource.indexOf('.');
  return dot < 0 ? [resource] : [resource.slice(0, dot), resource.slice(dot + 1)];
}
