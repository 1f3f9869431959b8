/**
 * `beamnode probe --watch` in the probe pod of the cluster rig (network namespaces, dnsmasq as
 * CoreDNS, real erl -name myapp in each pod), on the host's OTP: /metrics shows the default-mode
 * failure (verdict 0, one name_accepted series per node and form); the cluster DNS is switched to
 * endpoint_pod_names while the watch runs and the next run turns the verdict to 1, with the mesh
 * up and the held connections visible in the nodes' own nodes(hidden). The live page, in headless
 * Chromium inside the probe pod's network, follows over SSE without a reload (DOM asserted,
 * screenshots in test/artifacts/). SIGTERM stops it all: exit 0, the nodes see the probe leave.
 * Root only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { otpMatrix, sleep, type Otp } from '../support/otp.js';
import { launchChromium, type PageGlobals } from '../probe/watch-browser.js';
import { parseMetrics, samples, type Sample } from '../probe/watch-support.js';
import { createCluster, type Cluster } from './rig.js';
import { rigUnavailableReason, type RunResult } from './netns.js';

const skip = rigUnavailableReason() ?? false;
const otp: Otp | undefined = skip ? undefined : otpMatrix()[0];
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(REPO, 'test/artifacts');
const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij', 'myapp-7d9f8b6c5-klmno'];
const FORMS = ['ip', 'localhost', 'short', 'dns', 'fqdn'];
const PORT = 9090;
/** Bound for waiting on one more run: interval 2 s, a run with --mesh takes a few seconds on a loaded machine. */
const RUN_WAIT_MS = 90_000;

describe(`probe --watch in a pod: metrics and the live page follow a live CoreDNS change (${otp?.label ?? 'no erl'})`, { skip }, () => {
  let c: Cluster;
  let dir: string;
  let watch: Promise<RunResult>;
  let watchPid: number;
  let chrome: { browser: Browser; close(): Promise<void> } | undefined;
  let page: Page;
  const secret = randomBytes(12).toString('hex');
  const url = (path: string) => `http://${c.probe.ip}:${PORT}${path}`;

  before(async () => {
    c = await createCluster({
      name: 'bnwatch', otp, subnet: '10.231.81.0/24', namespace: 'default', service: 'myapp-headless',
      pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })),
      dnsMode: 'default',
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    dir = mkdtempSync(join(tmpdir(), 'beamnode-watch-cluster-'));
    writeFileSync(join(dir, 'cookie'), `${secret}\n`, { mode: 0o600 });
    mkdirSync(ARTIFACTS, { recursive: true });
    const pidFile = join(dir, 'watch.pid');
    // `exec` keeps the pid: the one in the file is the watch's own, which the test stops by SIGTERM.
    watch = c.exec(['sh', '-c', 'echo $$ > "$0"; exec "$@"', pidFile, process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'),
      'probe', 'myapp-headless', '--watch', '--interval', '2s', '--listen', `${c.probe.ip}:${PORT}`, '--cookie-file', join(dir, 'cookie'), '--mesh'], {
      timeoutMs: 600_000, env: { ...process.env, DEBUG: 'beamnode:probe:watch*' },
    });
    for (let i = 0; i < 200 && !watchPid; i++) {
      try { watchPid = Number(readFileSync(pidFile, 'utf8')); } catch { await sleep(50); }
    }
    assert.ok(watchPid > 1, 'the watch started');
  });
  after(async () => {
    await chrome?.close();
    if (watchPid) try { process.kill(watchPid, 'SIGKILL'); } catch { /* already stopped */ }
    await c?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** GET from inside the probe pod (no route reaches the rig from here). */
  async function get(path: string): Promise<{ status: number; body: string }> {
    const script = 'fetch(process.argv[1]).then(async (r) => { process.stdout.write(r.status + "\\n" + await r.text()); }, (e) => { process.stdout.write("0\\n" + e.message); })';
    const r = await c.exec([process.execPath, '-e', script, url(path)], { timeoutMs: 30_000 });
    const nl = r.stdout.indexOf('\n');
    return { status: Number(r.stdout.slice(0, nl)), body: r.stdout.slice(nl + 1) };
  }

  /** Polls /metrics (bounded) until `ok` holds; returns those samples. */
  async function metricsUntil(what: string, ok: (s: Sample[]) => boolean): Promise<Sample[]> {
    const deadline = Date.now() + RUN_WAIT_MS;
    let last = '';
    while (Date.now() < deadline) {
      const r = await get('/metrics');
      if (r.status === 200) {
        const s = parseMetrics(r.body);
        if (ok(s)) return s;
        last = r.body;
      }
      await sleep(500);
    }
    throw new Error(`${what}: not seen in ${RUN_WAIT_MS} ms; last /metrics:\n${last.split('\n').filter((l) => l.startsWith('beamnode_')).join('\n')}`);
  }

  const runs = (s: Sample[]) => samples(s, 'beamnode_probe_runs_total').reduce((n, x) => n + x.value, 0);
  const names = () => c.pods.map((p) => p.expectedNodeName!);

  test('default CoreDNS: verdict 0, one name_accepted series per node and form (all 0), nothing held, the page shows it', async () => {
    const s = await metricsUntil('a first run', (x) => runs(x) >= 1);
    assert.equal(samples(s, 'beamnode_probe_verdict')[0].value, 0);
    assert.equal(samples(s, 'beamnode_probe_runs_total', { verdict: 'error' })[0].value, 0);
    const acc = samples(s, 'beamnode_probe_name_accepted');
    assert.deepEqual(acc.map((x) => `${x.labels.node} ${x.labels.form}`).sort(), names().flatMap((n) => FORMS.map((f) => `${n} ${f}`)).sort());
    assert.ok(acc.every((x) => x.value === 0), 'no name works in default mode');
    assert.deepEqual(Object.fromEntries(samples(s, 'beamnode_cluster_nodes').map((x) => [x.labels.state, x.value])), { discovered: 3, reachable: 3, accepted: 0 });
    assert.equal(samples(s, 'beamnode_probe_dns_mode', { mode: 'default' })[0].value, 1);
    assert.equal(samples(s, 'beamnode_dist_node_state').length, 0);

    const report = await get('/api/report');
    assert.equal(report.status, 200);
    const j = JSON.parse(report.body) as { verdict: string; dnsMode: string; nodes: { name: string }[] };
    assert.deepEqual([j.verdict, j.dnsMode, j.nodes.map((n) => n.name).sort()], ['broken', 'default', names().sort()]);
    assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok\n' });
    for (const p of ['/metrics', '/api/report', '/']) assert.ok(!(await get(p)).body.includes(secret), `the cookie is not in ${p}`);

    chrome = await launchChromium({ wrap: ['ip', 'netns', 'exec', c.probe.netns] });
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url('/'), { timeout: 30_000 });
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('verdict')?.textContent === 'BROKEN', undefined, { timeout: 30_000 });
    assert.deepEqual((await page.$$eval('section.node', (els) => els.map((e) => e.getAttribute('data-node')))).sort(), names().sort());
    for (const n of names()) {
      const cells = await page.$$eval(`section.node[data-node="${n}"] tbody tr`, (trs) => trs.map((tr) => [tr.getAttribute('data-forms'), tr.querySelector('.res')!.textContent]));
      assert.deepEqual(cells, [['ip', 'name mismatch'], ['localhost', 'illegal host'], ['short', 'illegal host'], ['dns', 'name mismatch'], ['fqdn', 'unresolvable']], n);
    }
    assert.match((await page.textContent('#dns-mode')) ?? '', /CoreDNS default/);
    assert.match((await page.textContent('.advice')) ?? '', /endpoint_pod_names/);
    const cells = await page.$$eval('.mesh .cell', (els) => els.map((e) => e.className));
    assert.deepEqual(cells.filter((x) => x !== 'cell self'), Array(6).fill('cell'), 'no pair asked: nobody is reachable under its own name');
    await page.screenshot({ path: join(ARTIFACTS, 'watch-default.png'), fullPage: true });
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).__sameDocument = true));
  });

  test('switch the cluster DNS to endpoint_pod_names live: the next run says 1, the mesh is up, connections held; the page follows over SSE', async () => {
    assert.ok(page, 'the page of the first test is open');
    await c.setDnsMode('endpoint_pod_names');
    const s = await metricsUntil('verdict 1 after the DNS change', (x) => samples(x, 'beamnode_probe_verdict')[0]?.value === 1);
    for (const n of names()) {
      const got = Object.fromEntries(samples(s, 'beamnode_probe_name_accepted', { node: n }).map((x) => [x.labels.form, x.value]));
      assert.deepEqual(got, { ip: 0, localhost: 0, short: 0, dns: 1, fqdn: 1 }, n);
    }
    assert.equal(samples(s, 'beamnode_cluster_nodes', { state: 'accepted' })[0].value, 3);
    const mesh = samples(s, 'beamnode_mesh_pair_up');
    assert.equal(mesh.length, 6);
    assert.ok(mesh.every((x) => x.value === 1), JSON.stringify(mesh));
    assert.equal(samples(s, 'beamnode_probe_dns_mode', { mode: 'endpoint_pod_names' })[0].value, 1);

    // The held connections: up in our metric (once the run after the report has dialed them), and seen by the nodes themselves.
    const held = await metricsUntil('every node held up', (x) => samples(x, 'beamnode_dist_node_state').filter((d) => d.value === 3).length === 3);
    assert.deepEqual(samples(held, 'beamnode_dist_node_state').map((x) => x.labels.peer).sort(), names().sort());
    writeFileSync(join(ARTIFACTS, 'watch-metrics.txt'), (await get('/metrics')).body); // for the docs and CI
    for (const p of c.pods) assert.match(await p.erl!.evalText('nodes(hidden)'), /'?beamnode-watch-[0-9a-f]{6}@/, p.podName);

    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('verdict')?.textContent === 'OK', undefined, { timeout: RUN_WAIT_MS });
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sameDocument), true, 'updated in place, no reload');
    assert.deepEqual((await page.$$eval('section.node h3', (els) => els.map((e) => e.firstChild!.textContent))).sort(), names().sort());
    for (const n of names()) {
      const cells = await page.$$eval(`section.node[data-node="${n}"] tbody tr`, (trs) => trs.map((tr) => [tr.getAttribute('data-forms'), tr.className, tr.querySelector('.res')!.textContent]));
      assert.deepEqual(cells.at(-1), ['dns fqdn', 'yes', 'accepted'], n);
      assert.ok(cells.slice(0, -1).every((x) => x[1] === 'no'), n);
    }
    assert.match((await page.textContent('#dns-mode')) ?? '', /endpoint_pod_names/);
    assert.deepEqual((await page.$$eval('.mesh .cell', (els) => els.map((e) => e.className))).filter((x) => x !== 'cell self'), Array(6).fill('cell pong'));
    assert.equal((await page.$$('#report .advice')).length, 0, 'no advice left');
    await page.screenshot({ path: join(ARTIFACTS, 'watch.png'), fullPage: false });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok((await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth)) <= 390, 'no horizontal scrolling on a phone');
    await page.screenshot({ path: join(ARTIFACTS, 'watch-phone.png'), fullPage: true });
  });

  test('SIGTERM: exit 0 after a graceful stop; the nodes see the held connections close', async () => {
    await page.close();
    process.kill(watchPid, 'SIGTERM');
    const r = await watch;
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /beamnode:probe:watch stopped/);
    assert.ok(!(r.stdout + r.stderr).includes(secret), 'the cookie is never printed');
    watchPid = 0;
    for (const p of c.pods) {
      let hidden = '';
      for (let i = 0; i < 100; i++) {
        hidden = await p.erl!.evalText('nodes(hidden)');
        if (!/beamnode-watch-/.test(hidden)) break;
        await sleep(100);
      }
      assert.doesNotMatch(hidden, /beamnode-watch-/, p.podName);
    }
    assert.equal((await get('/healthz')).status, 0, 'nothing listens any more');
  });
});
