/** What every rule gets: the manifest set, its BEAM pod templates analysed once, and a finding builder. */
import { analyseContainer, type ContainerAnalysis } from '../beam.js';
import { buildManifestSet, selects, objectRef, type CoreDnsView, type ManifestSet, type PodTemplate, type ServiceView } from '../model.js';
import type { Finding, LintOptions, LintRule, ManifestObject, Severity } from '../types.js';

export interface BeamTemplate {
  template: PodTemplate;
  /** Containers that look like a BEAM (at least one). */
  beam: ContainerAnalysis[];
  /** Services in the set that select these pods. */
  services: ServiceView[];
  /** Headless Services among them. */
  headless: ServiceView[];
  /** Peers find these pods through DNS: a governing Service, or a headless Service selecting them. */
  dnsDiscovery: boolean;
}

export interface RuleContext {
  set: ManifestSet;
  beam: BeamTemplate[];
  /** The Corefile in the set, if any (the first one that parsed). */
  coreDns?: CoreDnsView;
  clusterDomain: string;
}

export type Rule = (ctx: RuleContext) => Finding[];

export function finding(rule: LintRule, severity: Severity, o: ManifestObject, message: string, fix: string, container?: string): Finding {
  return { rule, severity, file: o.file, line: o.line, object: objectRef(o), namespace: o.namespace, ...(container ? { container } : {}), message, fix };
}

/** Services that carry EPMD: port 4369 or a port named `epmd`. */
export const carriesEpmd = (s: ServiceView) => s.ports.some((p) => p.port === 4369 || p.name === 'epmd' || p.targetPort === 4369 || p.targetPort === 'epmd');

export function buildContext(objects: ManifestObject[], options: LintOptions = {}): RuleContext {
  const set = buildManifestSet(objects);
  const coreDns = set.coreDns.find((c) => c.plugin);
  const beam: BeamTemplate[] = [];
  for (const t of set.templates) {
    const lookup = (name: string) => set.configMaps.get(`${t.object.namespace}/${name}`);
    const pod = { namespace: t.object.namespace, subdomain: t.governingService, volumes: t.spec.volumes ?? [] };
    const analysed = t.containers.map((c) => analyseContainer(c, lookup, pod));
    const beamContainers = analysed.filter((a) => a.beamReasons.length > 0);
    if (beamContainers.length === 0) continue;
    const services = set.services.filter((s) => selects(s, t));
    const headless = services.filter((s) => s.headless);
    beam.push({ template: t, beam: beamContainers, services, headless, dnsDiscovery: t.governingService !== undefined || headless.length > 0 });
  }
  return { set, beam, coreDns, clusterDomain: coreDns?.plugin?.clusterDomain ?? options.clusterDomain ?? 'cluster.local' };
}
