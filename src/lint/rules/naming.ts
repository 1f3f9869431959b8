/**
 * How the nodes name themselves: long names with a host part the pod really has, never short
 * names with DNS discovery, no shell in env values, one name per pod, and the CoreDNS option a
 * Deployment's pod names depend on.
 */
import type { ContainerAnalysis } from '../beam.js';
import { COMMAND_SUBSTITUTION } from '../shell.js';
import type { Finding } from '../types.js';
import { finding, type BeamTemplate, type Rule } from './context.js';

const podFqdn = (b: BeamTemplate, zone: string) =>
  `<pod>.${b.template.governingService}.${b.template.object.namespace}.svc.${zone}`;

/** short-names: -sname / RELEASE_DISTRIBUTION=sname (or unset in a release) where peers use DNS names or IPs. */
export const shortNames: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    for (const a of b.beam) {
      const d = a.distribution;
      const dottedHost = d.host === 'fqdn' || d.host === 'dotted' || d.host === 'ip' || d.host === 'pod-ip' || d.host === 'pod-dns' || (d.host === 'loopback' && d.hostInfo?.display !== 'localhost');
      const cname = a.container.name;
      if (d.mode === 'sname' && (b.dnsDiscovery || dottedHost)) {
        out.push(
          finding('short-names', 'error', b.template.object, `short names (${d.modeSource}${d.modeSource === 'RELEASE_DISTRIBUTION' ? '=sname' : ''}) with ${dottedHost ? 'a dotted host or IP in the node name' : 'DNS discovery'}: a short-names node cannot take a dotted host ("Can't set short node name!") nor dial FQDNs and IPs ("System NOT running to use fully qualified hostnames"), and bare pod names do not resolve across pods`, a.product?.longNamesFix ?? 'use long names: RELEASE_DISTRIBUTION=name (or erl -name / elixir --name) with RELEASE_NODE=<app>@$(hostname -f) or <app>@$(POD_IP)', cname),
        );
      } else if (d.mode === 'release-default' && (b.dnsDiscovery || dottedHost)) {
        const why = dottedHost
          ? `with RELEASE_NODE ${d.node} (a dotted host or IP) the release then stops at boot with "Can't set short node name!"`
          : 'which cannot cluster over DNS names or IPs';
        out.push(
          finding('short-names', 'warning', b.template.object, `RELEASE_DISTRIBUTION is not set in the manifest: a mix release defaults to sname, ${why} (unless rel/env.sh.eex in the image sets it)`, 'set env RELEASE_DISTRIBUTION=name in the container (visible, and checked by this lint)', cname),
        );
      }
    }
  }
  return out;
};

/** long-names-no-fqdn: -name with the host taken from the pod, but the pod has no dotted name. */
export const longNamesNeedFqdn: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    const t = b.template;
    const hasFqdn = t.governingService !== undefined;
    for (const a of b.beam) {
      const d = a.distribution;
      if (d.mode !== 'name') continue;
      const cname = a.container.name;
      const node = d.node ?? '(bare name)';
      if ((d.host === 'bare' || d.host === undefined || d.host === 'fqdn') && !hasFqdn) {
        const what =
          d.host === 'fqdn'
            ? `${node}: without a subdomain, hostname -f returns the bare pod name, so the node is <app>@<pod> with no dots, which long-names peers refuse to dial ("Hostname … is illegal")`
            : 'no host in the node name: erl takes the FQDN from /etc/hosts, which holds only the bare pod name without a subdomain, so it fails with "Can\'t set long node name!"';
        out.push(
          finding('long-names-no-fqdn', 'error', t.object, `long names with the host taken from the pod (${what})`, `set ${t.kind === 'StatefulSet' ? 'spec.serviceName' : 'spec.template.spec.subdomain'} to the headless Service's name, or name nodes by IP: RELEASE_NODE=<app>@$(POD_IP) with POD_IP from fieldRef status.podIP`, cname),
        );
      } else if (d.host === 'hostname' && !(t.spec.setHostnameAsFQDN === true && hasFqdn)) {
        out.push(
          finding('long-names-no-fqdn', 'error', t.object, `long names with the short host name (${node}): the node starts, but the host part has no dots, and long-names peers refuse to dial it ("Hostname … is illegal")`, 'use $(hostname -f) (with a subdomain) or the pod IP for the host part', cname),
        );
      } else if (d.host === 'short') {
        out.push(finding('long-names-no-fqdn', 'error', t.object, `long names with a host part without dots (${node}): the node starts, but long-names peers refuse to dial it ("Hostname … is illegal")`, 'use the FQDN or an IP for the host part', cname));
      }
    }
  }
  return out;
};

// Docker-link style variables the kubelet injects for every Service: FOO_SERVICE_HOST, FOO_PORT_4369_TCP_ADDR, …
const SERVICE_LINK_VAR = /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$|_PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?$/;

// Variables that make the node name, the distribution or the cookie, by name.
const CLUSTER_VAR = /^(RELEASE_(NODE|DISTRIBUTION|COOKIE)|ERL_[AZ]?FLAGS|ELIXIR_ERL_OPTIONS|NODENAME|NODE_NAME|NODE_TYPE|RABBITMQ_(NODENAME|NODE_NAME|USE_LONGNAME|DIST_PORT)|EMQX_(NAME|HOST|NODE_NAME|NODE__NAME)|LIVEBOOK_(NODE|DISTRIBUTION)|DOCKER_VERNEMQ_(NODENAME|KUBERNETES_\w+))$|COOKIE/;

/** The env variables that take part in clustering: those named so, and every variable their values refer to. */
function clusterVariables(a: ContainerAnalysis): Set<string> {
  const out = new Set(a.env.map((e) => e.name).filter((n) => CLUSTER_VAR.test(n)));
  for (const [k, v] of a.scriptVars) if (CLUSTER_VAR.test(k)) for (const r of v.matchAll(/\$\(?\{?([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(r[1]);
  if (a.distribution.node) for (const r of a.distribution.node.matchAll(/\$\(?\{?([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(r[1]);
  for (let grew = true, rounds = 0; grew && rounds < 8; rounds++) {
    grew = false;
    for (const e of a.env) {
      if (!out.has(e.name) || !e.value) continue;
      for (const r of e.value.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) if (!out.has(r[1])) grew = Boolean(out.add(r[1]));
    }
  }
  return out;
}

/** env-shell-command, env-var-reference: what Kubernetes does (and does not) expand in env values that take part in clustering. */
export const envExpansion: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    for (const a of b.beam) out.push(...envExpansionOf(b, a));
  }
  return out;
};

function envExpansionOf(b: BeamTemplate, a: ContainerAnalysis): Finding[] {
  const out: Finding[] = [];
  const o = b.template.object;
  const cname = a.container.name;
  const relevant = clusterVariables(a);
  for (const e of a.env) {
    if (e.source !== 'literal' || !e.value || !relevant.has(e.name)) continue;
    const secretish = /cookie/i.test(e.name); // never echo what may be a cookie
    const shown = secretish ? '' : ` (${e.value})`;
    if (COMMAND_SUBSTITUTION.test(e.value.replace(/\$\$/g, ''))) {
      out.push(
        finding('env-shell-command', 'error', o, `env ${e.name}${shown} contains a shell command, but Kubernetes runs no shell on env values: the process gets the text literally`, `compute it in a shell: command: ["/bin/sh", "-c", "export ${e.name}=…$(hostname -f); exec …"], or in rel/env.sh.eex; for a release, RELEASE_DISTRIBUTION=name with a bare RELEASE_NODE also takes the FQDN`, cname),
      );
      continue;
    }
    for (const m of e.value.matchAll(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      const ref = m[1];
      const defs = a.env.filter((x) => x.name === ref);
      if (defs.some((x) => x.index < e.index)) continue;
      if (SERVICE_LINK_VAR.test(ref) && defs.length === 0) continue; // injected by the kubelet for Services (enableServiceLinks)
      if (defs.length === 0 && a.opaqueEnv) continue; // it may come from a Secret (or an unseen ConfigMap) through envFrom
      if (defs.length) {
        out.push(finding('env-var-reference', 'error', o, `env ${e.name} refers to $(${ref}), which is defined after it: Kubernetes expands only variables defined earlier in the list, so the value stays literally $(${ref})`, `move ${ref} above ${e.name} in env`, cname));
      } else {
        out.push(finding('env-var-reference', 'warning', o, `env ${e.name} refers to $(${ref}), which this container does not define: the value stays literally $(${ref})`, `define ${ref} before ${e.name} (e.g. POD_IP from fieldRef status.podIP)`, cname));
      }
    }
    if (/(?<!\$)\$\{[A-Za-z_]|(?<![$\w])\$[A-Za-z_]/.test(e.value) && /^(RELEASE_NODE|ERL_FLAGS|ERL_AFLAGS|ERL_ZFLAGS|ELIXIR_ERL_OPTIONS)$/.test(e.name)) {
      out.push(finding('env-var-reference', 'warning', o, `env ${e.name}${shown} uses shell syntax $VAR/\${VAR}: Kubernetes expands only $(VAR) in env values, and the release script passes the value on quoted`, `write $(VAR) (defined earlier in env), or set it in a shell wrapper`, cname));
    }
  }
  return out;
}

/** fixed-hostname: every pod of the template gets the same host name, so the same node name. */
export const fixedHostname: Rule = (ctx) =>
  ctx.beam
    .filter((b) => b.template.kind !== 'StatefulSet' && b.template.kind !== 'Pod' && b.template.spec.hostname)
    .map((b) =>
      finding('fixed-hostname', 'error', b.template.object, `the pod template sets hostname: ${b.template.spec.hostname}: every pod of this ${b.template.kind} gets that name, so the nodes share one node name and DNS gives one name with several addresses`, 'remove spec.template.spec.hostname (use subdomain with CoreDNS endpoint_pod_names, or a StatefulSet for stable per-pod names)'),
    );

/** coredns-endpoint-pod-names: a Deployment's pods are named in DNS by pod name only with endpoint_pod_names. */
export const coreDnsEndpointPodNames: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    const t = b.template;
    if (t.kind === 'StatefulSet' || t.governingService === undefined || t.spec.hostname) continue;
    if (b.beam.every((a) => a.distribution.host === 'pod-ip' || a.distribution.host === 'ip')) continue; // IP names need no per-pod DNS names
    const fqdn = podFqdn(b, ctx.clusterDomain);
    if (ctx.coreDns?.plugin?.endpointPodNames) continue;
    if (ctx.coreDns?.plugin) {
      out.push(
        finding('coredns-endpoint-pod-names', 'warning', t.object, `the pods name themselves ${fqdn}, but the CoreDNS Corefile in ${ctx.coreDns.object.file} has no endpoint_pod_names: DNS serves dashed-IP names (10-1-2-3.${t.governingService}…) instead, and every dial by the discovered name is refused`, 'add endpoint_pod_names to the kubernetes block of the Corefile and restart CoreDNS (see examples/k8s/README.md), or use a StatefulSet'),
      );
    } else {
      out.push(
        finding('coredns-endpoint-pod-names', 'info', t.object, `a ${t.kind} with subdomain: the pods name themselves ${fqdn}, which DNS serves only when CoreDNS runs with endpoint_pod_names (the default serves dashed-IP names)`, 'check `kubectl -n kube-system get configmap coredns -o yaml` for endpoint_pod_names and add it if missing (or lint the CoreDNS ConfigMap with these files)'),
      );
    }
  }
  return out;
};

/** coredns-corefile: a CoreDNS ConfigMap in the set that does not parse or has no kubernetes plugin. */
export const coreDnsCorefile: Rule = (ctx) =>
  ctx.set.coreDns.flatMap((c) =>
    c.error
      ? [finding('coredns-corefile', 'error', c.object, `the Corefile does not parse: ${c.error}`, 'fix the Corefile (braces must balance) before applying it')]
      : !c.plugin
        ? [finding('coredns-corefile', 'warning', c.object, 'the Corefile has no kubernetes plugin block: cluster names would not resolve', 'keep the kubernetes block (add endpoint_pod_names inside it)')]
        : [],
  );
