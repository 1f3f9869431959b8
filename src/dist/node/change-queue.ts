/**
 * A bounded queue of events for one consumer: `next()` waits (timeout, AbortSignal), async
 * iteration reads until `end()`. Past `limit` unread events the queue ends with an error instead
 * of growing (a monitor nobody reads must not hold the node's memory). Used by pg monitors and
 * PubSub subscriptions.
 */
import { BeamnodeError, TimeoutError } from '../../errors.js';

/** The consumer fell `limit` events behind; the queue has ended. */
export class QueueOverflowError extends BeamnodeError {
  constructor(what: string, limit: number) {
    super('BEAM_ERR_QUEUE_OVERFLOW', `${what}: more than ${limit} unread events; ended`);
  }
}

/** Thrown by `next()` once the queue has ended normally. */
export class QueueEndedError extends BeamnodeError {
  constructor(what: string) {
    super('BEAM_ERR_QUEUE_ENDED', `${what} has ended`);
  }
}

export class ChangeQueue<T> {
  private items: T[] = [];
  private waiter: { resolve(v: T): void; reject(e: unknown): void } | undefined;
  private endedWith: Error | undefined;
  private readonly endHooks: (() => void)[] = [];
  private readonly onAbort = () => this.end(this.signal?.reason as Error);

  constructor(
    private readonly limit: number,
    private readonly what: string,
    private readonly signal?: AbortSignal,
  ) {
    if (signal?.aborted) this.end(signal.reason as Error);
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  get size(): number {
    return this.items.length;
  }

  push(v: T): void {
    if (this.endedWith) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(v);
      return;
    }
    if (this.items.length >= this.limit) return this.end(new QueueOverflowError(this.what, this.limit));
    this.items.push(v);
  }

  /** The next event; rejects with TimeoutError, the abort reason, or how the queue ended. */
  next(o: { timeout?: number; signal?: AbortSignal } = {}): Promise<T> {
    if (this.items.length) return Promise.resolve(this.items.shift() as T);
    if (this.endedWith) return Promise.reject(this.endedWith);
    if (this.waiter) return Promise.reject(new BeamnodeError('BEAM_ERR_QUEUE_BUSY', `${this.what}: next() is already waiting`));
    o.signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', abort);
        this.waiter = undefined;
      };
      const abort = () => {
        done();
        reject(o.signal?.reason);
      };
      if (o.timeout !== undefined) timer = setTimeout(() => (done(), reject(new TimeoutError(`${this.what} next`, o.timeout!))), o.timeout);
      o.signal?.addEventListener('abort', abort, { once: true });
      this.waiter = {
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
      };
    });
  }

  /** Every event until the queue ends (normally: the loop ends; overflow or abort: it throws). */
  async *iterate(): AsyncGenerator<T> {
    try {
      for (;;) {
        let v: T;
        try {
          v = await this.next();
        } catch (e) {
          if (e instanceof QueueEndedError) return;
          throw e;
        }
        yield v;
      }
    } finally {
      this.end(); // `break` out of a for await stops the monitor
    }
  }

  onEnd(fn: () => void): void {
    if (this.endedWith) fn();
    else this.endHooks.push(fn);
  }

  /** Ends the queue: queued events can still be read, then `next()` rejects with `err` (default: QueueEndedError). */
  end(err?: Error): void {
    if (this.endedWith) return;
    this.endedWith = err ?? new QueueEndedError(this.what);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (err) this.items = [];
    this.waiter?.reject(this.endedWith);
    for (const f of this.endHooks.splice(0)) f();
  }
}
