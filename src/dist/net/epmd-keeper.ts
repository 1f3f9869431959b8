/**
 * Keeps a node registered with EPMD. epmd forgets a name when the registration socket closes, so
 * when epmd restarts (or is killed and started again) peers can no longer find the node. OTP's
 * erl_epmd does not register again; we do: on a close that was not ours (`byUs: false`) the
 * keeper retries ALIVE2 with a capped backoff until it succeeds or `close()` is called.
 *
 * The node keeps its first creation: pids and references already handed out carry it, and peers
 * do not compare it with epmd's (epmd's new creation is only reported in the 'registered' event).
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import type { EpmdRegistration, RegistrationClosed } from '../../epmd/client.js';

const log = createDebug('beamnode:dist:epmd-keeper');

export interface RegistrationKeeperOptions {
  /** First retry delay in ms (default 100); doubles per failure. */
  firstDelay?: number;
  /** Largest retry delay in ms (default 5000). */
  maxDelay?: number;
}

export interface RegistrationKeeperEvents {
  /** EPMD dropped the registration (restart, kill, a local STOP); retries follow. */
  lost: [info: RegistrationClosed];
  /** Registered again after a loss (`attempts` ALIVE2 tries). */
  registered: [registration: EpmdRegistration, attempts: number];
  /** One retry failed; the next comes after `delay` ms. */
  retryFailed: [error: Error, delay: number];
}

export class RegistrationKeeper extends EventEmitter<RegistrationKeeperEvents> {
  private reg: EpmdRegistration;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly firstDelay: number;
  private readonly maxDelay: number;

  /**
   * `first` is the registration made at start; `register(signal)` makes a new one (same alive
   * name and port) and must honour the signal.
   */
  constructor(
    first: EpmdRegistration,
    private readonly register: (signal: AbortSignal) => Promise<EpmdRegistration>,
    o: RegistrationKeeperOptions = {},
  ) {
    super();
    this.firstDelay = o.firstDelay ?? 100;
    this.maxDelay = o.maxDelay ?? 5000;
    this.reg = first;
    this.watch(first);
  }

  /** The registration in force (closed while EPMD is away and retries are running). */
  get current(): EpmdRegistration {
    return this.reg;
  }

  /** True while EPMD holds our name. */
  get registered(): boolean {
    return !this.reg.closed;
  }

  private watch(reg: EpmdRegistration): void {
    reg.once('close', (info) => {
      if (info.byUs || this.abort.signal.aborted) return;
      log('%s: EPMD %s:%d dropped our registration%s; registering again', reg.alive, reg.host, reg.epmdPort, info.error ? ` (${info.error.message})` : '');
      this.emit('lost', info);
      this.retry(1, this.firstDelay);
    });
  }

  private retry(attempt: number, delay: number): void {
    if (this.abort.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.register(this.abort.signal).then(
        (reg) => {
          if (this.abort.signal.aborted) {
            void reg.close();
            return;
          }
          this.reg = reg;
          this.watch(reg);
          log('%s: registered again with EPMD (creation %d, attempt %d)', reg.alive, reg.creation, attempt);
          this.emit('registered', reg, attempt);
        },
        (e: Error) => {
          if (this.abort.signal.aborted) return;
          const next = Math.min(this.maxDelay, delay * 2);
          log('%s: registering again failed (%s); next try in %d ms', this.reg.alive, e.message, next);
          this.emit('retryFailed', e, next);
          this.retry(attempt + 1, next);
        },
      );
    }, delay);
    this.timer.unref();
  }

  /** Stops retrying and unregisters. */
  async close(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.reg.close();
  }
}
