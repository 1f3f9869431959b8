#!/usr/bin/env node
// The fuzz suite (test/fuzz/*.test.ts) for longer than the unit run's few seconds.
//   node scripts/fuzz.mjs [--iterations N] [--seed S] [--rounds R] [--seconds T] [target…]
// target: etf, dist, epmd (default: all), and beam: the differential codec tests judged by real
// erl (test/integration/etf-diff.test.ts, every OTP of the matrix), which make new batches for
// T seconds per OTP and direction (default 60). Each round uses a fresh seed (or S, then S+1, …)
// and N iterations per fast target (targets over sockets take N/20). A failure prints its seed:
// replay it with --seed <seed> --rounds 1, or BEAMNODE_FUZZ_SEED=<seed> node --import tsx --test test/fuzz/<target>.test.ts
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
let iterations = 200_000;
let seed;
let rounds = 1;
let seconds = 60;
const targets = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 0) {
      console.error(`${a} needs a non-negative integer`);
      process.exit(2);
    }
    return v;
  };
  if (a === '--iterations') iterations = value();
  else if (a === '--seed') seed = value();
  else if (a === '--rounds') rounds = value();
  else if (a === '--seconds') seconds = value();
  else if (a === '-h' || a === '--help') {
    console.log('usage: node scripts/fuzz.mjs [--iterations N] [--seed S] [--rounds R] [--seconds T] [etf|dist|epmd|beam…]');
    process.exit(0);
  } else targets.push(a);
}
const fileOf = (t) => (t === 'beam' ? join(root, 'test', 'integration', 'etf-diff.test.ts') : join(root, 'test', 'fuzz', `${t}.test.ts`));
const files = (targets.length ? targets : ['etf', 'dist', 'epmd']).map(fileOf);
for (const f of files) {
  if (!existsSync(f)) {
    console.error(`no fuzz target ${f}`);
    process.exit(2);
  }
}
for (let r = 0; r < rounds; r++) {
  const s = seed !== undefined ? (seed + r) >>> 0 : Math.floor(Math.random() * 0x100000000);
  console.log(`fuzz round ${r + 1}/${rounds}: BEAMNODE_FUZZ_SEED=${s} BEAMNODE_FUZZ_ITERATIONS=${iterations}`);
  // beam prints its tallies (terms and bytes per path and OTP): keep the spec reporter for it
  const reporter = targets.includes('beam') ? 'spec' : 'dot';
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-reporter=${reporter}`, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, BEAMNODE_FUZZ_SEED: String(s), BEAMNODE_FUZZ_ITERATIONS: String(iterations), BEAMNODE_DIFF_SECONDS: String(seconds) },
  });
  if (res.status !== 0) {
    console.error(`fuzz round failed: replay with node scripts/fuzz.mjs --seed ${s} --rounds 1 --iterations ${iterations}`);
    process.exit(1);
  }
}
console.log('fuzz: no untyped failure');
