/** `beamnode probe --watch`: the probe on a schedule, with Prometheus metrics, a JSON API and a live page. */
export { startWatch, serveWatch, DEFAULT_INTERVAL_MS, DEFAULT_LISTEN, type WatchOptions, type RunningWatch } from './watch.js';
export { WatchMetrics, DIST_NODE_STATE, type DistNodeState, type WatchMetricsOptions } from './metrics.js';
export { WatchServer, parseListen, type Listen, type WatchSnapshot, type WatchServerOptions } from './server.js';
export { EventHub, type EventHubOptions, type SseEvent } from './events.js';
export { RunLoop, type LoopOptions, type RunResult } from './loop.js';
export { DistHolder, type HoldOptions } from './hold.js';
export { parseDuration } from './duration.js';
