/**
 * name-too-long: DNS labels are at most 63 characters, a setHostnameAsFQDN FQDN at most 64, an
 * Erlang node name (an atom) at most 255. Generated pod names: a Deployment's are
 * `<deployment>-<hash ≤10>-<5>`, cut to 63 by the name generator; a StatefulSet's are
 * `<sts>-<n>`, and its pods also carry `controller-revision-hash: <sts>-<hash 10>`, a label value
 * (≤ 63), so a StatefulSet name over 52 creates no pods at all (kubernetes/kubernetes#64023).
 */
import type { Finding } from '../types.js';
import { finding, type BeamTemplate, type Rule } from './context.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;
const MAX_FQDN_AS_HOSTNAME = 64;
const MAX_ATOM = 255;
const MAX_STATEFULSET_NAME = 52;

/** Longest name a pod of this template can have. */
function longestPodName(b: BeamTemplate): number {
  const t = b.template;
  const n = t.object.name.length;
  switch (t.kind) {
    case 'Deployment':
      return Math.min(n + 1 + 10 + 1 + 5, MAX_LABEL);
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'DaemonSet':
      return Math.min(n + 1 + 5, MAX_LABEL);
    case 'StatefulSet':
      return n + 1 + String(Math.max(t.replicas - 1, 0)).length;
    case 'Pod':
      return n;
  }
}

export const nameLengths: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    const t = b.template;
    const o = t.object;
    const label = (what: string, v: string) => {
      if (v.length > MAX_LABEL) out.push(finding('name-too-long', 'error', o, `${what} "${v}" has ${v.length} characters; a DNS label has at most 63`, `shorten ${what}`));
      else if (!DNS_LABEL.test(v)) out.push(finding('name-too-long', 'error', o, `${what} "${v}" is not a DNS label (lowercase letters, digits, '-')`, `rename ${what}`));
    };
    if (typeof t.spec.hostname === 'string') label('spec.hostname', t.spec.hostname);
    if (t.governingService !== undefined) label(t.governingField ?? 'subdomain', t.governingService);
    if (t.kind === 'StatefulSet' && o.name.length > MAX_STATEFULSET_NAME) {
      out.push(finding('name-too-long', 'error', o, `StatefulSet name has ${o.name.length} characters: its pods carry the label controller-revision-hash=<name>-<10-character hash>, over 63 characters, so no pod is created (kubernetes/kubernetes#64023)`, `shorten the StatefulSet name to at most ${MAX_STATEFULSET_NAME} characters`));
      continue;
    }
    if (t.kind === 'Pod' && o.name.length > MAX_LABEL) {
      out.push(finding('name-too-long', 'error', o, `pod name has ${o.name.length} characters: the kubelet cuts the host name to 63 while CoreDNS (endpoint_pod_names) falls back to a dashed IP, so the node's name and its DNS name differ`, 'shorten the pod name to at most 63 characters'));
      continue;
    }
    const host = t.kind === 'StatefulSet' ? longestPodName(b) : (t.spec.hostname?.length ?? longestPodName(b));
    if (t.governingService === undefined) continue;
    const fqdn = host + 1 + t.governingService.length + 1 + o.namespace.length + '.svc.'.length + ctx.clusterDomain.length;
    if (t.spec.setHostnameAsFQDN === true && fqdn > MAX_FQDN_AS_HOSTNAME) {
      out.push(finding('name-too-long', 'error', o, `setHostnameAsFQDN: the pod FQDN <pod>.${t.governingService}.${o.namespace}.svc.${ctx.clusterDomain} can reach ${fqdn} characters; over 64 the pod never starts ("FQDN … is too long (64 characters is the max)")`, 'shorten the workload, service or namespace name, or drop setHostnameAsFQDN (erl reads the FQDN from /etc/hosts anyway)'));
    }
    for (const a of b.beam) {
      const d = a.distribution;
      if (d.mode !== 'name' || !(d.host === 'bare' || d.host === 'fqdn' || d.host === undefined)) continue;
      const alive = (d.node ?? 'x').split('@')[0];
      if (alive.includes('$')) continue;
      if (alive.length + 1 + fqdn > MAX_ATOM) {
        out.push(finding('name-too-long', 'error', o, `the node name ${alive}@<pod FQDN> can reach ${alive.length + 1 + fqdn} characters; a node name is an atom, at most 255`, 'shorten the names that make up the FQDN', a.container.name));
      }
    }
  }
  return out;
};
