/** beamnode lint: Kubernetes manifests checked for the mistakes that keep BEAM nodes from clustering. */
export { lintPaths, lintObjects, sortFindings, type LintResult } from './lint.js';
export { loadManifests, parseManifestText, manifestObject, manifestFiles, splitDocuments, yamlLoader, DEFAULT_LOAD_LIMITS, type LoadedManifests, type ManifestText } from './load.js';
export { renderText, renderJson, exitStatus } from './report.js';
export { analyseContainer, hostSource, type ContainerAnalysis, type Distribution, type DistributionMode, type HostSource, type EnvEntry } from './beam.js';
export { LintError, type LintErrorCode } from './errors.js';
export type { Finding, LintRule, Severity, LintOptions, LoadLimits, ManifestObject, KubeObject } from './types.js';
