/**
 * `beamnode demo`: the probe against a pretend service on loopback (demo-cluster.ts), first with
 * CoreDNS's default settings, then with `endpoint_pod_names`, and the lesson of the difference.
 */
import { DnsClient } from '../discovery/index.js';
import { DemoCluster, type DemoClusterOptions } from './demo-cluster.js';
import { runProbe } from '../probe/probe.js';
import { renderTable } from '../probe/render.js';
import { ProbeError } from '../probe/errors.js';
import type { ProbeReport } from '../probe/types.js';

export interface DemoOptions extends Pick<DemoClusterOptions, 'net' | 'erl' | 'timeoutMs'> {
  /** Where progress and tables go (default: nowhere; the CLI prints). */
  print?: (text: string) => void;
  color?: boolean;
  /** Leave the cluster running after the lesson, print the commands that probe it, and stop when `signal` aborts (Ctrl-C). */
  keep?: boolean;
  signal?: AbortSignal;
}

export interface DemoResult {
  /** CoreDNS without endpoint_pod_names. */
  before: ProbeReport;
  /** The same pods with endpoint_pod_names. */
  after: ProbeReport;
  /** Everything printed. */
  text: string;
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  if (o.keep && !o.signal) throw new ProbeError('BEAM_ERR_PROBE_USAGE', 'keep needs a signal to stop on');
  let text = '';
  const print = (s: string) => {
    text += s;
    o.print?.(s);
  };
  const color = o.color ?? false;
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  print(`${bold('beamnode demo')}: 3 erl nodes named like Deployment pods with subdomain: myapp-headless, on loopback; cluster DNS in-process.\n`);
  const cluster = await DemoCluster.start({ net: o.net, erl: o.erl, timeoutMs: o.timeoutMs, signal: o.signal });
  try {
    print(
      `pods: ${cluster.pods.map((p) => `${p.nodeName} (${p.ip})`).join('\n      ')}\n` +
        `EPMD on each pod address, port ${cluster.epmdPort}; DNS at ${cluster.dns.nameserver}, search ${cluster.search.join(' ')}\n\n`,
    );
    const dns = new DnsClient({
      nameserver: cluster.dns.nameserver,
      resolvConf: { nameservers: [], search: cluster.search, ndots: 5, timeout: 2, attempts: 2, useVc: false },
    });
    const probe = () =>
      runProbe({ service: cluster.service, dns, cookie: cluster.cookie, epmdPort: cluster.epmdPort, probeName: { longHost: '127.0.0.1' }, signal: o.signal });

    print(`${bold('1. CoreDNS as kubeadm/kind/minikube ship it (no endpoint_pod_names)')}\n$ beamnode probe ${cluster.service}\n`);
    const before = await probe();
    print(`${renderTable(before, { color })}\n`);

    cluster.setEndpointPodNames(true);
    print(`${bold('2. The same pods, CoreDNS with endpoint_pod_names')}\n$ beamnode probe ${cluster.service}\n`);
    const after = await probe();
    print(`${renderTable(after, { color })}\n`);

    print(lesson(before, after, cluster));
    if (!o.keep) {
      print(
        `The pretend cluster (its DNS, EPMDs and erl nodes) is stopped now: the \`$ beamnode probe\` lines above cannot be rerun.\n` +
          `\`beamnode demo --keep\` (npm run demo -- --keep) leaves it running until Ctrl-C and prints the commands that can.\n`,
      );
      return { before, after, text };
    }
    print(rerun(cluster));
    const signal = o.signal!;
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    print('Stopping the pretend cluster.\n');
    return { before, after, text };
  } finally {
    await cluster.stop();
  }
}

/** The commands that reach the kept cluster from another terminal: its DNS, its EPMD port, its cookie in a file. */
function rerun(c: DemoCluster): string {
  const common = `--epmd-port ${c.epmdPort} --cookie-file ${c.cookieFile()}`;
  return [
    `The cluster keeps running until Ctrl-C (its DNS now with endpoint_pod_names). In another terminal`,
    `(from a clone: npx beamnode …, or node dist/cli/main.js …):`,
    `  $ beamnode probe ${c.serviceFqdn} --nameserver ${c.dns.nameserver} ${common}`,
    `  $ beamnode probe ${c.pods[0].ip} ${common}   # one pod without the cluster DNS: broken, its FQDN resolves only there`,
    '',
  ].join('\n');
}

function lesson(before: ProbeReport, after: ProbeReport, c: DemoCluster): string {
  const pod = c.pods[0];
  const dashed = before.nodes[0]?.dnsName ?? `${pod.ip.replace(/\./g, '-')}.${c.serviceFqdn}`;
  return [
    'The lesson',
    `  Each pod runs \`erl -name ${c.alive}\` and takes its FQDN as its name: ${pod.nodeName}`,
    `  (the kubelet writes <pod>.<subdomain>.<ns>.svc.<zone> into /etc/hosts when spec.subdomain is set).`,
    `  1 (${before.verdict}): CoreDNS gives endpoints without spec.hostname dashed-IP names, so SRV discovery returns`,
    `    ${c.alive}@${dashed}. The node answers the handshake with its own name, which differs,`,
    `    and a BEAM node drops a connection whose challenge name is not the name it dialed (a silent pang).`,
    `    The pod's FQDN, the one name the node accepts, is not in DNS at all.`,
    `  2 (${after.verdict}): with endpoint_pod_names CoreDNS names each endpoint after its pod, so the name`,
    `    discovery returns is exactly the name each node holds.`,
    '  The fix: add `endpoint_pod_names` to the kubernetes block of the CoreDNS Corefile',
    '  (kubectl -n kube-system edit configmap coredns), keep spec.subdomain equal to the headless',
    '  Service, and start nodes as RELEASE_DISTRIBUTION=name RELEASE_NODE=<app>@$(hostname -f).',
    '  Or: a StatefulSet with serviceName = the headless Service; or name nodes <app>@$(POD_IP) and',
    '  discover IPs (libcluster Kubernetes.DNS, dns_cluster).',
    '',
  ].join('\n');
}
