// The timing method, shared in spirit with bench-beam.escript so the BEAM column is comparable:
// calibrate a batch (calls taking about 1 ms, so the clock read is negligible), warm up for
// `warmupMs` (JIT tiers, inline caches), then `rounds` rounds of whole batches lasting at least
// `roundMs` each; the result is the median round's time per call.

/** Where results go so the JIT cannot drop the call as dead code. */
export let sink;

const now = () => process.hrtime.bigint();

/** Batch sizes double from 1; 2^30 calls of anything take far longer than 1 ms, so this ends. */
const MAX_BATCH = 2 ** 30;

function runBatch(fn, n) {
  for (let i = 0; i < n; i++) sink = fn();
}

function calibrate(fn) {
  let n = 1;
  while (n < MAX_BATCH) {
    const t0 = now();
    runBatch(fn, n);
    if (now() - t0 >= 1_000_000n) return n;
    n *= 2;
  }
  return n;
}

/**
 * @param {() => unknown} fn one operation (a decode or an encode)
 * @param {{ warmupMs: number, roundMs: number, rounds: number }} cfg
 * @returns {{ nsPerOp: number, bestNsPerOp: number, roundsNsPerOp: number[], ops: number }}
 */
export function measure(fn, cfg) {
  const batch = calibrate(fn);
  const warmUntil = now() + BigInt(cfg.warmupMs) * 1_000_000n;
  do runBatch(fn, batch); while (now() < warmUntil);

  const roundsNsPerOp = [];
  let totalOps = 0;
  const minRoundNs = BigInt(cfg.roundMs) * 1_000_000n;
  for (let r = 0; r < cfg.rounds; r++) {
    let ops = 0;
    const t0 = now();
    let elapsed = 0n;
    do {
      runBatch(fn, batch);
      ops += batch;
      elapsed = now() - t0;
    } while (elapsed < minRoundNs);
    roundsNsPerOp.push(Number(elapsed) / ops);
    totalOps += ops;
  }
  sink = undefined;
  // The best round is kept too: on a loaded machine it is the least disturbed one.
  return { nsPerOp: median(roundsNsPerOp), bestNsPerOp: Math.min(...roundsNsPerOp), roundsNsPerOp, ops: totalOps };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}
