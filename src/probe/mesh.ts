/**
 * `--mesh`: ask every node (over rpc, so the cookie must be right) to `net_adm:ping` every other
 * node's true name, which shows whether the pods can resolve and reach each other, as the
 * cluster itself needs. Side effect, as with any ping: the nodes that answer `pong` stay
 * connected to each other (that is what the cluster wants anyway).
 */
import createDebug from 'debug';
import type { DistTlsOptions } from '../dist/net/transport.js';
import { atom, Atom } from '../etf/types.js';
import type { MeshReport, NodeReport } from './types.js';
import { mapBounded } from './pool.js';
import { defaultLongHost } from './dial.js';

const log = createDebug('beamnode:probe:mesh');

export interface MeshOptions {
  cookie: string;
  known: boolean;
  timeoutMs: number;
  alive: string;
  longHost?: string;
  shortHost?: string;
  /** EPMD port on the nodes' hosts (the probe's --epmd-port). */
  epmdPort?: number;
  /** TLS distribution, as the probe's own dials. */
  tls?: DistTlsOptions;
  signal?: AbortSignal;
}

/** A ping of a host that does not answer can take net_setuptime (7 s) on the far side. */
const MIN_RPC_TIMEOUT = 15_000;

export async function probeMesh(nodes: readonly NodeReport[], o: MeshOptions): Promise<MeshReport> {
  const report: MeshReport = { matrix: [], skipped: [] };
  if (!o.known) {
    for (const n of nodes) report.skipped.push({ node: n.name, reason: 'no cookie given: rpc needs the right cookie' });
    return report;
  }
  // Only nodes reachable under their true name with our cookie can be asked.
  const askable = nodes.filter((n) => n.nameKnown && n.attempts.some((a) => a.dialed === n.name && a.accepted));
  for (const n of nodes) if (!askable.includes(n)) report.skipped.push({ node: n.name, reason: 'not reachable under its own name with this cookie' });
  if (askable.length === 0 || nodes.length < 2) return report;
  const longNames = askable[0].longNames ?? true;
  const { Node } = await import('../dist/node/node.js');
  const { hostname } = await import('node:os');
  const host = longNames ? (o.longHost ?? defaultLongHost()) : (o.shortHost ?? hostname().split('.')[0]);
  const node = await Node.start({
    name: `${o.alive}@${host}`,
    cookie: o.cookie,
    longNames,
    hidden: true,
    epmd: { skip: true, port: o.epmdPort },
    listen: { address: '127.0.0.1' },
    setupTime: o.timeoutMs,
    signal: o.signal,
    ...(o.tls ? { tls: o.tls } : {}),
    // We dial each node under its true name at the address the probe already reached it on, so
    // the mesh works whatever resolver this process has (--nameserver, the loopback demo); the
    // pods' own pings still go through their own resolvers, which is what the check is about.
    lookup: async (host) => {
      const n = askable.find((x) => x.name.slice(x.name.indexOf('@') + 1) === host);
      if (!n) throw new Error(`mesh: no probed address for ${host}`);
      return n.host;
    },
  });
  try {
    const timeout = Math.max(MIN_RPC_TIMEOUT, o.timeoutMs * 4);
    await mapBounded(askable, 4, async (from) => {
      const targets = nodes.filter((t) => t !== from);
      const results = await Promise.all(
        targets.map(async (to) => {
          try {
            const r = await node.rpc(from.name, 'net_adm', 'ping', [atom(to.name)], { timeout, signal: o.signal });
            return r instanceof Atom ? r.name : String(r);
          } catch (e) {
            if (o.signal?.aborted) throw o.signal.reason;
            return `error: ${(e as Error).message}`;
          }
        }),
      );
      targets.forEach((to, i) => report.matrix.push({ from: from.name, to: to.name, result: results[i] }));
      log('%s: %s', from.name, results.join(' '));
    });
  } finally {
    await node.stop();
  }
  return report;
}
