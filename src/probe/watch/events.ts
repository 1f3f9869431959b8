/**
 * Server-Sent Events for the live page (`GET /api/events`): one `report` event per run to every
 * client, the latest one as soon as a client connects, and a comment line every heartbeat so
 * proxies and the browser keep the stream open. Clients are bounded (a full hub answers 503),
 * and a client that does not read (its socket buffer past a bound) is dropped rather than
 * buffered without end. Format: https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';

const log = createDebug('beamnode:probe:watch:events');

export interface EventHubOptions {
  /** Clients at once (default 32). */
  maxClients?: number;
  /** Comment line interval, ms (default 15000). */
  heartbeatMs?: number;
  /** Bytes queued to one client before it is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
}

export interface SseEvent {
  event: string;
  /** One JSON document (no newline inside: JSON.stringify without indentation). */
  data: string;
  id?: string;
}

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly maxClients: number;
  private readonly maxBuffered: number;
  private readonly heartbeat: NodeJS.Timeout;
  private last: SseEvent | undefined;
  private closed = false;

  constructor(o: EventHubOptions = {}) {
    this.maxClients = o.maxClients ?? 32;
    this.maxBuffered = o.maxBufferedBytes ?? 1024 * 1024;
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over a request: a 200 event stream, or 503 when the hub is full or closed. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed || this.clients.size >= this.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '30' });
      res.end(this.closed ? 'shutting down\n' : `too many event clients (${this.maxClients})\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx ingress: do not buffer the stream
    });
    res.write('retry: 5000\n\n');
    if (this.last) res.write(format(this.last));
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.once('close', drop);
    res.once('close', drop);
    log('client connected (%d)', this.clients.size);
  }

  /** Sends an event to every client and keeps it for those that connect later. */
  publish(e: SseEvent): void {
    this.last = e;
    this.write(format(e));
  }

  private write(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.maxBuffered) {
        log('dropping a client that does not read (%d bytes queued)', res.writableLength);
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  /** Ends every stream (the browser would reconnect to a live server; this one is going away). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function format(e: SseEvent): string {
  if (/[\r\n]/.test(e.event) || (e.id && /[\r\n]/.test(e.id))) throw new Error('SSE event names and ids are one line');
  const data = e.data.split(/\r?\n/).map((l) => `data: ${l}\n`).join('');
  return `event: ${e.event}\n${e.id ? `id: ${e.id}\n` : ''}${data}\n`;
}
