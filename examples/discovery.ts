/**
 * Discover the BEAM hosts behind a Kubernetes headless Service through DNS SRV, classify what the
 * SRV targets are (dashed IPs, pod names, StatefulSet hostnames, the Service itself), and list the
 * node names a BEAM node could be dialed by on each host — what libcluster's DNSSRV strategy and
 * dns_cluster would see, without dialing anyone (`beamnode probe` does the dialing).
 *
 *   # in a pod (nameserver and search list from /etc/resolv.conf):
 *   node --import tsx examples/discovery.ts myapp-headless --alive myapp
 *   # a chosen nameserver (the search list still comes from /etc/resolv.conf unless --search):
 *   node --import tsx examples/discovery.ts myapp-headless --nameserver 10.96.0.10 --search default.svc.cluster.local,svc.cluster.local,cluster.local
 *   # no cluster: an in-process CoreDNS look-alike with three Deployment pods (dashed-IP names by default)
 *   node --import tsx examples/discovery.ts --local [--endpoint-pod-names] [--json]
 *
 * Env: BEAMNODE_NAMESERVER (as --nameserver). Exit 0 when SRV records were found, 1 when not (or
 * DNS failed), 2 on a usage error. Ctrl-C aborts the lookups.
 */
import { parseArgs } from 'node:util';
import {
  DnsClient,
  candidateNames,
  classifyName,
  readResolvConf,
  srvAnswer,
  type Candidate,
  type ClassifiedName,
  type DnsLookup,
  type ResolvConf,
} from '../src/discovery/index.js';
// A stand-in cluster DNS for running this example off-cluster (not part of the package's API).
import { startClusterDns, type ClusterDns } from '../src/emulation/dns-server.js';

const USAGE = `usage: node --import tsx examples/discovery.ts <service> [--nameserver IP[:PORT]] [--search D1,D2,…] [--alive NAME] [--timeout MS] [--json]
       node --import tsx examples/discovery.ts --local [--endpoint-pod-names] [--alive NAME] [--json]`;

interface HostResult {
  target: string;
  port: number;
  class: ClassifiedName;
  addresses: string[];
  candidates: Candidate[];
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      nameserver: { type: 'string' },
      search: { type: 'string' },
      alive: { type: 'string', default: 'myapp' },
      timeout: { type: 'string', default: '2000' },
      local: { type: 'boolean', default: false },
      'endpoint-pod-names': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values: opts, positionals } = parsed;
const timeoutMs = Number(opts.timeout);
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60_000 || positionals.length > 1 || (!opts.local && positionals.length === 0)) {
  console.error(USAGE);
  process.exit(2);
}

// Ctrl-C (or SIGTERM) aborts every pending lookup; the finally block still stops the local DNS.
const abort = new AbortController();
const onSignal = () => abort.abort(new Error('interrupted'));
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

let local: ClusterDns | undefined;
try {
  let service = positionals[0] ?? 'myapp-headless';
  let client: DnsClient;
  if (opts.local) {
    // Three pods of a Deployment `myapp` behind `myapp-headless`, as CoreDNS's kubernetes plugin
    // would serve them (no endpoint hostnames: the pods have no spec.hostname).
    local = await startClusterDns({
      address: '127.0.0.1',
      port: 0,
      zone: 'cluster.local',
      endpointPodNames: opts['endpoint-pod-names'],
      podsMode: 'insecure',
      services: [
        {
          name: 'myapp-headless',
          namespace: 'default',
          headless: true,
          ports: [{ name: 'epmd', port: 4369, protocol: 'TCP' }],
          endpoints: [
            { ip: '10.99.0.11', podName: 'myapp-7d9f8b6c5-abcde', ready: true },
            { ip: '10.99.0.12', podName: 'myapp-7d9f8b6c5-fghij', ready: true },
            { ip: '10.99.0.13', podName: 'myapp-7d9f8b6c5-klmno', ready: true },
          ],
        },
      ],
    });
    // A pod's resolv.conf in namespace `default`.
    const podConf: ResolvConf = {
      nameservers: [],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeout: 2,
      attempts: 2,
      useVc: false,
    };
    client = new DnsClient({ nameserver: local.nameserver, resolvConf: podConf, timeoutMs });
  } else {
    const nameserver = opts.nameserver ?? process.env.BEAMNODE_NAMESERVER;
    const system = await readResolvConf('/etc/resolv.conf').catch(() => undefined);
    const search = opts.search !== undefined ? opts.search.split(',').filter(Boolean) : (system?.search ?? []);
    const conf: ResolvConf = { ...(system ?? { nameservers: [], ndots: 1, timeout: 2, attempts: 2, useVc: false }), search, ...(opts.search !== undefined ? { ndots: 5 } : {}) };
    client = new DnsClient({ ...(nameserver ? { nameserver } : {}), resolvConf: conf, timeoutMs });
  }
  const q = { signal: abort.signal };

  // libcluster DNSSRV asks the bare name; `_epmd._tcp.<svc>` narrows it to the port named epmd.
  const epmd = await client.lookup(`_epmd._tcp.${service}`, 'SRV', q);
  const bare = await client.lookup(service, 'SRV', q);
  const found = epmd.status === 'ok' ? epmd : bare;
  const fqdn = found.name.replace(/^_epmd\._tcp\./, '');
  service = fqdn;

  const hosts: HostResult[] = [];
  if (found.status === 'ok') {
    const srv = srvAnswer(found);
    for (const r of srv.records) {
      const target = r.target.replace(/\.$/, '');
      // Addresses from the ADDITIONAL section when the server sent them, else an A lookup.
      let addresses = srv.additional.get(r.target) ?? [];
      if (addresses.length === 0) {
        const a = await client.lookup(`${target}.`, 'A', q);
        addresses = a.records.flatMap((rec) => (rec.type === 'A' ? [rec.address] : []));
      }
      const cls = classifyName(target, { service: fqdn });
      const candidates = candidateNames({ alive: opts.alive, ip: addresses[0], dnsName: target });
      hosts.push({ target, port: r.port, class: cls, addresses, candidates });
    }
  }

  const status = (l: DnsLookup) => `${l.status}${l.status === 'ok' ? ` (${l.records.length})` : ''}`;
  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          service: fqdn,
          nameservers: client.nameservers.map((n) => `${n.address}:${n.port}`),
          srv: { epmd: epmd.status, bare: bare.status },
          hosts: hosts.map((h) => ({
            target: h.target,
            port: h.port,
            kind: h.class.kind,
            ...('ip' in h.class ? { ip: h.class.ip } : {}),
            ...('workload' in h.class ? { workload: h.class.workload } : {}),
            note: h.class.note,
            addresses: h.addresses,
            candidates: h.candidates.map((c) => ({ node: c.node, forms: c.forms, long: c.long })),
          })),
        },
        null,
        2,
      ),
    );
  } else {
    console.log(`service     ${fqdn}`);
    console.log(`nameserver  ${client.nameservers.map((n) => `${n.address}:${n.port}`).join(', ')}${local ? ' (in-process cluster DNS)' : ''}`);
    console.log(`SRV         _epmd._tcp: ${status(epmd)}, bare name: ${status(bare)}`);
    for (const h of hosts) {
      console.log(`\n${h.target}:${h.port}  ${h.class.kind}  ${h.addresses.join(', ') || '(no address)'}`);
      console.log(`  ${h.class.note}`);
      for (const c of h.candidates) console.log(`  ${c.forms.join('=').padEnd(14)} ${c.node.padEnd(64)} ${c.long ? '-name' : '-sname'}`);
    }
    if (hosts.length === 0) console.log(`\nno SRV records for ${service}: ${found.status}`);
  }
  process.exitCode = hosts.length > 0 ? 0 : 1;
} catch (e) {
  console.error(`discovery failed: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await local?.close();
}
