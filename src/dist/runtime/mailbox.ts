/**
 * A process mailbox: an ordered queue of messages with Erlang's selective receive. A `receive`
 * takes the oldest message its `match` accepts; when none is queued it waits (bounded by
 * `timeout` and an AbortSignal). A message that arrives goes to the oldest waiter that accepts
 * it, else to the queue. The queue is bounded: past `limit` the owner is told (it exits).
 */
import { TimeoutError } from '../../errors.js';
import type { Term } from '../../etf/types.js';

export interface ReceiveOptions {
  /** Milliseconds to wait for a matching message; 0 = only look at what is queued; default: forever. */
  timeout?: number;
  signal?: AbortSignal;
  /** Which message to take (default: the oldest). Must not throw or have side effects. */
  match?: (msg: Term) => boolean;
}

interface Waiter {
  match: ((msg: Term) => boolean) | undefined;
  resolve(msg: Term): void;
  reject(err: unknown): void;
}

const matches = (w: { match: ((m: Term) => boolean) | undefined }, msg: Term): boolean => {
  if (!w.match) return true;
  try {
    return w.match(msg);
  } catch {
    return false; // a throwing predicate never takes a message
  }
};

export class Mailbox {
  // A deque: live messages are items[head..]; compacted when the dead prefix grows.
  private items: Term[] = [];
  private head = 0;
  /** Priority messages (EEP 76, OTP 28): received before every ordinary one, in their own order. */
  private urgent: Term[] = [];
  private waiters: Waiter[] = [];
  /** Set by close(): makes the close error (once) when someone asks for it. */
  private closedWith: (() => Error) | undefined;

  constructor(
    /** Most messages kept; the next one calls `onOverflow` instead of being queued. */
    private readonly limit: number,
    private readonly onOverflow: () => void,
    private readonly describe: () => string = () => 'mailbox',
    /** Applied to every message as it arrives (a JSON-mode process's toJson). */
    private readonly convert?: (msg: Term) => Term,
  ) {}

  /** Messages waiting. */
  get size(): number {
    return this.items.length - this.head + this.urgent.length;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /**
   * Delivers a message; false when the mailbox is closed or full (the message is dropped). A
   * `priority` message (sent to a priority alias) goes ahead of the ordinary ones queued.
   */
  push(msg: Term, priority = false): boolean {
    if (this.closedWith) return false;
    if (this.convert) msg = this.convert(msg);
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (matches(w, msg)) {
        this.waiters.splice(i, 1);
        w.resolve(msg);
        return true;
      }
    }
    if (this.size >= this.limit) {
      this.onOverflow();
      return false;
    }
    if (priority) this.urgent.push(msg);
    else this.items.push(msg);
    return true;
  }

  /** Takes the oldest queued message `match` accepts, without waiting. */
  take(match?: (msg: Term) => boolean): Term | undefined {
    const probe = { match };
    for (let i = 0; i < this.urgent.length; i++) {
      const msg = this.urgent[i];
      if (matches(probe, msg)) {
        this.urgent.splice(i, 1);
        return msg;
      }
    }
    for (let i = this.head; i < this.items.length; i++) {
      const msg = this.items[i];
      if (matches(probe, msg)) {
        this.removeAt(i);
        return msg;
      }
    }
    return undefined;
  }

  /** Removes every queued message `match` accepts; returns how many. */
  flush(match: (msg: Term) => boolean): number {
    const probe = { match };
    const keep: Term[] = [];
    const before = this.urgent.length;
    this.urgent = this.urgent.filter((m) => !matches(probe, m));
    let n = before - this.urgent.length;
    for (let i = this.head; i < this.items.length; i++) {
      if (matches(probe, this.items[i])) n++;
      else keep.push(this.items[i]);
    }
    this.items = keep;
    this.head = 0;
    return n;
  }

  /** Waits for a matching message (see ReceiveOptions). Rejects with TimeoutError, the abort reason, or the close error. */
  receive(opts: ReceiveOptions = {}): Promise<Term> {
    if (this.closedWith) return Promise.reject(this.closedWith());
    opts.signal?.throwIfAborted();
    const queued = this.take(opts.match);
    if (queued !== undefined) return Promise.resolve(queued);
    const timeout = opts.timeout;
    if (timeout !== undefined && timeout <= 0) return Promise.reject(new TimeoutError('receive', `receive on ${this.describe()}`, 0));
    return new Promise<Term>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const signal = opts.signal;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        match: opts.match,
        resolve: (m) => {
          cleanup();
          resolve(m);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const drop = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const onAbort = () => {
        drop();
        waiter.reject(signal!.reason);
      };
      if (timeout !== undefined && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          drop();
          waiter.reject(new TimeoutError('receive', `receive on ${this.describe()}`, timeout));
        }, timeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Closes the mailbox: waiters reject with `err`, queued messages are dropped. */
  /**
   * Closes the mailbox. `err` may be a function that makes the error: most processes end with
   * nobody waiting, and an Error's stack trace costs more than the rest of a short call.
   */
  close(err: Error | (() => Error)): void {
    if (this.closedWith) return;
    let made: Error | undefined = typeof err === 'function' ? undefined : err;
    const make = err as () => Error;
    this.closedWith = () => (made ??= make());
    this.items = [];
    this.urgent = [];
    this.head = 0;
    if (this.waiters.length === 0) return;
    const e = this.closedWith();
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  private removeAt(i: number): void {
    if (i === this.head) {
      this.items[i] = undefined as unknown as Term; // let the message be collected
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    } else {
      this.items.splice(i, 1);
    }
  }
}
