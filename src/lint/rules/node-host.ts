/**
 * The host part of the node name, once Kubernetes and the shell have expanded it:
 *   node-host-suffix    <pod>.<suffix> must be the pod's own DNS name: <pod>.<subdomain or
 *                       serviceName>.<namespace>.svc.<cluster domain> (or a prefix of that suffix
 *                       the search path completes), else it resolves nowhere or to another name;
 *   node-host-empty     a variable defined nowhere leaves the host (or one of its labels) empty;
 *   node-host-k8s-node  spec.nodeName / status.hostIP name the Kubernetes node, shared by every
 *                       pod on it, unless the pod runs in the node's network (hostNetwork);
 *   node-host-loopback  127.0.0.1 or localhost: every pod has the same name, unreachable from the others;
 *   discovery-name-mismatch  a product's own peer discovery (EMQX's ekka, RabbitMQ's k8s plugin up
 *                       to 4.0) dials IPs while the nodes are named by DNS name, or the reverse:
 *                       the peer answers with a name other than the one dialed, and refuses.
 */
import type { ContainerAnalysis } from '../beam.js';
import type { Finding } from '../types.js';
import { finding, type BeamTemplate, type Rule } from './context.js';

const LABEL_ROLE = ['the Service (subdomain)', 'the namespace', '"svc"'];

function suffixProblem(b: BeamTemplate, suffix: string, zone: string): string | undefined {
  const t = b.template;
  if (t.governingService === undefined) {
    return `the pods have no subdomain${t.kind === 'StatefulSet' ? ' (no spec.serviceName)' : ''}, so no DNS record <pod>.${suffix} exists`;
  }
  const expected = [t.governingService, t.object.namespace, 'svc', ...zone.split('.')];
  const labels = suffix.split('.');
  if (labels.length > expected.length) return `it is longer than the pod's DNS name <pod>.${expected.join('.')}`;
  const at = labels.findIndex((l, i) => l !== expected[i]);
  if (at < 0) return undefined;
  const role = at < LABEL_ROLE.length ? LABEL_ROLE[at] : 'the cluster domain';
  return `${role} is "${labels[at]}" where the pod's DNS name has "${expected[at]}": the pod's name is <pod>.${expected.join('.')}`;
}

function check(b: BeamTemplate, a: ContainerAnalysis, zone: string): Finding[] {
  const d = a.distribution;
  const h = d.hostInfo;
  if (!h || d.mode === 'none') return [];
  const o = b.template.object;
  const cname = a.container.name;
  const node = `the node name ${d.node ?? ''} (${d.nodeSource ?? 'node name'})`;
  const expected = b.template.governingService ? `<pod>.${b.template.governingService}.${o.namespace}.svc.${zone}` : undefined;
  switch (h.source) {
    case 'pod-dns': {
      const why = h.suffix !== undefined ? suffixProblem(b, h.suffix, zone) : undefined;
      if (!why) return [];
      return [
        finding('node-host-suffix', 'error', o, `${node} expands to the host ${h.display}, but ${why}: peers cannot reach the node under its own name`, expected ? `build the host as $(POD_NAME).${b.template.governingService}.$(POD_NAMESPACE).svc.${zone} (POD_NAME, POD_NAMESPACE from fieldRef metadata.name, metadata.namespace)` : `set ${b.template.kind === 'StatefulSet' ? 'spec.serviceName' : 'spec.template.spec.subdomain'} to the headless Service in the host, or name the node by its pod IP`, cname),
      ];
    }
    case 'empty': {
      const vars = (h.via ?? []).join(', ').replace(/[${}()]/g, '');
      return [
        finding('node-host-empty', 'error', o, `${node} expands to the host "${h.display}": ${vars} ${(h.via ?? []).length > 1 ? 'are' : 'is'} defined nowhere in the container (env, envFrom, the files it mounts), so the shell leaves ${(h.via ?? []).length > 1 ? 'them' : 'it'} empty (unless the image sets ${(h.via ?? []).length > 1 ? 'them' : 'it'}); ${h.display === '' ? `with an empty host erl stops at boot ("Can't set ${d.mode === 'sname' ? 'short' : 'long'} node name!")` : 'a name with an empty DNS label starts but resolves nowhere, so no peer reaches it'}`, `define ${vars} in env before it is used (e.g. from fieldRef metadata.name or status.podIP)`, cname),
      ];
    }
    case 'k8s-node':
      if (b.template.spec.hostNetwork === true) return [];
      return [
        finding('node-host-k8s-node', 'error', o, `${node} takes its host from ${(h.via ?? []).join(', ')}: that names the Kubernetes node the pod runs on, not the pod; every pod on one node gets the same node name, and nothing of the node's listens for the pod`, 'use the pod IP (fieldRef status.podIP) or the pod name with its subdomain (fieldRef metadata.name)', cname),
      ];
    case 'loopback':
      if (b.template.replicas <= 1 && !b.dnsDiscovery) return [];
      return [
        finding('node-host-loopback', 'error', o, `${node} has the host ${h.display}: every pod takes the same name, and no other pod can reach it there`, a.product?.name === 'CouchDB' ? 'set NODENAME to $(POD_NAME).<headless service>.$(POD_NAMESPACE).svc.<cluster domain> or the pod IP' : 'use the pod IP (fieldRef status.podIP) or the pod FQDN for the host part', cname),
      ];
    default:
      return [];
  }
}

function discoveryMismatch(b: BeamTemplate, a: ContainerAnalysis): Finding[] {
  const disc = a.product?.discovery;
  const h = a.distribution.hostInfo;
  if (!disc || !h) return [];
  const byIp = h.source === 'pod-ip' || h.source === 'ip';
  const byName = h.source === 'pod-dns' || h.source === 'fqdn' || (h.source === 'bare' && a.distribution.mode === 'name' && b.template.governingService !== undefined);
  if (!(disc.dials === 'ip' ? byName : byIp)) return [];
  const p = a.product?.name ?? 'the product';
  return [
    finding(
      'discovery-name-mismatch',
      'error',
      b.template.object,
      `${p}'s peer discovery (${disc.what}) dials its peers as <name>@<${disc.dials === 'ip' ? 'pod IP' : 'pod DNS name'}>, but the nodes are named by ${byIp ? 'IP' : 'DNS name'} (${h.display}): the dialed name is not the node's own, so every handshake is refused and the cluster never forms`,
      disc.dials === 'ip' ? `name the nodes by pod IP (fieldRef status.podIP), or make the discovery return DNS names (${p === 'EMQX' ? 'EMQX_CLUSTER__K8S__ADDRESS_TYPE=hostname, or the dns strategy with record type srv' : 'cluster_formation.k8s.address_type = hostname with hostname_suffix'})` : `name the nodes by their pod DNS name, or make the discovery return IPs (${p === 'EMQX' ? 'EMQX_CLUSTER__K8S__ADDRESS_TYPE=ip, or record type a' : 'cluster_formation.k8s.address_type = ip'})`,
      a.container.name,
    ),
  ];
}

export const nodeHost: Rule = (ctx) => ctx.beam.flatMap((b) => b.beam.flatMap((a) => [...check(b, a, ctx.clusterDomain), ...discoveryMismatch(b, a)]));
