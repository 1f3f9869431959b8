/**
 * Writing frames and fragments to a socket: FrameSender coalesces the whole frames queued by one
 * run of JavaScript (a callback and the promise jobs it starts) into one socket write, and paces the fragments of large messages (see fragments.ts
 * for how a frame is cut) so that ticks and other frames still pass between them and a slow
 * socket holds a bounded number of bytes.
 */

/** What FrameSender needs of a socket. */
export interface FrameSocket {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  readonly writableLength: number;
  readonly writableHighWaterMark: number;
}

export interface FrameSenderOptions {
  /** Fragment bytes written per event-loop turn before yielding (default 1 MiB). */
  turnBudget?: number;
  /**
   * Bytes the socket may hold before fragments wait for its 'drain' (default 16 MiB). The socket's
   * own high-water mark (16 KiB) would make every 64 KiB fragment wait for a drain of its own.
   */
  socketLimit?: number;
  /** Buffered bytes (ours and the socket's) from which accepting() says no (default 1 MiB). */
  highWater?: number;
  /** Called once the buffered bytes are below highWater again after accepting() said no. */
  onDrain?: () => void;
  /** Whole-frame bytes held for the batch before they are written at once (default 64 KiB). */
  batchBytes?: number;
}

type Fragments = Iterator<[Buffer, Buffer]>;

/**
 * Writes a connection's frames: whole frames queued by one run of code go out together (one
 * write per batch, see schedule()), and a fragmented message goes out a few fragments per
 * event-loop turn (setImmediate), so that ticks and the event loop keep running during a 100 MB
 * send.
 *
 * Order: frames are written in the order given, except `urgent` ones (ticks: no header, no
 * order to keep) which may pass a fragmented message being written. Other frames wait behind it:
 * that keeps Erlang's per-pair message order and the atom cache (a later header may reuse a slot
 * an earlier waiting frame refers to) simple and right.
 */
export class FrameSender {
  private ready: Buffer[] = [];
  private readyBytes = 0;
  private job: Fragments | undefined;
  private jobBytes = 0;
  private waiting: (Buffer | { parts: Fragments; bytes: number })[] = [];
  private waitingBytes = 0;
  private scheduled = false;
  /** A microtask flush happened this event-loop turn: further frames wait for nextTick. */
  private inBurst = false;
  private blocked = false;
  private closed = false;
  /** accepting() said no: call onDrain when there is room again. */
  private owesDrain = false;
  private readonly turnBudget: number;
  private readonly socketLimit: number;
  private readonly highWater: number;
  private readonly batchBytes: number;

  constructor(
    private readonly socket: FrameSocket,
    private readonly o: FrameSenderOptions = {},
  ) {
    this.turnBudget = o.turnBudget ?? 1024 * 1024;
    // Both at least the socket's own mark: past it, a write has said false, so 'drain' will come.
    const floor = socket.writableHighWaterMark;
    this.socketLimit = Math.max(o.socketLimit ?? 16 * 1024 * 1024, floor);
    this.highWater = Math.max(o.highWater ?? 1024 * 1024, floor);
    this.batchBytes = o.batchBytes ?? 64 * 1024;
  }

  /**
   * True while there is room for more (buffered bytes below highWater and the socket not full).
   * After a false, onDrain is called once there is room again: the contract of a stream's write().
   */
  accepting(): boolean {
    if (!this.blocked && this.bufferedBytes < this.highWater) return true;
    this.owesDrain = true;
    return false;
  }

  /** Bytes given to us and not yet to the socket, plus what the socket holds. */
  get bufferedBytes(): number {
    return this.readyBytes + this.jobBytes + this.waitingBytes + this.socket.writableLength;
  }

  /** True while the socket refuses more (wait for onDrain). */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** True while a fragmented message is being written. */
  get sendingFragments(): boolean {
    return this.job !== undefined;
  }

  /** Queues a whole frame (length prefix included). `urgent`: may pass a fragmented message (ticks). */
  frame(b: Buffer, urgent = false): void {
    if (this.closed) return;
    if (this.job !== undefined && !urgent) {
      this.waiting.push(b);
      this.waitingBytes += b.length;
    } else {
      this.ready.push(b);
      this.readyBytes += b.length;
      // A loop that never yields (`for (…) await send(…)` runs in promise jobs only) still
      // writes every batchBytes: the batch stays small and back-pressure reaches the loop.
      // (The flush scheduled below then finds nothing to write but still checks for drain.)
      if (this.readyBytes >= this.batchBytes && !this.blocked) this.writeReady();
    }
    this.schedule();
  }

  /** Queues a fragmented message (`[head, payload]` pairs, see fragmentFrame) of `bytes` in all. */
  fragments(parts: Iterable<[Buffer, Buffer]>, bytes: number): void {
    if (this.closed) return;
    const it = parts[Symbol.iterator]();
    if (this.job !== undefined) {
      this.waiting.push({ parts: it, bytes });
      this.waitingBytes += bytes;
    } else {
      this.startJob(it, bytes);
    }
    this.schedule();
  }

  /** Drops everything queued (the connection is closing or closed). */
  close(): void {
    this.closed = true;
    this.ready = [];
    this.waiting = [];
    this.job = undefined;
    this.readyBytes = this.jobBytes = this.waitingBytes = 0;
    this.socket.removeListener('drain', this.onDrain);
  }

  /** Writes the whole frames queued now (before closing, so that they still go out). */
  flushNow(): void {
    if (!this.closed) this.writeReady();
  }

  private startJob(it: Fragments, bytes: number): void {
    // The first fragment carries the atom cache header: it goes out in order with whole frames.
    const first = it.next();
    if (first.done) return;
    for (const b of first.value) {
      this.ready.push(b);
      this.readyBytes += b.length;
      bytes -= b.length;
    }
    this.job = it;
    this.jobBytes = Math.max(0, bytes);
  }

  /**
   * When whole frames go out. The first frames of an event-loop turn go out in a microtask: after
   * the code that queued them, before the code awaiting the send goes on (a caller who awaits a
   * send, a link or a request then sees it written, and a reply comes sooner). Frames queued later
   * in the same turn wait for process.nextTick, which Node runs once the current callback and
   * every promise job it started are done: a loop of sends, awaited or not, becomes one write per
   * batch (batchBytes), where a microtask each would write every frame alone. Fragments continue
   * on setImmediate, so that I/O (ticks) runs between them.
   */
  private schedule(): void {
    if (this.scheduled || this.blocked || this.closed) return;
    this.scheduled = true;
    if (this.inBurst) {
      process.nextTick(this.flush);
      return;
    }
    this.inBurst = true;
    setImmediate(this.endBurst);
    queueMicrotask(this.flush);
  }

  private readonly endBurst = (): void => {
    this.inBurst = false;
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.blocked) return;
    this.writeReady();
    let budget = this.turnBudget;
    // One cork per turn: the fragments of this turn leave in one writev.
    this.socket.cork();
    while (this.job !== undefined && !this.blocked && budget > 0) {
      const next = this.job.next();
      if (next.done) {
        this.job = undefined;
        this.jobBytes = 0;
        this.promoteWaiting();
        this.writeReady();
        continue;
      }
      const [head, payload] = next.value;
      this.jobBytes = Math.max(0, this.jobBytes - head.length - payload.length);
      budget -= head.length + payload.length;
      this.socket.write(head);
      this.socket.write(payload);
      // write() said false long ago (16 KiB); wait for 'drain' only when the socket holds a lot.
      if (this.socket.writableLength >= this.socketLimit) this.block();
    }
    this.socket.uncork();
    if (!this.blocked && !this.scheduled) {
      if (this.job !== undefined) {
        this.scheduled = true;
        setImmediate(this.flush);
      } else if (this.ready.length > 0) {
        this.schedule();
      }
    }
    this.maybeDrained();
  };

  private maybeDrained(): void {
    if (!this.owesDrain || this.blocked || this.closed) return;
    if (this.bufferedBytes < this.highWater) {
      this.owesDrain = false;
      this.o.onDrain?.();
    } else if (this.ready.length === 0 && this.job === undefined) {
      // Only the socket holds too much: its 'drain' is due (it holds more than its own mark).
      this.block();
    }
  }

  /** Moves waiting entries to `ready` up to (and starting) the next fragmented message. */
  private promoteWaiting(): void {
    while (this.waiting.length > 0 && this.job === undefined) {
      const e = this.waiting.shift()!;
      if (Buffer.isBuffer(e)) {
        this.waitingBytes -= e.length;
        this.ready.push(e);
        this.readyBytes += e.length;
      } else {
        this.waitingBytes -= e.bytes;
        this.startJob(e.parts, e.bytes);
      }
    }
  }

  private writeReady(): void {
    const n = this.ready.length;
    if (n === 0) return;
    const frames = this.ready;
    const bytes = this.readyBytes;
    this.ready = [];
    this.readyBytes = 0;
    if (n === 1) {
      this.socket.write(frames[0]);
    } else if (bytes <= 256 * 1024) {
      // Many small frames (a burst of sends, a tick): one buffer, one syscall.
      this.socket.write(Buffer.concat(frames, bytes));
    } else {
      this.socket.cork();
      for (const f of frames) this.socket.write(f);
      this.socket.uncork();
    }
    if (this.socket.writableLength >= this.socketLimit) this.block();
  }

  private block(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.socket.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (!this.closed) this.flush();
  };
}
