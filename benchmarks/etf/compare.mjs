#!/usr/bin/env node
// Before/after for one library between two saved runs (run.mjs --json): per workload and
// direction (decode, decode+walk where either run measured it, encode), MB/s in each and their
// ratio, in the chosen statistic. Runs saved before decode+walk existed simply have no such rows.
//
//   node benchmarks/etf/compare.mjs before.json after.json [--lib beamnode] [--stat cpu|wall|best]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const FIELDS = { cpu: 'cpuNsPerOp', wall: 'nsPerOp', best: 'bestNsPerOp' };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { lib: { type: 'string', default: 'beamnode' }, stat: { type: 'string', default: 'cpu' } },
});
if (positionals.length !== 2 || !FIELDS[values.stat]) {
  console.error('usage: node benchmarks/etf/compare.mjs BEFORE.json AFTER.json [--lib NAME] [--stat cpu|wall|best]');
  process.exit(2);
}
const [before, after] = positionals.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const field = FIELDS[values.stat];

/** MB/s of a measurement, or undefined when absent, n/a, or (old JSON) without this statistic. */
function mbps(w, m) {
  const ns = m && !m.na ? m[field] : undefined;
  return ns ? (w.bytes * 1e9) / ns / 1e6 : undefined;
}
const fmt = (v) => (v === undefined ? 'n/a' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** One library's measurements of one workload in a run ({ decode, 'decode+walk'?, encode }), or undefined. */
function lookup(run, name, lib) {
  const w = run.workloads?.find((x) => x.name === name);
  return lib === 'beam' ? w?.beam : w?.libs?.[lib];
}
const rows = [['workload', 'dir', `before (${before.codecRevision ?? '?'})`, `after (${after.codecRevision ?? '?'})`, 'after/before']];
for (const w of after.workloads ?? []) {
  for (const dir of ['decode', 'decode+walk', 'encode']) {
    const a = lookup(before, w.name, values.lib)?.[dir];
    const b = lookup(after, w.name, values.lib)?.[dir];
    if (dir === 'decode+walk' && a === undefined && b === undefined) continue;
    const va = mbps(w, a);
    const vb = mbps(w, b);
    rows.push([w.name, dir, fmt(va), fmt(vb), va && vb ? `${(vb / va).toFixed(2)}×` : 'n/a']);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`${values.lib}, MB/s (${values.stat}), before: ${before.date}, after: ${after.date}`);
for (const [i, r] of rows.entries()) {
  console.log(r.map((c, j) => (j >= 2 ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join('  '));
  if (i === 0) console.log(widths.map((n) => '-'.repeat(n)).join('  '));
}
