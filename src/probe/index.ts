/** beamnode probe: the name-matching experiment, its advice and its reports. */
export { runProbe, cookieHash, mergeDualStack, LEFTOVER_NAME, DEFAULT_TIMEOUT_MS, DEFAULT_CONCURRENCY, type ProbeOptions } from './probe.js';
export { identifyForeign, type Foreign, type ForeignKind } from './foreign.js';
export { advise, judge, adviseAndJudge, dnsAttempt, reachableByDiscovery } from './advice.js';
export { renderTable, renderJson, wantColor, type TableOptions } from './render.js';
export { discoverHosts, inferDnsMode, splitService, type DiscoverOptions, type Discovered } from './discover.js';
export { ProbeDialer, classifyFailure, type DialerOptions, type DialOutcome } from './dial.js';
export { probeMesh, whyPang, type MeshOptions } from './mesh.js';
export { ProbeError, type ProbeErrorCode } from './errors.js';
export type {
  Advice,
  AdviceCode,
  Attempt,
  AttemptReason,
  DiscoveryReport,
  DnsMode,
  HostReport,
  KubernetesFacts,
  MeshReport,
  NodeReport,
  ProbeReport,
  Verdict,
} from './types.js';
