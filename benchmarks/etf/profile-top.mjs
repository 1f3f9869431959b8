#!/usr/bin/env node
// Top functions by self time in a V8 .cpuprofile (from `node --cpu-prof`), mapped back to the
// TypeScript sources through .js.map files beside dist/ (the package build writes none: build with
// `npx tsc -p tsconfig.build.json --sourceMap` before profiling to get them).
//
//   node --cpu-prof --cpu-prof-dir=.tmp/prof benchmarks/etf/run.mjs --filter gateway --libs beamnode
//   node benchmarks/etf/profile-top.mjs .tmp/prof/*.cpuprofile --match /etf/ --top 25
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    match: { type: 'string' },
    top: { type: 'string', default: '25' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node benchmarks/etf/profile-top.mjs FILE.cpuprofile [--match SUBSTRING] [--top N]');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Self time per node id: each sample is attributed to the node on top of the stack, and lasts
// until the next sample (timeDeltas[i + 1]).
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
}
// A library's worker idles while the others take their rounds: "(idle)" is left out of the total.
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const idleUs = [...idleIds].reduce((a, id) => a + (selfUs.get(id) ?? 0), 0);
for (const id of idleIds) selfUs.delete(id);
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

const sourceMaps = new Map();
function sourceMapFor(url) {
  if (!sourceMaps.has(url)) {
    let map;
    try {
      const file = fileURLToPath(url);
      if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch { /* not a file URL, or no map: keep the JS location */ }
    sourceMaps.set(url, map);
  }
  return sourceMaps.get(url);
}

/** "decodeMap src/etf/decode.ts:123" for a JS location, or the JS location when unmapped. */
function locate({ url, lineNumber, columnNumber }) {
  if (!url) return '(native)';
  const map = url.startsWith('file:') ? sourceMapFor(url) : undefined;
  const entry = map?.findEntry(lineNumber, columnNumber);
  if (entry && entry.originalSource) {
    const src = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource)
      : resolve(dirname(fileURLToPath(url)), entry.originalSource);
    return `${relative(repoRoot, src)}:${entry.originalLine + 1}`;
  }
  const where = url.startsWith('file:') ? relative(repoRoot, fileURLToPath(url)) : url;
  return `${where}:${lineNumber + 1}`;
}

const byFunction = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id);
  if (!us) continue;
  const cf = node.callFrame;
  if (values.match && !(cf.url ?? '').includes(values.match)) continue;
  const key = `${cf.functionName || '(anonymous)'}  ${locate(cf)}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}

const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
const matchedUs = [...byFunction.values()].reduce((a, b) => a + b, 0);
console.log(`profile ${positionals[0]}: ${(totalUs / 1000).toFixed(0)} ms busy (${(idleUs / 1000).toFixed(0)} ms idle left out)` +
  (values.match ? `, ${(matchedUs / 1000).toFixed(0)} ms (${((100 * matchedUs) / totalUs).toFixed(1)}%) in URLs containing "${values.match}"` : ''));
console.log('self ms   % total  function  source');
for (const [key, us] of rows) {
  console.log(`${(us / 1000).toFixed(1).padStart(7)}  ${((100 * us) / totalUs).toFixed(1).padStart(7)}%  ${key}`);
}
