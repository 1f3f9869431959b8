/**
 * The live page in headless Chromium (Debian's chromium, through playwright-core), served on
 * loopback with real report shapes: it draws every node and form, updates itself from the next
 * run's event without a reload, shows hostile node names as text, and lays out on a laptop and a
 * phone (screenshots kept in test/artifacts/ for CI).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startWatch, type RunningWatch } from '../../src/probe/watch/index.js';
import type { ProbeReport } from '../../src/probe/types.js';
import { launchChromium, type PageGlobals } from './watch-browser.js';
import { brokenReport, okReport } from './watch-support.js';
import { podNamesNode } from './fixtures.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const HOSTILE = 'myapp@<img src=x onerror="window.__pwned=1">.evil';

let chrome: { browser: Browser; close(): Promise<void> };
let w: RunningWatch;
let base: string;
const queue: ((r: ProbeReport) => void)[] = [];

async function feed(r: ProbeReport): Promise<void> {
  for (let i = 0; i < 500 && queue.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok(queue.length, 'the watch asked for a run');
  const next = w.nextRun(AbortSignal.timeout(10_000));
  queue.shift()!(r);
  await next;
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  w = await startWatch({
    probe: { service: 'myapp-headless', timeoutMs: 100 },
    intervalMs: 1,
    runTimeoutMs: 600_000,
    listen: { host: '127.0.0.1', port: 0 },
    hold: false,
    run: (po) => new Promise((resolve, reject) => {
      queue.push(resolve);
      po.signal?.addEventListener('abort', () => reject(po.signal!.reason), { once: true });
    }),
  });
  base = `http://127.0.0.1:${w.address.port}/`;
  chrome = await launchChromium();
});
after(async () => {
  await chrome?.close();
  await w?.stop();
});

test('the page draws the report, then the next run over SSE without a reload; hostile names stay text', async () => {
  await feed(brokenReport());
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(base);
    await page.waitForSelector('section.node', { timeout: 20_000 });
    assert.equal(await page.textContent('#verdict'), 'BROKEN');
    const r = brokenReport();
    assert.deepEqual(await page.$$eval('section.node', (els) => els.map((e) => e.getAttribute('data-node'))), r.nodes.map((n) => n.name));
    for (const n of r.nodes) {
      const rows = await page.$$eval(`section.node[data-node="${n.name}"] tbody tr`, (trs) =>
        trs.map((tr) => [tr.getAttribute('data-forms'), tr.className, tr.querySelector('td.dialed')!.textContent, tr.querySelector('.res')!.textContent]));
      assert.deepEqual(rows, n.attempts.map((a) => [a.forms.join(' '), 'no', a.dialed, a.reason === 'mismatch' ? 'name mismatch' : a.reason === 'illegal-host' ? 'illegal host' : 'unresolvable']));
    }
    assert.match((await page.textContent('#dns-mode')) ?? '', /CoreDNS default/);
    assert.match((await page.textContent('.advice')) ?? '', /endpoint_pod_names/);
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).__sameDocument = true));

    const ok = okReport(2, [podNamesNode('myapp-7d9f8b6c5-abcde', '10.1.2.3'), { ...podNamesNode('x', '10.1.2.9'), name: HOSTILE }]);
    await feed(ok);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('verdict')?.textContent === 'OK', undefined, { timeout: 20_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sameDocument), true, 'updated in place, no reload');
    assert.deepEqual(await page.$$eval('section.node h3', (els) => els.map((e) => e.firstChild!.textContent)), ok.nodes.map((n) => n.name));
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned), undefined);
    assert.equal(await page.$$eval('img', (els) => els.length), 0, 'the name did not become an element');
    assert.deepEqual(await page.$$eval('.mesh .cell', (els) => els.map((e) => e.className)), ['cell self', 'cell pong', 'cell pong', 'cell self']);
    assert.match((await page.textContent('#run')) ?? '', /^#2 /);
  } finally {
    await page.close();
  }
});

test('laptop (1280x800) and phone (390x844): no horizontal scrolling; screenshots kept', async () => {
  await feed(okReport(3));
  for (const [name, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    const page = await chrome.browser.newPage({ viewport });
    try {
      await page.goto(base);
      await page.waitForSelector('section.node', { timeout: 20_000 });
      const width = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `${name}: page is ${width} px wide`);
      await page.screenshot({ path: `${ARTIFACTS}watch-page-${name}.png`, fullPage: true });
    } finally {
      await page.close();
    }
  }
});
