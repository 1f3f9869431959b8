/** Runs every rule over a manifest set; findings come back sorted by file, line, severity. */
import { buildContext, type Rule } from './rules/context.js';
import { governingService, epmdServiceHeadless, selectorMatches, headlessServiceShape } from './rules/services.js';
import { shortNames, longNamesNeedFqdn, envExpansion, fixedHostname, coreDnsEndpointPodNames, coreDnsCorefile } from './rules/naming.js';
import { nameLengths } from './rules/lengths.js';
import { nodeHost } from './rules/node-host.js';
import { plainTextCookie, cookieNotShared } from './rules/cookie.js';
import { networkPolicies } from './rules/network.js';
import { DEFAULT_LOAD_LIMITS, loadManifests } from './load.js';
import type { ManifestText } from './load.js';
import type { Finding, LintOptions, LoadLimits, ManifestObject, Severity } from './types.js';

const RULES: readonly Rule[] = [
  governingService,
  epmdServiceHeadless,
  selectorMatches,
  headlessServiceShape,
  shortNames,
  longNamesNeedFqdn,
  nodeHost,
  envExpansion,
  fixedHostname,
  nameLengths,
  plainTextCookie,
  cookieNotShared,
  networkPolicies,
  coreDnsEndpointPodNames,
  coreDnsCorefile,
];

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
}

/** Lints objects already read (e.g. from the API, or from `parseManifestText`). */
export function lintObjects(objects: ManifestObject[], options: LintOptions = {}): { findings: Finding[]; beamWorkloads: string[] } {
  const ctx = buildContext(objects, options);
  const findings = RULES.flatMap((rule) => rule(ctx));
  return { findings: sortFindings(findings), beamWorkloads: ctx.beam.map((b) => `${b.template.object.kind}/${b.template.object.name}`) };
}

export interface LintResult {
  files: string[];
  objects: number;
  /** Workloads recognised as BEAM (`Kind/name`). */
  beamWorkloads: string[];
  findings: Finding[];
  counts: Record<Severity, number>;
}

/**
 * Reads every manifest under `paths` (and `texts`, e.g. stdin) and lints them as one set:
 * Services and workloads are matched across files.
 */
export async function lintPaths(paths: readonly string[], options: LintOptions = {}, limits: LoadLimits = DEFAULT_LOAD_LIMITS, texts: readonly ManifestText[] = []): Promise<LintResult> {
  const loaded = await loadManifests(paths, options.namespace ?? 'default', limits, texts);
  const { findings, beamWorkloads } = lintObjects(loaded.objects, options);
  const all = sortFindings([...loaded.findings, ...findings]);
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of all) counts[f.severity]++;
  return { files: loaded.files, objects: loaded.objects.length, beamWorkloads, findings: all, counts };
}
