/**
 * `--mesh`: ask every node (over rpc, so the cookie must be right) to `net_adm:ping` every other
 * node's true name, which shows whether the pods can resolve and reach each other, as the
 * cluster itself needs. Side effect, as with any ping: the nodes that answer `pong` stay
 * connected to each other (that is what the cluster wants anyway).
 */
import createDebug from 'debug';
import type { DistTlsOptions } from '../dist/net/transport.js';
import { atom, Atom, Tuple, type Term } from '../etf/types.js';
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
    const call = (on: string, m: string, f: string, args: Term[]) => node.rpc(on, m, f, args, { timeout, signal: o.signal });
    await mapBounded(askable, 4, async (from) => {
      const targets = nodes.filter((t) => t !== from);
      const results = await Promise.all(
        targets.map(async (to) => {
          try {
            const r = await call(from.name, 'net_adm', 'ping', [atom(to.name)]);
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
    // Why each pang: the asking node's own view of resolution, EPMD and the TCP port.
    await mapBounded(
      report.matrix.filter((m) => m.result === 'pang'),
      4,
      async (m) => {
        m.why = await whyPang(call, m.from, m.to, { timeoutMs: o.timeoutMs, epmdPort: o.epmdPort, signal: o.signal });
      },
    );
    report.nodes = await settle(call, askable.map((n) => n.name), report.matrix, o.signal);
    for (const m of report.matrix) {
      if (isCut(m, report.nodes)) {
        m.dropped = true;
        const pop = report.nodes.filter((x) => x.preventOverlappingPartitions).map((x) => x.name);
        m.why = `pong, then disconnected${pop.length && report.matrix.some((x) => x.result === 'pang') ? ` (global's prevent_overlapping_partitions is on in ${pop.join(', ')}: with other pairs pang, global cuts the connections that would overlap partitions)` : ''}`;
      }
    }
  } finally {
    await node.stop();
  }
  return report;
}

export type Call = (on: string, m: string, f: string, args: Term[]) => Promise<Term>;

const charlist = (s: string): number[] => [...s].map((c) => c.codePointAt(0)!);
const text = (t: Term): string => (t instanceof Atom ? t.name : t instanceof Tuple ? `{${t.elements.map(text).join(',')}}` : Array.isArray(t) ? String.fromCodePoint(...(t as number[])) : String(t));

/** What `from` sees on the way to `to`: inet:getaddr, TCP to EPMD, erl_epmd:port_please, gen_tcp:connect, each step as erl's net_kernel takes it. */
export async function whyPang(call: Call, from: string, to: string, o: { timeoutMs: number; epmdPort?: number; signal?: AbortSignal }): Promise<string> {
  const { timeoutMs, signal } = o;
  const epmdPort = o.epmdPort ?? 4369;
  const at = to.indexOf('@');
  const alive = to.slice(0, at);
  const host = to.slice(at + 1);
  try {
    let ip: Term | undefined;
    const errors: string[] = [];
    for (const family of ['inet', 'inet6']) {
      const r = await call(from, 'inet', 'getaddr', [charlist(host), atom(family)]);
      if (r instanceof Tuple && r.elements[0] === atom('ok')) {
        ip = r.elements[1];
        break;
      }
      errors.push(`${family} ${r instanceof Tuple ? text(r.elements[1]) : text(r)}`);
    }
    if (ip === undefined) return `${from} cannot resolve ${host} (${errors.join(', ')})`;
    const ipText = ip instanceof Tuple ? ip.elements.map((x) => (typeof x === 'number' ? x.toString(ip!.elements.length === 8 ? 16 : 10) : '?')).join(ip.elements.length === 8 ? ':' : '.') : text(ip);
    // erl_epmd:port_please says noport both when EPMD is unreachable and when the name is missing: try TCP to EPMD first.
    const e = await call(from, 'gen_tcp', 'connect', [ip, epmdPort, [], timeoutMs]);
    if (!(e instanceof Tuple) || e.elements[0] !== atom('ok'))
      return `${from} cannot reach EPMD at ${ipText}:${epmdPort} (${host}): ${e instanceof Tuple ? text(e.elements[1]) : text(e)}`;
    await call(from, 'gen_tcp', 'close', [e.elements[1]]);
    const pp = await call(from, 'erl_epmd', 'port_please', [charlist(alive), ip, timeoutMs]);
    if (!(pp instanceof Tuple) || pp.elements[0] !== atom('port')) return `EPMD at ${ipText} (${host}) does not list ${alive} (${text(pp)})`;
    const port = pp.elements[1] as number;
    const c = await call(from, 'gen_tcp', 'connect', [ip, port, [], timeoutMs]);
    if (c instanceof Tuple && c.elements[0] === atom('ok')) {
      await call(from, 'gen_tcp', 'close', [c.elements[1]]);
      return `${from} reaches ${ipText}:${port} over TCP, yet the handshake fails: names, cookie or an allow list (the target's log says which)`;
    }
    return `${from} cannot connect to the distribution port ${ipText}:${port} (${host}): ${c instanceof Tuple ? text(c.elements[1]) : text(c)}`;
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    return `could not ask ${from}: ${(e as Error).message}`;
  }
}

/** A pair that ponged and is no longer connected, in the nodes' latest view. */
function isCut(m: MeshReport['matrix'][number], nodes: NonNullable<MeshReport['nodes']>): boolean {
  const now = nodes.find((x) => x.name === m.from);
  return m.result === 'pong' && !!now?.connected && !now.connected.includes(m.to);
}

/**
 * Each node's connections once they settle, and its prevent_overlapping_partitions setting
 * (kernel env; unset means true from OTP 25, false before). global acts shortly after a nodeup:
 * the snapshot is read until two in a row agree, 300 ms apart. When a pair is pang and a node
 * prevents overlapping partitions, global cuts connections only once its own attempt to connect
 * the pang pair has failed, which takes up to net_setuptime when the packets are dropped (the
 * prevent_overlapping_partitions section of OTP's global manual: global disconnects from nodes
 * that report a lost connection; net_setuptime is 7 s by default, kernel's manual): then the
 * snapshot is read until a cut shows and holds, or net_setuptime + 2 s have passed.
 */
export async function settle(call: Call, names: string[], matrix: MeshReport['matrix'], signal?: AbortSignal): Promise<NonNullable<MeshReport['nodes']>> {
  const out: NonNullable<MeshReport['nodes']> = [];
  let setupMs = 0; // the longest net_setuptime among the nodes (7 s when unset)
  for (const name of names) {
    try {
      const rel = Number(text(await call(name, 'erlang', 'system_info', [atom('otp_release')])));
      const env = await call(name, 'application', 'get_env', [atom('kernel'), atom('prevent_overlapping_partitions')]);
      const pop = env instanceof Tuple ? env.elements[1] === true : rel >= 25;
      const setup = await call(name, 'application', 'get_env', [atom('kernel'), atom('net_setuptime')]);
      setupMs = Math.max(setupMs, setup instanceof Tuple && typeof setup.elements[1] === 'number' ? setup.elements[1] * 1000 : 7_000);
      out.push({ name, otp: rel, preventOverlappingPartitions: pop });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      out.push({ name });
    }
  }
  const awaitCut = matrix.some((m) => m.result === 'pang') && out.some((n) => n.preventOverlappingPartitions);
  const deadline = Date.now() + (awaitCut ? Math.min(setupMs || 7_000, 60_000) + 2_000 : 0);
  let last = '';
  for (let round = 0; round < 250; round++) {
    for (const n of out) {
      try {
        const l = await call(n.name, 'erlang', 'nodes', []);
        n.connected = Array.isArray(l) ? l.map(text).sort() : undefined;
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        n.connected = undefined;
      }
    }
    const snap = JSON.stringify(out.map((n) => n.connected));
    const waiting = awaitCut && Date.now() < deadline && !matrix.some((m) => isCut(m, out));
    if (snap === last && !waiting) break;
    if (round >= 9 && !waiting) break;
    last = snap;
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, 300));
  }
  return out;
}
