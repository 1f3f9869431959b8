/**
 * The headless Service that discovery reads: it must exist under the name the pods' subdomain
 * gives, be headless, select the pods, publish not-ready pods and name its ports (SRV).
 */
import { selects } from '../model.js';
import type { Finding } from '../types.js';
import { carriesEpmd, finding, type Rule } from './context.js';
import type { HostSource } from '../host.js';

const DNS_NAMED = new Set<HostSource>(['bare', 'fqdn', 'pod-dns', 'hostname', 'dotted', 'short']);

/** subdomain-no-service, subdomain-not-headless, subdomain-not-selected. */
export const governingService: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    const t = b.template;
    const name = t.governingService;
    if (name === undefined) continue;
    const field = `${t.governingField}: ${name}`;
    const svc = ctx.set.services.find((s) => s.object.name === name && s.object.namespace === t.object.namespace);
    if (!svc) {
      out.push(
        finding('subdomain-no-service', 'error', t.object, `${field} names no Service in namespace ${t.object.namespace} among the linted files: the pods take the FQDN <pod>.${name}.${t.object.namespace}.svc.${ctx.clusterDomain}, and no DNS record serves it`, `add a headless Service named ${name} (clusterIP: None) selecting these pods, or set ${t.governingField} to the headless Service's name (lint it together with this file)`),
      );
    } else if (!svc.headless) {
      out.push(
        finding('subdomain-not-headless', 'error', t.object, `${field} names Service/${name}, which is not headless: only a headless Service gets per-pod DNS records`, `set clusterIP: None on Service/${name} (a new Service: clusterIP cannot be changed in place), and keep a separate ClusterIP Service for client traffic`),
      );
    } else if (!selects(svc, t)) {
      out.push(
        finding('subdomain-not-selected', 'error', t.object, `${field}: Service/${name} is headless but its selector ${JSON.stringify(svc.selector ?? {})} does not select these pods (labels ${JSON.stringify(t.labels)}), so they are not its endpoints and get no DNS records`, `make Service/${name}'s selector match the pod template's labels`),
      );
    }
  }
  return out;
};

/** service-not-headless: a Service carrying EPMD for BEAM pods with a cluster IP. */
export const epmdServiceHeadless: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const s of ctx.set.services) {
    if (s.headless || !carriesEpmd(s)) continue;
    const beam = ctx.beam.filter((b) => selects(s, b.template));
    if (beam.length === 0) continue;
    out.push(
      finding('service-not-headless', 'error', s.object, `carries EPMD (4369) for BEAM pods (${beam.map((b) => b.template.object.name).join(', ')}) but is not headless: DNS answers its cluster IP (SRV target = the Service itself), so discovery cannot tell the pods apart`, 'set clusterIP: None (create it anew; clusterIP is immutable) and keep client traffic on a separate ClusterIP Service'),
    );
  }
  return out;
};

/** selector-no-match: a headless or EPMD Service whose selector matches no pod template in the set. */
export const selectorMatches: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const s of ctx.set.services) {
    if (!s.selector || !(s.headless || carriesEpmd(s))) continue;
    if (ctx.set.templates.some((t) => selects(s, t))) continue;
    out.push(
      finding('selector-no-match', 'warning', s.object, `selector ${JSON.stringify(s.selector)} matches no pod template in the linted files: the Service would have no endpoints and DNS discovery would find nothing`, 'make the selector equal the pod template labels (lint the workload together with the Service)'),
    );
  }
  return out;
};

/** service-no-ports, service-unnamed-ports, publish-not-ready: the headless Services that select BEAM pods. */
export const headlessServiceShape: Rule = (ctx) => {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const b of ctx.beam) {
    for (const s of b.headless) {
      const key = `${s.object.namespace}/${s.object.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // SRV discovery returns DNS names, so it serves nodes named by DNS name; nodes named by IP are
      // found through A records (libcluster Kubernetes.DNS, dns_cluster), which need no port.
      const byName = ctx.beam.some((x) => selects(s, x.template) && x.beam.some((a) => DNS_NAMED.has(a.distribution.host ?? 'bare')));
      if (s.ports.length === 0 && byName) {
        out.push(finding('service-no-ports', 'error', s.object, 'headless Service without ports: CoreDNS serves A records but no SRV records at all (NODATA), so SRV discovery (libcluster DNSSRV, beamnode probe) finds nothing', 'add ports: - name: epmd, port: 4369 (and the distribution port, named, e.g. dist)'));
      } else if (s.ports.length > 0 && byName && !s.ports.some((p) => typeof p.name === 'string' && p.name)) {
        out.push(finding('service-unnamed-ports', 'warning', s.object, 'no port has a name: only the bare-name SRV query answers; `_epmd._tcp.<svc>…` has no records', 'name the ports, e.g. name: epmd for 4369'));
      }
      // Without a readiness probe a pod is Ready once its containers run: nothing to publish early.
      const probed = ctx.beam.filter((x) => selects(s, x.template) && x.template.containers.some((c) => c.readinessProbe));
      if (!s.publishNotReadyAddresses && probed.length) {
        out.push(finding('publish-not-ready', 'warning', s.object, `publishNotReadyAddresses is not true and ${probed.map((x) => `${x.template.kind}/${x.template.object.name}`).join(', ')} ${probed.length > 1 ? 'have' : 'has'} a readiness probe: a pod is absent from DNS until Ready, so nodes cannot find each other while starting (and a readiness check that needs the cluster never passes)`, 'set spec.publishNotReadyAddresses: true'));
      }
    }
  }
  return out;
};
