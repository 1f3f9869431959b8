/**
 * Watch mode's Prometheus metrics, in a registry of our own (never prom-client's global one, so an
 * application that embeds the watch keeps its own metrics apart). Each run replaces every
 * per-node series at once: a node that left the cluster loses its series on the next run, so the
 * number of series follows the cluster, not the days the watch has run.
 *
 * Names and labels are documented in docs/probe.md ("Watch mode"); keep them in step.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CandidateForm } from '../../discovery/index.js';
import { reachableByDiscovery } from '../advice.js';
import type { DnsMode, ProbeReport } from '../types.js';

/** prometheus.erl's erlang_vm_dist_node_state values (OTP net_kernel:nodes_info/0 `state`). */
export const DIST_NODE_STATE = { pending: 1, up_pending: 2, up: 3 } as const;
export type DistNodeState = keyof typeof DIST_NODE_STATE;

export type RunOutcome = 'ok' | 'broken' | 'error';

const FORMS: readonly CandidateForm[] = ['ip', 'localhost', 'short', 'dns', 'fqdn'];
const DNS_MODES: readonly DnsMode[] = ['default', 'endpoint_pod_names', 'unknown'];

export interface WatchMetricsOptions {
  /** Also export prom-client's process and Node.js metrics (process_*, nodejs_*). Default true. */
  defaultMetrics?: boolean;
  /** The connections the watch holds, read at each scrape. */
  distStates?: () => ReadonlyMap<string, DistNodeState>;
}

export class WatchMetrics {
  readonly registry = new Registry();
  private readonly verdict: Gauge<never>;
  private readonly nameAccepted: Gauge<'node' | 'form'>;
  private readonly clusterNodes: Gauge<'state'>;
  private readonly runs: Counter<'verdict'>;
  private readonly duration: Histogram<never>;
  private readonly meshPairUp: Gauge<'from' | 'to'>;
  private readonly dnsMode: Gauge<'mode'>;
  private readonly lastRun: Gauge<never>;

  constructor(o: WatchMetricsOptions = {}) {
    const registers = [this.registry];
    this.verdict = new Gauge({ name: 'beamnode_probe_verdict', help: 'Verdict of the last probe run: 1 ok, 0 broken (or the run failed)', registers });
    this.nameAccepted = new Gauge({
      name: 'beamnode_probe_name_accepted',
      help: 'Whether the node accepted a handshake under this form of its name (ip, localhost, short, dns, fqdn): 1 accepted, 0 not',
      labelNames: ['node', 'form'] as const,
      registers,
    });
    this.clusterNodes = new Gauge({
      name: 'beamnode_cluster_nodes',
      help: 'Nodes in the last run: discovered (listed by EPMD on a discovered host), reachable (answered a handshake), accepted (accepted under the name discovery returns)',
      labelNames: ['state'] as const,
      registers,
    });
    this.runs = new Counter({ name: 'beamnode_probe_runs_total', help: 'Probe runs by outcome: ok, broken, error (the run itself failed or timed out)', labelNames: ['verdict'] as const, registers });
    this.duration = new Histogram({
      name: 'beamnode_probe_duration_seconds',
      help: 'Wall time of one probe run',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.meshPairUp = new Gauge({
      name: 'beamnode_mesh_pair_up',
      help: 'With --mesh: 1 when node `from` answered pong to net_adm:ping of node `to`, else 0',
      labelNames: ['from', 'to'] as const,
      registers,
    });
    this.dnsMode = new Gauge({ name: 'beamnode_probe_dns_mode', help: 'The cluster DNS mode the last run inferred: 1 for the current mode, 0 for the others', labelNames: ['mode'] as const, registers });
    this.lastRun = new Gauge({ name: 'beamnode_probe_last_run_timestamp_seconds', help: 'Unix time at which the last probe run ended', registers });
    const distStates = o.distStates;
    new Gauge({
      name: 'beamnode_dist_node_state',
      help: 'Distribution connections the watch holds, as erlang_vm_dist_node_state: 1 pending, 2 up_pending, 3 up',
      labelNames: ['peer'] as const,
      registers,
      // Read at scrape time: the connections change between runs (nodedown, reconnect).
      collect() {
        this.reset();
        for (const [peer, state] of distStates?.() ?? []) this.set({ peer }, DIST_NODE_STATE[state]);
      },
    });
    for (const v of ['ok', 'broken', 'error'] as const) this.runs.inc({ verdict: v }, 0); // every outcome present from the start
    if (o.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Records one finished run. Synchronous: a scrape sees the old run or the new one, never a mix. */
  recordReport(r: ProbeReport, seconds: number, endedAt = Date.now()): void {
    this.verdict.set(r.verdict === 'ok' ? 1 : 0);
    this.runs.inc({ verdict: r.verdict });
    this.duration.observe(seconds);
    this.lastRun.set(endedAt / 1000);
    for (const m of DNS_MODES) this.dnsMode.set({ mode: m }, m === r.dnsMode ? 1 : 0);

    this.nameAccepted.reset(); // drops the series of nodes that are gone
    for (const n of r.nodes) {
      for (const form of FORMS) {
        const a = n.attempts.find((x) => x.forms.includes(form));
        if (a) this.nameAccepted.set({ node: n.name, form }, a.accepted ? 1 : 0);
      }
    }
    this.clusterNodes.set({ state: 'discovered' }, r.nodes.length);
    this.clusterNodes.set({ state: 'reachable' }, r.nodes.filter((n) => n.nameKnown).length);
    this.clusterNodes.set({ state: 'accepted' }, r.nodes.filter((n) => reachableByDiscovery(n, r.cookie.known)).length);

    this.meshPairUp.reset();
    for (const m of r.mesh?.matrix ?? []) this.meshPairUp.set({ from: m.from, to: m.to }, m.result === 'pong' ? 1 : 0);
  }

  /** Records a run that produced no report (it threw or timed out): verdict 0, per-node series kept as last seen. */
  recordError(seconds: number, endedAt = Date.now()): void {
    this.verdict.set(0);
    this.runs.inc({ verdict: 'error' });
    this.duration.observe(seconds);
    this.lastRun.set(endedAt / 1000);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
