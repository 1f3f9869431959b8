#!/usr/bin/env node
// Runs the test suites with Node's built-in runner (TypeScript through tsx, no type check here:
// `npm run typecheck` does that). Suites are folders under test/:
//   unit        test/**/*.test.ts outside test/integration and test/cluster (no peers needed)
//   integration test/integration/**/*.test.ts (real erl, epmd on loopback; no root)
//   cluster     test/cluster/**/*.test.ts (network namespaces, dnsmasq; root)
// Usage: node scripts/run-tests.mjs unit integration [-- extra node --test flags]
//
// After the run it prints the slowest test files and every skipped test. Under CI=true a skipped
// test fails the run: CI installs every tool the suites need (.ci/run), so a skip there means a
// test did not run. (Give your own --test-reporter after `--` to get the runner's plain output.)
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const suites = dash < 0 ? args : args.slice(0, dash);
const extra = dash < 0 ? [] : args.slice(dash + 1);
if (suites.length === 0) suites.push('unit', 'integration');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const suiteOf = (file) => {
  const rel = relative(join(root, 'test'), file).split(sep);
  if (rel[0] === 'integration') return 'integration';
  if (rel[0] === 'cluster') return 'cluster';
  return 'unit';
};

const files = walk(join(root, 'test')).filter((f) => suites.includes(suiteOf(f))).sort();
if (files.length === 0) {
  console.error(`no test files for suites ${suites.join(', ')}`);
  process.exit(1);
}
// Our reporters only when the caller chose none: the runner's default (spec on a terminal, else
// TAP) on stdout, plus test-summary.mjs into a temporary file.
const own = !extra.some((a) => a.startsWith('--test-reporter'));
const tmp = own ? mkdtempSync(join(tmpdir(), 'beamnode-tests-')) : undefined;
const summaryFile = tmp && join(tmp, 'summary.json');
const reporters = own
  ? [
      `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts', 'test-summary.mjs')}`, `--test-reporter-destination=${summaryFile}`,
    ]
  : [];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...reporters, ...extra, ...files], {
  cwd: root,
  stdio: 'inherit',
});
let status = r.status ?? 1;
if (summaryFile) {
  let summary;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch (e) {
    console.error(`run-tests: no test summary (${e.message})`);
    status ||= 1;
  }
  rmSync(tmp, { recursive: true, force: true });
  if (summary) {
    const rel = (f) => relative(root, f ?? '');
    const total = summary.files.reduce((n, f) => n + f.ms, 0);
    const slow = [...summary.files].sort((a, b) => b.ms - a.ms).slice(0, 12);
    console.log(`\n# ${summary.files.length} test files in ${(total / 1000).toFixed(1)} s; the slowest:`);
    for (const f of slow) console.log(`#   ${(f.ms / 1000).toFixed(1).padStart(6)} s  ${rel(f.file)}`);
    if (summary.skipped.length > 0) {
      console.log(`# ${summary.skipped.length} skipped:`);
      for (const t of summary.skipped) console.log(`#   ${rel(t.file)}: ${t.name}${t.reason ? ` (${t.reason})` : ''}`);
      if (process.env.CI === 'true') {
        console.error('# CI=true: a skipped test is a failure (install what it needs; see .ci/run)');
        status ||= 1;
      }
    }
  }
}
process.exit(status);
