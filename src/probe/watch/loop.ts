/**
 * The watch's schedule: one probe run at once, never two; the next starts an interval after the
 * previous one started (at once when a run took longer than the interval). Each run gets a
 * signal that aborts at the run timeout or at stop(); stop() waits for the run in progress.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import createDebug from 'debug';
import { ProbeError } from '../errors.js';

const log = createDebug('beamnode:probe:watch');

export interface RunResult<T> {
  /** 1 for the first run. */
  run: number;
  /** The run's value, or what it threw. */
  value?: T;
  error?: Error;
  startedAt: number;
  endedAt: number;
}

export interface LoopOptions<T> {
  intervalMs: number;
  /** A run still going after this long is aborted (its signal fires). */
  runTimeoutMs: number;
  /** One run; must honour the signal. */
  run: (signal: AbortSignal) => Promise<T>;
  /** After each run, before the pause (bounded by the same run signal). */
  onResult: (r: RunResult<T>, signal: AbortSignal) => Promise<void> | void;
}

export class RunLoop<T> {
  private readonly o: LoopOptions<T>;
  private readonly stopping = new AbortController();
  private done: Promise<void> | undefined;
  private runs = 0;

  constructor(o: LoopOptions<T>) {
    for (const k of ['intervalMs', 'runTimeoutMs'] as const) {
      if (!Number.isFinite(o[k]) || o[k] <= 0) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `${k} must be a positive number of ms, not ${o[k]}`);
    }
    this.o = o;
  }

  /** Starts the first run now. */
  start(): void {
    if (this.done) return;
    this.done = this.loop().catch((e: unknown) => log('loop ended by %s', (e as Error).message));
  }

  private async loop(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const run = ++this.runs;
      const startedAt = Date.now();
      // A timer of our own, not AbortSignal.timeout(): that one is unref'd, and a run waiting on
      // nothing else would let the process exit instead of timing out.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new ProbeError('BEAM_ERR_PROBE_TIMEOUT', `the run took longer than ${this.o.runTimeoutMs} ms and was aborted`)), this.o.runTimeoutMs);
      const signal = AbortSignal.any([stop, timeout.signal]);
      let value: T | undefined;
      let error: Error | undefined;
      try {
        value = await this.o.run(signal);
      } catch (e) {
        error = timeout.signal.aborted && !stop.aborted ? (timeout.signal.reason as Error) : e instanceof Error ? e : new Error(String(e));
      } finally {
        clearTimeout(timer);
      }
      if (stop.aborted) break;
      const endedAt = Date.now();
      try {
        await this.o.onResult({ run, value, error, startedAt, endedAt }, signal);
      } catch (e) {
        log('run %d: onResult: %s', run, (e as Error).message);
      }
      const wait = this.o.intervalMs - (Date.now() - startedAt);
      if (wait > 0) await sleep(wait, undefined, { signal: stop }).catch(() => {});
    }
  }

  /** Aborts the run in progress, cancels the pause and waits until the loop has ended. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the watch is stopping'));
    await this.done;
  }
}
