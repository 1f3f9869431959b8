/**
 * The distribution connections the watch holds between runs: one hidden connection to every node
 * that accepted us under its own (true) name, kept up as a cluster member keeps its peers. Their
 * states are what prometheus.erl exports as erlang_vm_dist_node_state (from OTP's
 * net_kernel:nodes_info/0): `pending` while the handshake runs, `up` once it completed. We never
 * listen, so no peer dials us and `up_pending` (a new connection from a peer while one is up,
 * OTP lib/kernel/src/net_kernel.erl) cannot arise here. A connection that drops (nodedown, missed
 * ticks) or fails to come up has no state until the next run dials it again; a node that leaves
 * the report is disconnected and forgotten, so the state map never outgrows the cluster.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import createDebug from 'debug';
import { DistNetwork } from '../../dist/net/network.js';
import { defaultLongHost } from '../dial.js';
import type { NodeReport, ProbeReport } from '../types.js';
import type { DistNodeState } from './metrics.js';

const log = createDebug('beamnode:probe:watch:hold');

export interface HoldOptions {
  cookie: string;
  /** Per handshake step timeout, ms. */
  timeoutMs: number;
  /** EPMD port on the nodes' hosts. */
  epmdPort?: number;
  /** Our alive name (default `beamnode-watch-<6 hex>`). */
  alive?: string;
  longHost?: string;
  shortHost?: string;
}

interface Held {
  /** Which of our two networks (long or short names) holds it. */
  longNames: boolean;
  state: DistNodeState;
}

export class DistHolder {
  private readonly o: HoldOptions;
  private readonly alive: string;
  private readonly nets = new Map<boolean, DistNetwork>();
  private readonly held = new Map<string, Held>();
  private closed = false;

  constructor(o: HoldOptions) {
    this.o = o;
    this.alive = o.alive ?? `beamnode-watch-${randomBytes(3).toString('hex')}`;
  }

  /** Peer → state, for the metric (a snapshot: safe to iterate while connections change). */
  states(): ReadonlyMap<string, DistNodeState> {
    return new Map([...this.held].map(([peer, h]) => [peer, h.state]));
  }

  private net(longNames: boolean): DistNetwork {
    let n = this.nets.get(longNames);
    if (!n) {
      const host = longNames ? (this.o.longHost ?? defaultLongHost()) : (this.o.shortHost ?? hostname().split('.')[0]);
      n = new DistNetwork({
        name: `${this.alive}@${host}`,
        cookie: this.o.cookie,
        longNames,
        setupTime: this.o.timeoutMs,
        epmdPort: this.o.epmdPort,
      });
      n.on('handshakeFailed', () => {}); // reported through connect()'s rejection
      n.on('nodedown', (peer, reason) => {
        // Gone from net_kernel:nodes_info/0 too; the next run dials it again.
        if (this.held.get(peer)?.longNames === longNames) this.held.delete(peer);
        log('%s nodedown: %s', peer, reason?.message ?? 'closed');
      });
      this.nets.set(longNames, n);
    }
    return n;
  }

  /**
   * Brings the held set in line with a report: connect to every node accepted under its own name
   * (waits for the handshakes, bounded by the timeout and the signal), drop the others.
   */
  async sync(r: ProbeReport, signal?: AbortSignal): Promise<void> {
    if (this.closed) return;
    const keep = new Map<string, NodeReport>();
    for (const n of r.nodes) if (n.nameKnown && n.attempts.some((a) => a.dialed === n.name && a.accepted)) keep.set(n.name, n);
    for (const [peer, h] of this.held) {
      if (keep.has(peer)) continue;
      this.nets.get(h.longNames)?.disconnect(peer);
      this.held.delete(peer);
      log('%s left the report: disconnected', peer);
    }
    await Promise.all(
      [...keep.values()].map(async (n) => {
        const longNames = n.longNames ?? true;
        const prev = this.held.get(n.name);
        if (prev && prev.longNames !== longNames) this.nets.get(prev.longNames)?.disconnect(n.name); // the node restarted in the other mode
        const h: Held = prev && prev.longNames === longNames ? prev : { longNames, state: 'pending' };
        this.held.set(n.name, h);
        const net = this.net(longNames);
        if (net.get(n.name) && !net.get(n.name)!.closed) {
          h.state = 'up';
          return;
        }
        h.state = 'pending';
        try {
          // At the address the probe reached it on: our resolver may not be the pods' (--nameserver).
          await net.connect(n.name, { address: n.host, signal, timeout: this.o.timeoutMs * 6 });
          if (this.held.get(n.name) === h) h.state = 'up';
          log('%s up', n.name);
        } catch (e) {
          if (this.held.get(n.name) === h) this.held.delete(n.name); // not connected: no series (the next run tries again)
          if (!signal?.aborted) log('%s: %s', n.name, (e as Error).message);
        }
      }),
    );
  }

  /** Closes every held connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    await Promise.all([...this.nets.values()].map((n) => n.close()));
    this.nets.clear();
  }
}
