/** beamnode discovery: DNS (client and a CoreDNS-like server), the Kubernetes API, candidate names. */
export { DnsError, KubernetesError, KubernetesAccessError, type DnsErrorCode, type KubernetesErrorCode } from './errors.js';
export {
  parseResolvConf,
  readResolvConf,
  searchNames,
  parseNameserver,
  clusterDomainFromSearch,
  type ResolvConf,
  type Nameserver,
} from './resolv-conf.js';
export {
  DnsClient,
  lookupError,
  srvAnswer,
  type DnsClientOptions,
  type DnsLookup,
  type DnsResponse,
  type DnsStatus,
  type QueryOptions,
  type SrvAnswer,
} from './dns-client.js';
export { reverseName, ipFromReverseName, canonicalIp, type DnsRecord, type SrvRecord, type AddressRecord, type QueryType } from './dns-records.js';
export {
  classifyName,
  candidateNames,
  dashedIp,
  dashedIpv4,
  dashedIpv6,
  type ClassifiedName,
  type TargetClass,
  type TargetKind,
  type ClassifyContext,
  type Candidate,
  type CandidateForm,
  type CandidateInfo,
} from './classify.js';
export { parseCorefile, CorefileSyntaxError, type Corefile, type CorefileServer, type CorefileDirective, type KubernetesPluginConfig } from './corefile.js';
export { predictNames, kubeletHostname, type PodNamePrediction, type PredictionProblem, type PredictionProblemCode, type DnsSettings } from './predict.js';
export { endpointsOf, serviceOf, podOf, selectorString, type EndpointInfo, type PodInfo, type ServiceInfo, type ServicePortInfo } from './k8s-model.js';
export {
  KubernetesDiscovery,
  type KubernetesClientOptions,
  type RequestOptions,
  type CoreDnsInfo,
  type ServiceDiscovery,
} from './kubernetes.js';
