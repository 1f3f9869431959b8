#!/usr/bin/env node
// Runs the test suites with Node's built-in runner (TypeScript through tsx, no type check here:
// `npm run typecheck` does that). Suites are folders under test/:
//   unit        test/**/*.test.ts outside test/integration, test/cluster, test/container (no peers needed)
//   integration test/integration/**/*.test.ts (real erl, epmd on loopback; no root)
//   cluster     test/cluster/**/*.test.ts (network namespaces, dnsmasq; root)
//   container   test/container/**/*.test.ts (podman images run in the cluster rig; root)
// Usage: node scripts/run-tests.mjs unit integration [-- extra node --test flags]
import { readdirSync, statSync } from 'node:fs';
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
  if (rel[0] === 'container') return 'container';
  return 'unit';
};

const files = walk(join(root, 'test')).filter((f) => suites.includes(suiteOf(f))).sort();
if (files.length === 0) {
  console.error(`no test files for suites ${suites.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...extra, ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
