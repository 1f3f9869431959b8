/**
 * `beamnode probe <service>`: discover the BEAM nodes behind a headless service and try each
 * under every form of its name (see src/probe/). Exit status: 0 verdict ok, 1 broken (or the
 * probe could not run), 2 usage.
 */
import { parseArgs } from 'node:util';
import { openSync, readSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import { parseNameserver } from '../discovery/index.js';
import { parseCookieBytes } from '../dist/net/cookie.js';
import { renderJson, renderTable } from '../probe/render.js';
import { runProbe, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from '../probe/probe.js';
import { parseDuration } from '../probe/watch/duration.js';
import { parseListen, type Listen } from '../probe/watch/server.js';
import { serveWatch, DEFAULT_INTERVAL_MS, DEFAULT_LISTEN } from '../probe/watch/watch.js';

const USAGE = `usage: beamnode probe <service> [options]
       beamnode probe <alive@host | localhost | IP> [options]

  Finds the nodes behind a Kubernetes headless service (DNS SRV _epmd._tcp.<service> and the bare
  name, A/AAAA; optionally the Kubernetes API), lists each host's EPMD, and dials every node under
  its IP, localhost, short name, the name DNS returned and its FQDN, as a BEAM pod would.
  Given a node (app@127.0.0.1, app@myhost) or a host (localhost, an IP address) instead, it asks no
  DNS server: the host is resolved by the system (hosts file first), its EPMD lists the nodes (or
  only that node), and each is dialed under every form of its name; the verdict is whether each
  node accepts the name as given (alive@<host as given>).

  --nameserver IP[:PORT]  DNS server to ask (default: /etc/resolv.conf; its search list is used either way)
  --cookie C              the cluster's cookie (default: ERLANG_COOKIE, else ~/.erlang.cookie)
  --cookie-file F         read the cookie from F (e.g. a mounted Secret)
  --kubernetes            also read the Kubernetes API (EndpointSlices, Service, Pods, CoreDNS ConfigMap)
  --namespace NS          namespace for --kubernetes (default: the context's / service account's)
  --epmd-port N           EPMD port on the hosts (default: ERL_EPMD_PORT, else 4369)
  --json                  print the JSON report instead of the table
  --mesh                  ask every node over rpc to net_adm:ping every other (needs the right cookie)
  --tls-cert F            dial over TLS (-proto_dist inet_tls) with this client certificate (PEM);
  --tls-key F             its private key (PEM) and
  --tls-ca F              the CA of the nodes' certificates (PEM); all three together
  --timeout MS            per step timeout: DNS question, EPMD, connect, handshake step (default ${DEFAULT_TIMEOUT_MS})
  --concurrency N         hosts probed at once (default ${DEFAULT_CONCURRENCY})

  --watch                 keep running: probe every --interval and serve /metrics (Prometheus),
                          /api/report (the --json report), /api/events (SSE), /healthz and a live page /
  --interval D            time between run starts, e.g. 30s, 5m (default 30s; at least 1s)
  --listen [HOST:]PORT    where --watch serves (default 9090 on every address)

exit status: 0 every node is reachable under the name discovery returns, 1 broken, 2 usage
(--watch: 0 after SIGTERM/SIGINT, 1 when the server cannot start, 2 usage)`;

class UsageError extends Error {}

const MAX_COOKIE_FILE = 64 * 1024;

function positiveInt(flag: string, v: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0 || Number(v) > max) throw new UsageError(`${flag} ${v} is not a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`);
  return Number(v);
}

/** A cookie file as erl's check_cookie reads it (printable, then only newlines/spaces); no mode check: Secrets are often 0644. */
function readCookie(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UsageError(`--cookie-file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_COOKIE_FILE) throw new UsageError(`--cookie-file ${path}: ${size} bytes is too large for a cookie`);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    try {
      return parseCookieBytes(buf.subarray(0, got), `--cookie-file ${path}`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  } finally {
    closeSync(fd);
  }
}

/** --tls-cert/--tls-key/--tls-ca: all three or none, each a readable PEM file. */
function tlsOptions(values: Record<string, string | boolean | undefined>): { tls?: { cert: Buffer; key: Buffer; ca: Buffer } } {
  const flags = ['tls-cert', 'tls-key', 'tls-ca'] as const;
  const given = flags.filter((f) => values[f] !== undefined);
  if (given.length === 0) return {};
  if (given.length !== flags.length) throw new UsageError(`give --tls-cert, --tls-key and --tls-ca together (missing ${flags.filter((f) => !given.includes(f)).map((f) => `--${f}`).join(', ')})`);
  const read = (f: (typeof flags)[number]) => {
    const path = values[f] as string;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new UsageError(`--${f} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { tls: { cert: read('tls-cert'), key: read('tls-key'), ca: read('tls-ca') } };
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        nameserver: { type: 'string' },
        cookie: { type: 'string' },
        'cookie-file': { type: 'string' },
        kubernetes: { type: 'boolean' },
        namespace: { type: 'string' },
        'epmd-port': { type: 'string' },
        json: { type: 'boolean' },
        mesh: { type: 'boolean' },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        watch: { type: 'boolean' },
        interval: { type: 'string' },
        listen: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`beamnode probe: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let opts: Parameters<typeof runProbe>[0];
  let watch: { intervalMs: number; listen: Listen } | undefined;
  try {
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'give exactly one service, host or node' : 'missing <service>');
    if (values.cookie !== undefined && values['cookie-file'] !== undefined) throw new UsageError('give --cookie or --cookie-file, not both');
    if (values.namespace !== undefined && !values.kubernetes) throw new UsageError('--namespace goes with --kubernetes');
    const ns = values.nameserver as string | undefined;
    if (ns !== undefined && !parseNameserver(ns)) throw new UsageError(`--nameserver ${ns} is not IP, IP:PORT or [IPv6]:PORT`);
    const cookie = values['cookie-file'] !== undefined ? readCookie(values['cookie-file'] as string) : (values.cookie as string | undefined);
    if (cookie !== undefined && cookie.length === 0) throw new UsageError('--cookie is empty');
    opts = {
      service: positionals[0],
      nameserver: ns,
      cookie,
      kubernetes: values.kubernetes ? { namespace: values.namespace as string | undefined } : undefined,
      epmdPort: positiveInt('--epmd-port', values['epmd-port'] as string | undefined, 65535),
      timeout: positiveInt('--timeout', values.timeout as string | undefined, 600_000),
      concurrency: positiveInt('--concurrency', values.concurrency as string | undefined, 1024),
      mesh: values.mesh === true,
      ...tlsOptions(values),
    };
    watch = watchOptions(values);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`beamnode probe: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (watch) return runWatch(opts, watch, ac.signal, onSignal);
  try {
    const report = await runProbe({ ...opts, signal: ac.signal });
    process.stdout.write(values.json ? renderJson(report) : renderTable(report));
    return report.verdict === 'ok' ? 0 : 1;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'BEAM_ERR_PROBE_USAGE') {
      console.error(`beamnode probe: ${err.message}`);
      return 2;
    }
    if (values.json) console.log(JSON.stringify({ verdict: 'broken', error: { code: err.code ?? 'BEAM_ERR', message: err.message } }));
    else console.error(`beamnode probe: ${ac.signal.aborted ? 'interrupted' : err.message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function watchOptions(values: Record<string, string | boolean | undefined>): { intervalMs: number; listen: Listen } | undefined {
  if (!values.watch) {
    for (const f of ['interval', 'listen'] as const) if (values[f] !== undefined) throw new UsageError(`--${f} goes with --watch`);
    return undefined;
  }
  if (values.json) throw new UsageError('--json does not go with --watch (the JSON report is served at /api/report)');
  const iv = values.interval as string | undefined;
  const intervalMs = iv === undefined ? DEFAULT_INTERVAL_MS : parseDuration(iv);
  if (intervalMs === undefined || intervalMs < 1000 || intervalMs > 86_400_000) throw new UsageError(`--interval ${iv} is not a duration from 1s to 24h (e.g. 30s, 5m)`);
  const l = values.listen as string | undefined;
  const listen = l === undefined ? DEFAULT_LISTEN : parseListen(l);
  if (!listen) throw new UsageError(`--listen ${l} is not [HOST:]PORT`);
  return { intervalMs, listen };
}

/** --watch: serve until SIGTERM/SIGINT, then stop gracefully (exit 0). */
async function runWatch(opts: Parameters<typeof runProbe>[0], w: { intervalMs: number; listen: Listen }, signal: AbortSignal, onSignal: () => void): Promise<number> {
  // The first SIGTERM/SIGINT stops the watch gracefully; a second one during the shutdown ends
  // the process at once (the handlers are `once`).
  try {
    await serveWatch({
      probe: opts,
      intervalMs: w.intervalMs,
      listen: w.listen,
      signal,
      onListening: (a) => {
        const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        console.error(`beamnode probe: watching ${opts.service} every ${w.intervalMs / 1000} s; serving http://${host}:${a.port}/ (/metrics, /api/report, /api/events, /healthz)`);
      },
    });
    console.error('beamnode probe: stopped');
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    console.error(`beamnode probe: ${err.message}`);
    return err.code === 'BEAM_ERR_PROBE_USAGE' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
