/**
 * Watch mode without a cluster: the metrics from real report shapes (series per node and form,
 * stale series gone when a node leaves, mesh, held connections), the schedule (never two runs at
 * once, the run timeout), the event hub's bounds, and every HTTP route on loopback.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventHub, RunLoop, WatchMetrics, parseDuration, parseListen, startWatch, type RunningWatch } from '../../src/probe/watch/index.js';
import { renderJson } from '../../src/probe/render.js';
import type { ProbeOptions } from '../../src/probe/probe.js';
import type { ProbeReport } from '../../src/probe/types.js';
import { brokenReport, okReport, parseMetrics, readEvents, samples } from './watch-support.js';

const FORMS = ['ip', 'localhost', 'short', 'dns', 'fqdn'];

describe('WatchMetrics', () => {
  test('a broken run: verdict 0, one name_accepted series per node and form, node counts, run counted', async () => {
    const m = new WatchMetrics({ defaultMetrics: false });
    const r = brokenReport();
    m.recordReport(r, 1.5);
    const s = parseMetrics((await m.text()).body);
    assert.equal(samples(s, 'beamnode_probe_verdict')[0].value, 0);
    const acc = samples(s, 'beamnode_probe_name_accepted');
    assert.equal(acc.length, r.nodes.length * FORMS.length);
    for (const n of r.nodes) for (const form of FORMS) assert.equal(samples(acc, 'beamnode_probe_name_accepted', { node: n.name, form }).length, 1, `${n.name} ${form}`);
    assert.ok(acc.every((x) => x.value === 0));
    const nodes = Object.fromEntries(samples(s, 'beamnode_cluster_nodes').map((x) => [x.labels.state, x.value]));
    assert.deepEqual(nodes, { discovered: 3, reachable: 3, accepted: 0 });
    assert.deepEqual(samples(s, 'beamnode_probe_runs_total').map((x) => [x.labels.verdict, x.value]), [['ok', 0], ['broken', 1], ['error', 0]]);
    assert.equal(samples(s, 'beamnode_probe_duration_seconds_count')[0].value, 1);
    assert.equal(samples(s, 'beamnode_probe_duration_seconds_sum')[0].value, 1.5);
    assert.equal(samples(s, 'beamnode_probe_dns_mode', { mode: 'default' })[0].value, 1);
    assert.equal(samples(s, 'beamnode_mesh_pair_up').length, 0);
  });

  test('an ok run with a mesh: dns and fqdn (one attempt) both accepted, every pair up; a node that leaves loses its series', async () => {
    const m = new WatchMetrics({ defaultMetrics: false });
    m.recordReport(brokenReport(), 1);
    m.recordReport(okReport(3), 2);
    let s = parseMetrics((await m.text()).body);
    assert.equal(samples(s, 'beamnode_probe_verdict')[0].value, 1);
    const ok = okReport(3);
    for (const n of ok.nodes) {
      assert.equal(samples(s, 'beamnode_probe_name_accepted', { node: n.name, form: 'dns' })[0].value, 1);
      assert.equal(samples(s, 'beamnode_probe_name_accepted', { node: n.name, form: 'fqdn' })[0].value, 1);
      assert.equal(samples(s, 'beamnode_probe_name_accepted', { node: n.name, form: 'ip' })[0].value, 0);
    }
    assert.equal(samples(s, 'beamnode_mesh_pair_up').length, 6);
    assert.ok(samples(s, 'beamnode_mesh_pair_up').every((x) => x.value === 1));
    assert.deepEqual(samples(s, 'beamnode_probe_runs_total').map((x) => x.value), [1, 1, 0]);

    m.recordReport(okReport(2), 1);
    s = parseMetrics((await m.text()).body);
    const gone = ok.nodes[2].name;
    assert.equal(s.filter((x) => Object.values(x.labels).includes(gone)).length, 0, 'no series names the node that left');
    assert.equal(samples(s, 'beamnode_probe_name_accepted').length, 2 * FORMS.length);
    assert.equal(samples(s, 'beamnode_mesh_pair_up').length, 2);
    assert.equal(samples(s, 'beamnode_cluster_nodes', { state: 'accepted' })[0].value, 2);
  });

  test('many runs over changing nodes keep the series bounded by the cluster, not by the runs', async () => {
    const m = new WatchMetrics({ defaultMetrics: false });
    for (let i = 0; i < 500; i++) {
      const r = okReport(3);
      for (const n of r.nodes) n.name = `${n.name}-${i}`; // a new pod name every rollout
      m.recordReport(r, 0.1);
    }
    const s = parseMetrics((await m.text()).body);
    assert.equal(samples(s, 'beamnode_probe_name_accepted').length, 3 * FORMS.length);
    assert.equal(samples(s, 'beamnode_mesh_pair_up').length, 6);
  });

  test('a failed run: verdict 0, counted as error, the last per-node series kept', async () => {
    const m = new WatchMetrics({ defaultMetrics: false });
    m.recordReport(okReport(2), 1);
    m.recordError(30);
    const s = parseMetrics((await m.text()).body);
    assert.equal(samples(s, 'beamnode_probe_verdict')[0].value, 0);
    assert.equal(samples(s, 'beamnode_probe_runs_total', { verdict: 'error' })[0].value, 1);
    assert.equal(samples(s, 'beamnode_probe_name_accepted').length, 2 * FORMS.length);
  });

  test('held connections as beamnode_dist_node_state (read at scrape time); default metrics on request', async () => {
    const states = new Map<string, 'pending' | 'up'>([['a@x.y', 'up'], ['b@x.y', 'pending']]);
    const m = new WatchMetrics({ distStates: () => states });
    let s = parseMetrics((await m.text()).body);
    assert.deepEqual(samples(s, 'beamnode_dist_node_state').map((x) => [x.labels.peer, x.value]), [['a@x.y', 3], ['b@x.y', 1]]);
    assert.ok(samples(s, 'process_cpu_user_seconds_total').length === 1);
    states.delete('b@x.y');
    s = parseMetrics((await m.text()).body);
    assert.deepEqual(samples(s, 'beamnode_dist_node_state').map((x) => x.labels.peer), ['a@x.y']);
  });

  test('label values with quotes, backslashes and newlines come out escaped', async () => {
    const m = new WatchMetrics({ defaultMetrics: false });
    const r = okReport(1);
    r.nodes[0].name = 'my"app\\x\n@evil';
    m.recordReport(r, 1);
    const s = parseMetrics((await m.text()).body);
    assert.equal(samples(s, 'beamnode_probe_name_accepted', { form: 'dns' })[0].labels.node, 'my"app\\x\n@evil');
  });
});

describe('parsing --interval and --listen', () => {
  test('durations', () => {
    assert.deepEqual(['30s', '5m', '1h', '500ms', '2', '1.5s', '', 's', '-1s', '3d'].map(parseDuration), [30_000, 300_000, 3_600_000, 500, 2000, 1500, undefined, undefined, undefined, undefined]);
  });
  test('[HOST:]PORT', () => {
    assert.deepEqual(parseListen('9090'), { host: undefined, port: 9090 });
    assert.deepEqual(parseListen(':9090'), { host: undefined, port: 9090 });
    assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
    for (const bad of ['', 'x', '70000', '1.2.3.4:', 'a b:1', '::1:80']) assert.equal(parseListen(bad), undefined, bad);
  });
});

describe('RunLoop', () => {
  test('never two runs at once; a run past the run timeout is aborted and reported as an error', async () => {
    let running = 0;
    let most = 0;
    const results: { run: number; error?: string }[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const loop = new RunLoop<number>({
      intervalMs: 1, // far shorter than a run: the next one must still wait for the previous
      runTimeoutMs: 200,
      run: async (signal) => {
        running++;
        most = Math.max(most, running);
        try {
          if (results.length === 2) {
            await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })); // hangs until the timeout
          }
          await new Promise((r) => setImmediate(r));
          return results.length;
        } finally {
          running--;
        }
      },
      onResult: (r) => {
        results.push({ run: r.run, error: r.error && `${(r.error as Error & { code?: string }).code}: ${r.error.message}` });
        if (results.length === 4) done();
      },
    });
    loop.start();
    await finished;
    await loop.stop();
    assert.equal(most, 1);
    assert.deepEqual(results.map((r) => r.run), [1, 2, 3, 4]);
    assert.match(results[2].error ?? '', /BEAM_ERR_PROBE_TIMEOUT: the run took longer than 200 ms/);
    assert.equal(results[3].error, undefined);
  });

  test('stop() aborts the run in progress and ends the pause at once', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let sawAbort = false;
    const loop = new RunLoop<void>({
      intervalMs: 3_600_000,
      runTimeoutMs: 3_600_000,
      run: (signal) => new Promise((_, reject) => {
        started();
        signal.addEventListener('abort', () => { sawAbort = true; reject(signal.reason); }, { once: true });
      }),
      onResult: () => assert.fail('a stopped run reports nothing'),
    });
    loop.start();
    await running;
    await loop.stop();
    assert.equal(sawAbort, true);
  });
});

/** A watch whose runs return the reports the test feeds it, one per feed. */
async function fedWatch(o: { maxClients?: number } = {}): Promise<{ w: RunningWatch; base: string; feed: (r: ProbeReport | Error) => Promise<void>; calls: ProbeOptions[] }> {
  const queue: ((r: ProbeReport | Error) => void)[] = [];
  const calls: ProbeOptions[] = [];
  const w = await startWatch({
    probe: { service: 'myapp-headless', cookie: 'secret-cookie-for-watch', timeoutMs: 100 },
    intervalMs: 1,
    runTimeoutMs: 60_000,
    listen: { host: '127.0.0.1', port: 0 },
    hold: false,
    defaultMetrics: false,
    events: { maxClients: o.maxClients ?? 4, heartbeatMs: 50 },
    run: (po) => {
      calls.push(po);
      return new Promise((resolve, reject) => {
        queue.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
        po.signal?.addEventListener('abort', () => reject(po.signal!.reason), { once: true });
      });
    },
  });
  const feed = async (r: ProbeReport | Error) => {
    for (let i = 0; i < 200 && queue.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(queue.length, 'the watch asked for a run');
    const next = w.nextRun(AbortSignal.timeout(10_000));
    queue.shift()!(r);
    await next;
  };
  return { w, base: `http://127.0.0.1:${w.address.port}`, feed, calls };
}

describe('the HTTP server', () => {
  const open: RunningWatch[] = [];
  after(async () => { await Promise.all(open.map((w) => w.stop())); });

  test('routes: /api/report is the --json report, /metrics, /healthz, /, 404, 405; the cookie reaches the probe, never a response', async () => {
    const { w, base, feed, calls } = await fedWatch();
    open.push(w);
    let res = await fetch(`${base}/api/report`);
    assert.equal(res.status, 503, 'no run finished yet');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BEAM_ERR_PROBE_PENDING');
    const r = brokenReport();
    await feed(r);
    res = await fetch(`${base}/api/report`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-beamnode-run'), '1');
    assert.equal(await res.text(), renderJson(r));
    assert.equal(calls[0].cookie, 'secret-cookie-for-watch');

    res = await fetch(`${base}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const s = parseMetrics(await res.text());
    assert.equal(samples(s, 'beamnode_probe_verdict')[0].value, 0);
    assert.equal(samples(s, 'beamnode_probe_name_accepted').length, 15);

    res = await fetch(`${base}/healthz`);
    assert.deepEqual([res.status, await res.text()], [200, 'ok\n']);

    res = await fetch(`${base}/`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.ok(!html.includes('myapp-7d9f8b6c5'), 'the page carries no report text: the script draws it from the events');
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external asset');

    res = await fetch(`${base}/nope`);
    assert.equal(res.status, 404);
    await res.text();
    res = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    assert.deepEqual([res.status, res.headers.get('allow')], [405, 'GET, HEAD']);
    await res.text();

    await feed(new Error('DNS exploded'));
    res = await fetch(`${base}/api/report`);
    assert.deepEqual(JSON.parse(await res.text()), { verdict: 'broken', error: { code: 'BEAM_ERR', message: 'DNS exploded' } });
    for (const path of ['/', '/metrics', '/api/report', '/api/events', '/healthz']) {
      if (path === '/api/events') continue;
      const body = await (await fetch(`${base}${path}`)).text();
      assert.ok(!body.includes('secret-cookie-for-watch'), path);
    }
  });

  test('/api/events: the latest report at once, then one per run, heartbeat comments; clients bounded (503)', async () => {
    const { w, base, feed } = await fedWatch({ maxClients: 2 });
    open.push(w);
    await feed(brokenReport());
    const signal = AbortSignal.timeout(15_000);
    let gotFirst!: () => void;
    const firstSeen = new Promise<void>((r) => (gotFirst = r));
    const first = readEvents(`${base}/api/events`, 'report', 2, signal, () => gotFirst());
    await firstSeen; // attached, with the latest report
    const second = fetch(`${base}/api/events`, { signal });
    const r2 = await second;
    assert.equal(r2.status, 200);
    const third = await fetch(`${base}/api/events`);
    assert.equal(third.status, 503);
    await third.text();
    await feed(okReport());
    const { events } = await first;
    await r2.body!.cancel();
    const ev = events as { run: number; at: string; durationMs: number; report: { verdict: string; nodes: unknown[] } }[];
    assert.deepEqual(ev.map((e) => [e.run, e.report.verdict, e.report.nodes.length]), [[1, 'broken', 3], [2, 'ok', 3]]);
    assert.ok(!Number.isNaN(Date.parse(ev[1].at)));
  });

  test('stop(): the event streams end, the port is closed, runs stop', async () => {
    const { w, base, feed, calls } = await fedWatch();
    await feed(okReport());
    let attached!: () => void;
    const seen = new Promise<void>((r) => (attached = r));
    const stream = readEvents(`${base}/api/events`, 'report', 5, AbortSignal.timeout(10_000), () => attached());
    await seen;
    await w.stop();
    const { events } = await stream; // ended by the server, not by the count
    assert.equal(events.length, 1);
    await assert.rejects(fetch(`${base}/healthz`));
    const n = calls.length;
    await w.stop(); // idempotent
    assert.equal(calls.length, n);
  });
});

describe('EventHub', () => {
  test('sends heartbeat comments while no event comes', async () => {
    const { w, base } = await fedWatch();
    try {
      const res = await fetch(`${base}/api/events`, { signal: AbortSignal.timeout(10_000) });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(': heartbeat\n\n')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      await reader.cancel();
      assert.match(text, /^retry: 5000\n\n(: heartbeat\n\n)+$/, 'no run finished: only the retry hint and heartbeats');
    } finally {
      await w.stop();
    }
  });

  test('drops a client that does not read past the buffer bound', async () => {
    const { createServer } = await import('node:http');
    const hub = new EventHub({ maxClients: 2, heartbeatMs: 3_600_000, maxBufferedBytes: 64 * 1024 });
    const srv = createServer((req, res) => hub.attach(req, res));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as { port: number };
    const { connect } = await import('node:net');
    const sock = connect(port, '127.0.0.1');
    sock.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    sock.pause(); // never reads
    for (let i = 0; i < 200 && hub.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(hub.size, 1);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 400 && hub.size === 1; i++) {
      hub.publish({ event: 'report', data: JSON.stringify(big) });
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(hub.size, 0, 'the client that does not read was dropped');
    sock.destroy();
    hub.close();
    await new Promise((r) => srv.close(r));
  });
});
