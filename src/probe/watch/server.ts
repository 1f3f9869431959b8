/**
 * The watch's HTTP server: `/metrics` (Prometheus text), `/api/report` (the latest report, the
 * same JSON as `beamnode probe --json`), `/api/events` (Server-Sent Events), `/healthz` and `/`
 * (the live page). GET and HEAD only; bounded header and request times; no request body is read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import createDebug from 'debug';
import type { EventHub } from './events.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';

const log = createDebug('beamnode:probe:watch:http');

export interface WatchSnapshot {
  run: number;
  /** ISO time the run ended. */
  at: string;
  durationMs: number;
  /** The `--json` document of the run (a report, or `{ verdict: 'broken', error }`). */
  json: string;
}

export interface WatchServerOptions {
  metrics: () => Promise<{ contentType: string; body: string }>;
  latest: () => WatchSnapshot | undefined;
  events: EventHub;
  /** undefined = healthy; else why not (answered 503). */
  unhealthy: () => string | undefined;
}

export interface Listen {
  host?: string;
  port: number;
}

/** `[HOST:]PORT`, `[IPv6]:PORT` or `:PORT`; undefined when it is none of these. */
export function parseListen(s: string): Listen | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : undefined;
  return { host: host || undefined, port };
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

export class WatchServer {
  private readonly server: Server;
  private readonly o: WatchServerOptions;

  constructor(o: WatchServerOptions) {
    this.o = o;
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        log('%s %s: %s', req.method, req.url, (e as Error).message);
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  listen(l: Listen): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(l.port, l.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    switch (path) {
      case '/':
        res.setHeader('content-security-policy', PAGE_CSP);
        return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, req.method === 'HEAD');
      case '/metrics': {
        const m = await this.o.metrics();
        return send(res, 200, m.contentType, m.body, req.method === 'HEAD');
      }
      case '/api/report': {
        const s = this.o.latest();
        if (!s) return send(res, 503, 'application/json', '{"error":{"code":"BEAM_ERR_PROBE_PENDING","message":"no run has finished yet"}}\n');
        res.setHeader('last-modified', new Date(s.at).toUTCString());
        res.setHeader('x-beamnode-run', String(s.run));
        return send(res, 200, 'application/json', s.json, req.method === 'HEAD');
      }
      case '/api/events':
        if (req.method === 'HEAD') return send(res, 200, 'text/event-stream', '', true);
        return this.o.events.attach(req, res);
      case '/healthz': {
        const why = this.o.unhealthy();
        return send(res, why ? 503 : 200, 'text/plain; charset=utf-8', why ? `${why}\n` : 'ok\n', req.method === 'HEAD');
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  /** Stops accepting, ends idle keep-alive sockets, waits for the server to close (bounded). */
  async close(timeoutMs = 5_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const t = setTimeout(() => this.server.closeAllConnections(), timeoutMs);
    try {
      await closed;
    } finally {
      clearTimeout(t);
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, head = false): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}
