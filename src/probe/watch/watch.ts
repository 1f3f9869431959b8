/**
 * `beamnode probe <service> --watch`: the probe run every interval, its results as Prometheus
 * metrics, a JSON API, a live page fed by Server-Sent Events, and the distribution connections a
 * cluster member would hold. Everything started here is stopped by stop(): the timer, the run in
 * progress, the event streams, the HTTP server, the connections.
 */
import createDebug from 'debug';
import { resolveCookie } from '../../dist/net/cookie.js';
import { renderJson } from '../render.js';
import { DEFAULT_TIMEOUT_MS, runProbe, type ProbeOptions } from '../probe.js';
import { ProbeError } from '../errors.js';
import type { ProbeReport } from '../types.js';
import { EventHub, type EventHubOptions } from './events.js';
import { DistHolder } from './hold.js';
import { RunLoop, type RunResult } from './loop.js';
import { WatchMetrics } from './metrics.js';
import { WatchServer, type Listen, type WatchSnapshot } from './server.js';

const log = createDebug('beamnode:probe:watch');

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_LISTEN: Listen = { port: 9090 };
const MESH_RUN_TIMEOUT_MS = 120_000;

export interface WatchOptions {
  /** The probe's options, as for one run (`signal` is the watch's own per run). */
  probe: Omit<ProbeOptions, 'signal'>;
  /** Time from one run's start to the next (default 30 s). */
  intervalMs?: number;
  /** A run is aborted after this long (default: the interval, at least 20 × the probe's step timeout; with --mesh at least 2 min). */
  runTimeoutMs?: number;
  listen?: Listen;
  /** Keep a connection to every node accepted under its own name (default: when a cookie is known). */
  hold?: boolean;
  events?: EventHubOptions;
  /** prom-client's process_* and nodejs_* metrics (default true). */
  defaultMetrics?: boolean;
  /** The probe itself (default runProbe); tests pass reports of their own. */
  run?: (o: ProbeOptions) => Promise<ProbeReport>;
}

export interface RunningWatch {
  /** Where the server listens. */
  readonly address: { address: string; port: number; family: string };
  readonly metrics: WatchMetrics;
  /** The latest finished run. */
  latest(): WatchSnapshot | undefined;
  /** Resolves after the next run that ends from now on (bounded by `signal`). */
  nextRun(signal?: AbortSignal): Promise<WatchSnapshot>;
  stop(): Promise<void>;
}

/** Starts the server, then the first run; resolves once the server listens. */
export async function startWatch(o: WatchOptions): Promise<RunningWatch> {
  const intervalMs = o.intervalMs ?? DEFAULT_INTERVAL_MS;
  const stepMs = o.probe.timeout ?? o.probe.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // --mesh pings with an rpc timeout of at least 15 s, four nodes at a time (src/probe/mesh.ts).
  const runTimeoutMs = o.runTimeoutMs ?? Math.max(intervalMs, 20 * stepMs, o.probe.mesh ? MESH_RUN_TIMEOUT_MS : 0);
  const run = o.run ?? runProbe;
  // One cookie for every run and for the held connections (a random one when none is known, as runProbe).
  let cookie: string | undefined;
  try {
    cookie = resolveCookie(o.probe.cookie === undefined ? {} : { cookie: o.probe.cookie });
  } catch (e) {
    if (o.probe.cookie !== undefined) throw new ProbeError('BEAM_ERR_PROBE_USAGE', (e as Error).message, { cause: e });
  }
  const holder =
    (o.hold ?? true) && cookie !== undefined
      ? new DistHolder({ cookie, timeoutMs: stepMs, epmdPort: o.probe.epmdPort, longHost: o.probe.probeName?.longHost, shortHost: o.probe.probeName?.shortHost })
      : undefined;
  const metrics = new WatchMetrics({ defaultMetrics: o.defaultMetrics, distStates: () => holder?.states() ?? new Map() });
  const events = new EventHub(o.events);
  let latest: WatchSnapshot | undefined;
  let lastEnd = Date.now();
  const waiters = new Set<(s: WatchSnapshot) => void>();

  const onResult = async (r: RunResult<ProbeReport>, signal: AbortSignal) => {
    const durationMs = r.endedAt - r.startedAt;
    let json: string;
    if (r.value) {
      metrics.recordReport(r.value, durationMs / 1000, r.endedAt);
      json = renderJson(r.value);
    } else {
      metrics.recordError(durationMs / 1000, r.endedAt);
      const err = r.error as Error & { code?: string };
      json = `${JSON.stringify({ verdict: 'broken', error: { code: err.code ?? 'BEAM_ERR', message: err.message } }, null, 2)}\n`;
    }
    lastEnd = r.endedAt;
    latest = { run: r.run, at: new Date(r.endedAt).toISOString(), durationMs, json };
    events.publish({ event: 'report', id: String(r.run), data: JSON.stringify({ run: r.run, at: latest.at, durationMs, report: JSON.parse(json) as unknown }) });
    log('run %d: %s in %d ms', r.run, r.value?.verdict ?? `error (${r.error?.message})`, durationMs);
    for (const w of waiters) w(latest);
    waiters.clear();
    if (r.value && holder) await holder.sync(r.value, signal);
  };

  const loop = new RunLoop<ProbeReport>({ intervalMs, runTimeoutMs, run: (signal) => run({ ...o.probe, ...(cookie ? { cookie } : {}), signal }), onResult });
  const server = new WatchServer({
    metrics: () => metrics.text(),
    latest: () => latest,
    events,
    // Runs are bounded, so a loop that ended nothing for three periods is stuck: let Kubernetes restart it.
    unhealthy: () => (Date.now() - lastEnd > 3 * Math.max(intervalMs, runTimeoutMs) ? `no probe run ended for ${Math.round((Date.now() - lastEnd) / 1000)} s` : undefined),
  });
  const address = await server.listen(o.listen ?? DEFAULT_LISTEN);
  log('listening on %s:%d; probing %s every %d ms (run timeout %d ms)', address.address, address.port, o.probe.service, intervalMs, runTimeoutMs);
  loop.start();

  let stopping: Promise<void> | undefined;
  return {
    address,
    metrics,
    latest: () => latest,
    nextRun: (signal) =>
      new Promise((resolve, reject) => {
        signal?.throwIfAborted();
        const onAbort = () => {
          waiters.delete(done);
          reject(signal!.reason);
        };
        const done = (s: WatchSnapshot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        };
        waiters.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    stop: () =>
      (stopping ??= (async () => {
        log('stopping');
        await loop.stop();
        events.close();
        await server.close();
        await holder?.close();
        log('stopped');
      })()),
  };
}

/** Runs the watch until `signal` aborts (SIGTERM/SIGINT in the CLI), then stops it gracefully. */
export async function serveWatch(o: WatchOptions & { signal: AbortSignal; onListening?: (address: RunningWatch['address']) => void }): Promise<void> {
  o.signal.throwIfAborted();
  const w = await startWatch(o);
  o.onListening?.(w.address);
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    else o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await w.stop();
}
