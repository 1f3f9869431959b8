/**
 * Outbound signals to other nodes: the connection is made on first use, as Erlang's auto-connect
 * does, and signals sent while it is being made wait in order and go out once it is up (or all
 * fail with the connect error). A signal on an open connection goes straight to its socket.
 */
import createDebug from 'debug';
import type { Atom } from '../../etf/types.js';
import { DistError } from '../errors.js';
import type { Connection } from '../net/connection.js';
import type { DistNetwork } from '../net/network.js';
import type { OutSignal } from '../runtime/signals.js';
import { toControl } from './wire-adapter.js';

const log = createDebug('beamnode:dist:node');

interface Waiting {
  items: { sig: OutSignal; resolve(): void; reject(e: unknown): void }[];
}

export class Dialer {
  private readonly waiting = new Map<Atom, Waiting>();

  /** `connect` makes (or finds) the connection to a node; the Node's, with its timeouts. */
  constructor(
    private readonly network: DistNetwork,
    private readonly connect: (node: Atom) => Promise<Connection>,
  ) {}

  signal(node: Atom, sig: OutSignal): Promise<void> {
    const open = this.network.get(node.name);
    if (open && !open.closed && !this.waiting.has(node)) return sendOn(open, sig);
    let w = this.waiting.get(node);
    if (!w) {
      const entry: Waiting = { items: [] };
      this.waiting.set(node, entry);
      w = entry;
      this.connect(node).then(
        (conn) => this.flush(node, conn),
        (e: unknown) => {
          if (this.waiting.get(node) !== entry) return;
          this.waiting.delete(node);
          log('cannot reach %s: %s', node.name, (e as Error).message);
          for (const it of entry.items) it.reject(e);
        },
      );
    }
    const entry = w;
    return new Promise<void>((resolve, reject) => entry.items.push({ sig, resolve, reject }));
  }

  /** Sends what waited for the connection to `node`, in order (on nodeup, or when the dial resolves). */
  flush(node: Atom, conn: Connection): void {
    const w = this.waiting.get(node);
    if (!w) return;
    this.waiting.delete(node);
    for (const it of w.items) sendOn(conn, it.sig).then(it.resolve, it.reject);
  }

  /** Fails every waiting signal (the node stops). */
  rejectAll(error: Error): void {
    for (const [, w] of this.waiting) for (const it of w.items) it.reject(error);
    this.waiting.clear();
  }
}

/** Puts one signal on a connection. Resolves at once, or after 'drain' when the socket buffer is full. */
function sendOn(conn: Connection, sig: OutSignal): Promise<void> {
  const framed = toControl(sig, conn.flags);
  if (!framed) {
    log('%s: %s not supported by this peer: dropped', conn.peer, sig.kind);
    return Promise.resolve();
  }
  let written: boolean;
  try {
    written = conn.send(framed.control, framed.message);
  } catch (e) {
    return Promise.reject(e);
  }
  if (conn.closed) return Promise.reject(new DistError('BEAM_ERR_DIST_CLOSED', `connection to ${conn.peer} is closed`, { peer: conn.peer }));
  return written ? Promise.resolve() : drained(conn);
}

// One pending 'drain' wait per connection, shared by every sender that hit the full buffer. The
// frame is already queued in the socket; awaiting senders just slow down. A peer that never reads
// is dropped by the tick timeout, which settles this through 'close'.
const drainWaits = new WeakMap<Connection, Promise<void>>();

function drained(conn: Connection): Promise<void> {
  let p = drainWaits.get(conn);
  if (!p) {
    p = new Promise<void>((resolve) => {
      const done = () => {
        conn.off('drain', done);
        conn.off('close', done);
        drainWaits.delete(conn);
        resolve();
      };
      conn.on('drain', done);
      conn.on('close', done);
    });
    drainWaits.set(conn, p);
  }
  return p;
}
