/**
 * From a probe's findings to a verdict and concrete fixes (docs/probe.md lists them). Pure: works on the report
 * data alone, so every rule is unit-tested with crafted attempts.
 *
 * Verdict `ok`: at least one node, every host's EPMD answered, and every node accepts the name
 * discovery returns for it (`dns` form; with no cookie given, reaching the cookie check counts);
 * with `--mesh`, every pair pings `pong`. Anything else is `broken`.
 */
import { isIP } from 'node:net';
import { classifyName } from '../discovery/index.js';
import type { Advice, AdviceCode, Attempt, NodeReport, ProbeReport, Verdict } from './types.js';

const hostOf = (name: string) => name.slice(name.indexOf('@') + 1);

/** The attempt made under the name discovery returned. */
export function dnsAttempt(n: NodeReport): Attempt | undefined {
  return n.attempts.find((a) => a.forms.includes('dns'));
}

/** The node can be reached under the name discovery gives (a wrong cookie counts only when none was given). */
export function reachableByDiscovery(n: NodeReport, cookieKnown: boolean): boolean {
  const a = dnsAttempt(n);
  if (!a) return false;
  return a.accepted || (!cookieKnown && a.reason === 'bad-cookie');
}

/** Hosts whose EPMD answered but listed no application node. */
function emptyHosts(r: Pick<ProbeReport, 'nodes' | 'hosts'>): string[] {
  return r.hosts.filter((h) => h.epmd === 'ok' && !r.nodes.some((n) => n.host === h.ip)).map((h) => h.ip);
}

export function judge(r: Pick<ProbeReport, 'nodes' | 'hosts' | 'cookie' | 'mesh'>): Verdict {
  if (r.nodes.length === 0) return 'broken';
  if (r.hosts.some((h) => h.epmd !== 'ok')) return 'broken';
  if (emptyHosts(r).length) return 'broken'; // a pod in discovery without a node: the cluster lacks it
  if (!r.nodes.every((n) => reachableByDiscovery(n, r.cookie.known))) return 'broken';
  if (r.mesh && r.mesh.matrix.some((m) => m.result !== 'pong')) return 'broken';
  return 'ok';
}

export function adviseAndJudge(r: ProbeReport): { verdict: Verdict; advice: Advice[] } {
  return { verdict: judge(r), advice: advise(r) };
}

/** Every problem the findings show, once each, most fundamental first. */
export function advise(r: ProbeReport): Advice[] {
  const out: Advice[] = [];
  const seen = new Set<AdviceCode>();
  const add = (code: AdviceCode, text: string) => {
    if (seen.has(code)) return;
    seen.add(code);
    out.push({ code, text });
  };
  const d = r.discovery;
  const svcFqdn = r.service;
  const svcName = svcFqdn.split('.')[0];
  const k8s = d.kubernetes;

  // --- discovery itself ---------------------------------------------------------------------
  if (r.hosts.length === 0) {
    if ([d.srv.bare, d.srv.a, d.srv.epmd, d.srv.aaaa].every((s) => s === 'timeout' || s === 'failed'))
      add(
        'dns-unreachable',
        `no DNS answer from ${d.nameserver} (${d.srv.bare}): the nameserver is wrong or unreachable from here. In a pod it is the cluster DNS ` +
          `from /etc/resolv.conf (kube-dns Service, usually 10.96.0.10); give it with --nameserver IP[:PORT] when probing from elsewhere.`,
      );
    else if ([d.srv.bare, d.srv.a, d.srv.epmd].every((s) => s === 'nxdomain'))
      add(
        'no-service',
        `DNS has no name ${svcFqdn} (NXDOMAIN through ${d.nameserver}): no such Service in that namespace, or it has no ready endpoints ` +
          `(a headless service with no ready pod answers NXDOMAIN). Check \`kubectl get svc,endpointslices -n <ns>\`; give the service as <svc>.<namespace> ` +
          `or set publishNotReadyAddresses: true if the pods only become ready once clustered.`,
      );
    else add('no-nodes', `discovery returned no host for ${svcFqdn} (SRV ${d.srv.bare}, A ${d.srv.a}, AAAA ${d.srv.aaaa} via ${d.nameserver}).`);
  }
  if (d.srv.bare === 'nodata' && d.srv.a === 'ok')
    add(
      'no-ports',
      `${svcFqdn} has A records but no SRV records: the Service declares no ports, so SRV discovery (libcluster Kubernetes.DNSSRV, dns_cluster :srv) finds nothing ` +
        `(erl's inet_res reports :nxdomain). Add a named port to the Service: \`ports: [{name: epmd, port: 4369, targetPort: 4369}]\`.`,
    );
  if (d.targets.some((t) => t.kind === 'service-itself') || k8s?.headless === false)
    add(
      'not-headless',
      `the SRV target is the service name itself: ${svcName} is not headless (it has a cluster IP), so DNS names no pod and every pod hides behind one virtual IP. ` +
        `Set \`clusterIP: None\` in the Service (a new Service: clusterIP cannot be changed in place).`,
    );

  // --- EPMD and the network path ------------------------------------------------------------
  const deadEpmd = r.hosts.filter((h) => h.epmd !== 'ok');
  if (deadEpmd.length)
    add(
      'epmd-unreachable',
      `EPMD did not answer on ${deadEpmd.map((h) => h.ip).join(', ')}: epmd is not running there (release started with -start_epmd false and nothing else listens), ` +
        `or a NetworkPolicy / service-mesh sidecar blocks TCP 4369. Allow TCP 4369 between the pods (and exclude it from the mesh's inbound capture).`,
    );
  const empty = emptyHosts(r);
  if (empty.length)
    add(
      'no-nodes',
      `EPMD on ${empty.join(', ')} answered but lists no application node (only shells or probes, or nothing): the release is not running there, ` +
        `or runs without distribution (RELEASE_DISTRIBUTION=none).`,
    );
  const distBlocked = r.nodes.some((n) => n.attempts.some((a) => a.reason === 'unreachable' && !/EPMD/.test(a.detail ?? '')) || (n.firstContact && /connect/.test(n.firstContact)));
  if (distBlocked)
    add(
      'dist-port',
      `EPMD answered but the distribution port did not accept the connection: NetworkPolicies often allow 4369 only. Pin the port range ` +
        `(\`-kernel inet_dist_listen_min 9100 inet_dist_listen_max 9155\`, or ERL_AFLAGS) and allow it between the pods.`,
    );

  // --- names --------------------------------------------------------------------------------
  const known = r.nodes.filter((n) => n.nameKnown);
  const shortNamed = known.filter((n) => n.longNames === false);
  if (shortNamed.length)
    add(
      'name-mode',
      `${shortNamed.map((n) => n.name).join(', ')} run${shortNamed.length === 1 ? 's' : ''} with short names (-sname; RELEASE_DISTRIBUTION=sname is the release default). ` +
        `DNS discovery gives IPs or FQDNs, and a short-names node refuses to dial those ("System NOT running to use fully qualified hostnames"), ` +
        `while long-names nodes refuse short hosts. Set RELEASE_DISTRIBUTION=name and RELEASE_NODE=<app>@<FQDN or pod IP> (vm.args: -name).`,
    );

  const dashedMismatch = known.filter((n) => {
    const a = dnsAttempt(n);
    const cls = classifyName(n.dnsName);
    return a?.reason === 'mismatch' && (cls.kind === 'dashed-ipv4' || cls.kind === 'dashed-ipv6');
  });
  const selfUnderService = (n: NodeReport) => hostOf(n.name).endsWith(`.${svcFqdn}`);
  if (
    dashedMismatch.some(selfUnderService) ||
    (r.dnsMode === 'default' && known.some((n) => selfUnderService(n) && dnsAttempt(n)?.accepted !== true)) ||
    k8s?.pods.some((p) => p.problems.some((x) => x.code === 'needs-endpoint-pod-names'))
  ) {
    const example = dashedMismatch[0] ?? known.find(selfUnderService);
    add(
      'endpoint_pod_names',
      `CoreDNS answers with dashed-IP names${example ? ` (${example.dnsName})` : ''} for pods without spec.hostname, but the nodes call themselves by their pod FQDN` +
        `${example ? ` (${example.name})` : ''}, which DNS does not even resolve. Add \`endpoint_pod_names\` to the kubernetes block of the Corefile ` +
        `(kubectl -n kube-system edit configmap coredns):\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       endpoint_pod_names\n       fallthrough in-addr.arpa ip6.arpa\n    }\n` +
        `Then SRV targets and the pods' own names are both <pod>.${svcFqdn}. Or run the app as a StatefulSet with serviceName: ${svcName}.`,
    );
  }

  const otherSubdomain = known.filter((n) => {
    const host = hostOf(n.name);
    const m = /^[^.]+\.([^.]+)\.([^.]+)\.svc\.(.+)$/.exec(host);
    return m !== null && m[1] !== svcName;
  });
  const k8sSub = k8s?.pods.filter((p) => p.problems.some((x) => x.code === 'subdomain-mismatch' || x.code === 'no-subdomain')) ?? [];
  if (otherSubdomain.length || k8sSub.length) {
    const what = otherSubdomain.length
      ? `${otherSubdomain[0].name} names another service in its FQDN`
      : `pod ${k8sSub[0].name} has ${k8sSub[0].subdomain ? `subdomain "${k8sSub[0].subdomain}"` : 'no subdomain'}`;
    add(
      'subdomain',
      `${what}: a pod's FQDN is <hostname>.<spec.subdomain>.<ns>.svc.<zone>, and DNS serves pod names only under the headless service. ` +
        `Set \`subdomain: ${svcName}\` in the pod template (spec.template.spec.subdomain), equal to the headless Service's name.`,
    );
  }

  const byName = new Map<string, NodeReport[]>();
  for (const n of known) byName.set(n.name, [...(byName.get(n.name) ?? []), n]);
  const dup = [...byName.values()].find((l) => l.length > 1);
  if (dup)
    add(
      'duplicate-name',
      `${dup.length} hosts (${dup.map((n) => n.host).join(', ')}) run a node named ${dup[0].name}: only one of them can be in the cluster at a time. ` +
        `A fixed spec.hostname in a Deployment's pod template gives every replica the same FQDN; remove it (the pod name becomes the hostname) or use a StatefulSet.`,
    );

  const ipDiscovered = known.filter((n) => isIP(n.dnsName) !== 0 && isIP(hostOf(n.name)) === 0 && n.longNames !== false);
  if (ipDiscovered.length)
    add(
      'name-ip-mismatch',
      `discovery gives IPs (${ipDiscovered[0].dnsName}), but the nodes are named by host name (${ipDiscovered[0].name}); strategies that dial app@IP ` +
        `(libcluster Kubernetes.DNS and :ip mode, dns_cluster) cannot connect. Either name the nodes by IP: env POD_IP from \`fieldRef: {fieldPath: status.podIP}\`, ` +
        `RELEASE_DISTRIBUTION=name, RELEASE_NODE=<app>@$(POD_IP) (vm.args: -name app@\${POD_IP}); or discover DNS names (SRV on the headless service with endpoint_pod_names, or a StatefulSet).`,
    );
  const nameDiscovered = known.filter((n) => isIP(n.dnsName) === 0 && isIP(hostOf(n.name)) !== 0);
  if (nameDiscovered.length)
    add(
      'ip-name-mismatch',
      `the nodes are named by IP (${nameDiscovered[0].name}) but discovery returns DNS names (${nameDiscovered[0].dnsName}): use an IP-based strategy ` +
        `(libcluster Kubernetes.DNS on the headless service, dns_cluster), or name nodes by FQDN (RELEASE_NODE=<app>@$(hostname -f) with subdomain = the service and endpoint_pod_names).`,
    );

  // --- cookie, allow lists -------------------------------------------------------------------
  const badCookie = r.nodes.filter((n) => n.attempts.some((a) => a.reason === 'bad-cookie'));
  if (badCookie.length && r.cookie.known)
    add(
      'cookie',
      `${badCookie.map((n) => n.name).join(', ')} reached the cookie check and rejected ours (cookie sha256 ${r.cookie.hash}…); the node logs ` +
        `"Connection attempt from node … rejected. Invalid challenge reply". Give every pod the same cookie: RELEASE_COOKIE from one Secret ` +
        `(no trailing newline; releases otherwise use a random per-build releases/COOKIE), and pass that cookie to the probe.`,
    );
  else if (badCookie.length)
    add(
      'cookie',
      `no cookie was given (none in --cookie, --cookie-file, ERLANG_COOKIE or ~/.erlang.cookie): names were checked up to the cookie step only. ` +
        `Pass the cluster's cookie to confirm it and to use --mesh.`,
    );
  if (r.nodes.some((n) => n.attempts.some((a) => a.reason === 'not-allowed')))
    add(
      'not-allowed',
      `a node answered not_allowed: its net_kernel:allow/1 list excludes the probe (probe-…@<probe host>); add the probe's host to the list, or run the probe from an allowed host.`,
    );

  // --- Kubernetes facts -----------------------------------------------------------------------
  if (k8s) {
    const notReady = k8s.endpoints.filter((e) => !e.ready);
    const hidden = k8s.pods.filter((p) => p.problems.some((x) => x.code === 'not-in-dns'));
    if ((notReady.length || hidden.length) && !k8s.publishNotReadyAddresses)
      add(
        'publish-not-ready',
        `${notReady.length || hidden.length} pod(s) are not ready and the Service does not publish not-ready addresses, so DNS (and libcluster's endpoints mode) hides them: ` +
          `a pod whose readiness waits for the cluster never joins. Set \`publishNotReadyAddresses: true\` on the headless Service used for discovery.`,
      );
    if (k8s.error)
      add(
        'kubernetes-access',
        `the Kubernetes API could not be fully read: ${k8s.error}. The probe needs get services, list endpointslices.discovery.k8s.io and list pods in the namespace ` +
          `(optionally get configmaps in kube-system).`,
      );
  }

  // --- mesh -----------------------------------------------------------------------------------
  const pang = r.mesh?.matrix.filter((m) => m.result !== 'pong') ?? [];
  if (pang.length)
    add(
      'mesh',
      `${pang.length} node pair(s) cannot reach each other under their own names (${pang
        .slice(0, 3)
        .map((m) => `${m.from} → ${m.to}: ${m.result}`)
        .join('; ')}${pang.length > 3 ? '; …' : ''}): the pods cannot resolve or connect to each other's names.`,
    );
  return out;
}
