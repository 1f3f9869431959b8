/** Crafted probe reports for the unit tests: the shapes a real run produces, without sockets. */
import type { Attempt, HostReport, NodeReport, ProbeReport } from '../../src/probe/types.js';

export const SVC = 'myapp-headless.default.svc.cluster.local';

export function attempt(form: Attempt['form'], dialed: string, o: Partial<Attempt> = {}): Attempt {
  return { form, forms: o.forms ?? [form], dialed, accepted: o.accepted ?? false, ...o };
}

/** A Deployment pod with subdomain, long names, as CoreDNS default mode shows it. */
export function defaultModeNode(pod: string, ip: string): NodeReport {
  const fqdn = `${pod}.${SVC}`;
  const dashed = `${ip.replace(/\./g, '-')}.${SVC}`;
  const name = `myapp@${fqdn}`;
  return {
    name,
    nameKnown: true,
    alive: 'myapp',
    host: ip,
    dnsName: dashed,
    port: 40000,
    longNames: true,
    attempts: [
      attempt('ip', `myapp@${ip}`, { reason: 'mismatch', actual: name, address: ip }),
      attempt('localhost', 'myapp@localhost', { reason: 'illegal-host', detail: 'a node running with long names (-name) refuses to dial it: System running to use fully qualified hostnames; Hostname localhost is illegal' }),
      attempt('short', `myapp@${pod}`, { reason: 'illegal-host' }),
      attempt('dns', `myapp@${dashed}`, { reason: 'mismatch', actual: name, address: ip }),
      attempt('fqdn', name, { reason: 'unresolvable', detail: `${fqdn}: NXDOMAIN` }),
    ],
  };
}

/** The same pod under endpoint_pod_names: dns and fqdn coincide and are accepted. */
export function podNamesNode(pod: string, ip: string): NodeReport {
  const fqdn = `${pod}.${SVC}`;
  const name = `myapp@${fqdn}`;
  return {
    name,
    nameKnown: true,
    alive: 'myapp',
    host: ip,
    dnsName: fqdn,
    port: 40000,
    longNames: true,
    attempts: [
      attempt('ip', `myapp@${ip}`, { reason: 'mismatch', actual: name }),
      attempt('localhost', 'myapp@localhost', { reason: 'illegal-host' }),
      attempt('short', `myapp@${pod}`, { reason: 'illegal-host' }),
      attempt('dns', name, { forms: ['dns', 'fqdn'], accepted: true, address: ip }),
    ],
  };
}

export function host(ip: string, dnsName: string, o: Partial<HostReport> = {}): HostReport {
  return { ip, dnsName, sources: ['epmd-srv', 'srv'], kind: 'dashed-ipv4', epmd: 'ok', skipped: [], ...o };
}

export function report(o: Partial<ProbeReport> & Pick<ProbeReport, 'nodes'>): ProbeReport {
  const nodes = o.nodes;
  return {
    verdict: 'broken',
    dnsMode: 'default',
    service: SVC,
    cookie: { hash: '1a2b3c4d', known: true },
    discovery: {
      service: 'myapp-headless',
      fqdn: SVC,
      nameserver: '10.96.0.10',
      srv: { epmd: 'ok', bare: 'ok', a: 'ok', aaaa: 'nodata' },
      targets: nodes.map((n) => ({ name: n.dnsName, kind: /^\d+-\d+-\d+-\d+\./.test(n.dnsName) ? 'dashed-ipv4' : 'pod-name', port: 4369 })),
      addresses: nodes.map((n) => n.host),
    },
    hosts: nodes.map((n) => host(n.host, n.dnsName)),
    advice: [],
    elapsedMs: 12,
    ...o,
  };
}
