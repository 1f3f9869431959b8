// The timing primitives, run inside each library's worker (see worker.mjs), shared in spirit with
// bench-beam.escript so the BEAM column is comparable: calibrate a batch (calls taking about
// 1 ms, so the clock read is negligible), warm up, then rounds of whole batches lasting at least
// `roundMs`, a full GC before each round, outside the timing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Where results go so the JIT cannot drop the call as dead code. */
export let sink;

const now = () => process.hrtime.bigint();

setFlagsFromString('--expose-gc');
/** A full collection; `gc` exists in contexts created after the flag is set. */
export const fullGc = runInNewContext('gc');

/** Batch sizes double from 1; 2^30 calls of anything take far longer than 1 ms, so this ends. */
const MAX_BATCH = 2 ** 30;

function runBatch(fn, n) {
  for (let i = 0; i < n; i++) sink = fn();
}

/** The number of calls of fn that take at least 1 ms. */
export function calibrate(fn) {
  let n = 1;
  while (n < MAX_BATCH) {
    const t0 = now();
    runBatch(fn, n);
    if (now() - t0 >= 1_000_000n) return n;
    n *= 2;
  }
  return n;
}

export function warmUp(fn, batch, ms) {
  const until = now() + BigInt(ms) * 1_000_000n;
  do runBatch(fn, batch); while (now() < until);
  sink = undefined;
}

/**
 * One round: a full GC, then whole batches until at least `ms` of wall time passed. Returns the
 * wall time and the process's CPU time (user + system, all threads: V8's GC helpers included):
 * on a machine shared with other work the CPU time is the steadier figure, as time spent
 * descheduled does not count.
 */
export function round(fn, batch, ms) {
  fullGc();
  const minNs = BigInt(ms) * 1_000_000n;
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let elapsed = 0n;
  do {
    runBatch(fn, batch);
    ops += batch;
    elapsed = now() - t0;
  } while (elapsed < minNs);
  const cpu = process.cpuUsage(cpu0);
  sink = undefined;
  return { ns: Number(elapsed), cpuNs: (cpu.user + cpu.system) * 1000, ops };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}
