#!/usr/bin/env node
// ETF codec benchmark: beamnode against erlpack, erlang_js and the BEAM's own
// binary_to_term/term_to_binary, on a fixed seeded corpus (see benchmarks/README.md).
//
//   npm run bench                              build, then the full run
//   node benchmarks/etf/run.mjs --quick        a short run (less stable numbers)
//   node benchmarks/etf/run.mjs --filter gateway,rpc --json out.json
//   node --cpu-prof benchmarks/etf/run.mjs --filter gateway --libs beamnode
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { runBeam } from './lib/beam.mjs';
import { CorpusError, loadCorpus } from './lib/corpus.mjs';
import { LibraryWorker, timeInterleaved } from './lib/workers.mjs';
import { renderNotes, renderReport } from './lib/table.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ALL_LIBS = ['beamnode', 'beamnode-pack', 'beamnode-objects', 'erlpack', 'erlang_js', 'beam'];
/** Run only when named in --libs: a what-if for the codec's own work, not a comparison. */
const OPTIONAL_LIBS = new Set(['beamnode-objects']);
/** Workloads that get the decode+walk rows by default (--walk): every one (~1 minute more in all). */
const DEFAULT_WALK = ['all'];
/** The directions timed per workload, in table order; decode+walk only where --walk selects it. */
const DIRECTIONS = ['decode', 'decode+walk', 'encode'];

const USAGE = `usage: node benchmarks/etf/run.mjs [options]
  --quick             short warm-up and rounds (numbers for a smoke test, not for decisions)
  --filter LIST       workloads whose name contains any of these comma-separated words
  --libs LIST         libraries to run, comma-separated, of: ${ALL_LIBS.join(', ')}
                      (default: all but beamnode-objects = decode with mapsAsObjects + binariesAsStrings)
  --walk all|LIST     workloads that also get a decode+walk measurement: decode, then read
                      every value of the result (default: all; else those whose name contains
                      any of these comma-separated words)
  --no-walk           no decode+walk measurements
  --json FILE         also write the results as JSON
  --stat cpu|wall|best  what the table shows: the median round's CPU time per call (default;
                      steady on a machine shared with other work), its wall time, or the fastest
                      round's wall time (all three are in the JSON)
  --rounds N          rounds per measurement (default 5; --quick 3)
  --round-ms N        minimum time of one round in ms (default 400; --quick 100)
  --warmup-ms N       warm-up per measurement in ms (default 300; --quick 150)
  --dist DIR          where the built codec lives (default: the repository's dist/)
  --corpus DIR        corpus folder (default: benchmarks/etf/corpus, generated when missing)
  --codec-rev LABEL   the codec revision shown and saved (default: git's last src/etf commit,
                      +dirty when the tree differs; set it when --dist is a build of another tree)
  --from-json FILE    measure nothing: print the tables of a saved --json run (e.g. with another --stat)
  -h, --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string' },
      libs: { type: 'string' },
      json: { type: 'string' },
      walk: { type: 'string' },
      'no-walk': { type: 'boolean', default: false },
      stat: { type: 'string', default: 'cpu' },
      rounds: { type: 'string' },
      'round-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      dist: { type: 'string' },
      corpus: { type: 'string' },
      'from-json': { type: 'string' },
      'codec-rev': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name, fallback) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} wants a positive integer, got ${values[name]}`);
    return n;
  };
  const libs = values.libs ? values.libs.split(',').map((s) => s.trim()).filter(Boolean) : ALL_LIBS.filter((l) => !OPTIONAL_LIBS.has(l));
  if (!['cpu', 'wall', 'best'].includes(values.stat)) throw new Error(`--stat wants cpu, wall or best, got ${values.stat}`);
  const unknown = libs.filter((l) => !ALL_LIBS.includes(l));
  if (unknown.length) throw new Error(`unknown --libs ${unknown.join(', ')} (known: ${ALL_LIBS.join(', ')})`);
  if (values['no-walk'] && values.walk !== undefined) throw new Error('--walk and --no-walk exclude each other');
  const walkWords = values.walk === undefined ? DEFAULT_WALK : values.walk.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    help: values.help,
    quick: values.quick,
    filter: values.filter ? values.filter.split(',').map((s) => s.trim()).filter(Boolean) : [],
    libs: new Set(libs),
    /** Whether a workload gets the decode+walk measurement. */
    walk: values['no-walk'] ? () => false
      : walkWords.includes('all') ? () => true
      : (name) => walkWords.some((f) => name.includes(f)),
    walkSetting: values['no-walk'] ? 'none' : walkWords.join(','),
    json: values.json,
    stat: values.stat,
    fromJson: values['from-json'],
    codecRev: values['codec-rev'],
    dist: resolve(values.dist ?? join(HERE, '..', '..', 'dist')),
    corpus: resolve(values.corpus ?? join(HERE, 'corpus')),
    cfg: {
      rounds: int('rounds', values.quick ? 3 : 5),
      roundMs: int('round-ms', values.quick ? 100 : 400),
      warmupMs: int('warmup-ms', values.quick ? 150 : 300),
    },
  };
}

const log = (line) => process.stderr.write(`${line}\n`);

/** The codec's revision: the last commit touching src/etf, "+dirty" when the tree differs from it. */
function codecRevision() {
  const git = (args) => spawnSync('git', args, { cwd: join(HERE, '..', '..'), encoding: 'utf8', timeout: 5000 });
  const commit = git(['log', '-1', '--format=%h', '--', 'src/etf']);
  if (commit.status !== 0 || !commit.stdout.trim()) return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src/etf']).stdout.trim() !== '';
  return `${commit.stdout.trim()}${dirty ? '+dirty' : ''}`;
}

/** Adds ops/s and MB/s of the chosen statistic (--stat). */
let statistic = 'cpu';
const STATISTICS = {
  cpu: ['cpuNsPerOp', 'median round, CPU time per call'],
  wall: ['nsPerOp', 'median round, wall time per call'],
  best: ['bestNsPerOp', 'fastest round, wall time per call'],
};
function throughput(m, bytes) {
  const opsPerS = 1e9 / m[STATISTICS[statistic][0]];
  return { ...m, statistic, opsPerS, mbPerS: (bytes * opsPerS) / 1e6 };
}

const PREPARE_TIMEOUT_MS = 120_000;

const LEGEND = "MB/s = 10^6 bytes of the term's minor_version 2 encoding per second; " +
  'ratios = beamnode MB/s ÷ theirs (> 1: beamnode faster); rt = encode(decode(x)) is byte-equal to x;\n' +
  'decode+walk = decode, then read every value of the result once (lib/walk.mjs, the same walker for every JS library; no BEAM figure)';

/** --from-json: the tables of a saved run, recomputed for the chosen --stat. */
function reprint(file) {
  let saved;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    log(`cannot read ${file}: ${err.message}`);
    return 1;
  }
  const recompute = (m, bytes) => (m && !m.na && m.nsPerOp !== undefined ? throughput(m, bytes) : m);
  // Only the directions a run measured (runs before decode+walk have none of those rows).
  const recomputeAll = (r, bytes) => {
    const out = { ...r };
    for (const dir of DIRECTIONS) if (r?.[dir] !== undefined) out[dir] = recompute(r[dir], bytes);
    return out;
  };
  const results = saved.workloads.map((w) => ({
    ...w,
    beam: recomputeAll(w.beam ?? {}, w.bytes),
    libs: Object.fromEntries(Object.entries(w.libs).map(([name, r]) => [name, recomputeAll(r, w.bytes)])),
  }));
  const libraries = saved.libraries ??
    Object.keys(saved.workloads[0]?.libs ?? {}).map((name) => ({ name, label: name, available: !saved.unavailable?.[name], reason: saved.unavailable?.[name] }));
  const s = saved.settings;
  console.log(`\nETF benchmark (saved ${file}), ${saved.date}, codec src/etf ${saved.codecRevision ?? '?'}, node ${saved.node}, ` +
    `${saved.cpus}× ${saved.cpuModel}, BEAM: OTP ${saved.beamOtpRelease ?? 'n/a'}, rounds ${s.rounds} × ≥${s.roundMs} ms after ` +
    `${s.warmupMs} ms warm-up, ${STATISTICS[statistic][1]}${s.quick ? ' (--quick)' : ''}\n${LEGEND}\n`);
  console.log(renderReport(results, new Set(libraries.map((l) => l.name))));
  const notes = renderNotes(results, libraries, saved.beamError);
  if (notes) console.log(`\n${notes}`);
  return 0;
}

/**
 * One workload: every library's worker prepares it (input bytes, its own decoded value, the round
 * trip), then the decodes are timed interleaved, then (withWalk) decode+walk, then the encodes.
 */
async function benchWorkload(workers, w, cfg, withWalk) {
  const workload = { name: w.name, bytes: w.bytes, v2: w.v2, v1: w.v1 };
  const results = {};
  const prepare = async (worker, input) => {
    try {
      results[worker.name] = await worker.request({ type: 'prepare', workload, input, walk: withWalk }, PREPARE_TIMEOUT_MS);
    } catch (err) {
      const na = { na: true, reason: err.message };
      results[worker.name] = withWalk ? { decode: na, 'decode+walk': na, encode: na } : { decode: na, encode: na };
    }
  };
  // erlpack first: beamnode pack/unpack then reads the same bytes (v1 when erlpack needed them).
  const erlpack = workers.find((x) => x.name === 'erlpack');
  if (erlpack) await prepare(erlpack);
  for (const worker of workers) {
    if (worker === erlpack) continue;
    const input = worker.name === 'beamnode-pack' && results.erlpack?.decode?.input === 'v1' ? 'v1' : undefined;
    await prepare(worker, input);
  }
  for (const dir of DIRECTIONS) {
    if (dir === 'decode+walk' && !withWalk) continue;
    const ready = workers.filter((x) => results[x.name][dir] && !results[x.name][dir].na);
    if (!ready.length) continue;
    log(`${w.name}: ${dir} (${ready.map((x) => x.name).join(', ')}) ...`);
    const timings = await timeInterleaved(ready, dir, cfg);
    for (const [name, t] of timings) {
      results[name][dir] = t.error ? { na: true, reason: t.error } : { ...results[name][dir], ...throughput(t, w.bytes) };
    }
  }
  await Promise.all(workers.map((x) => x.request({ type: 'release' }, PREPARE_TIMEOUT_MS).catch(() => {})));
  return results;
}

function beamRow(beam, w) {
  const row = {};
  for (const dir of ['decode', 'encode']) {
    const r = beam.results.get(`${w.name}/${dir}`);
    row[dir] = r ? { input: 'v2', ...throughput(r, w.bytes) } : { na: true, reason: beam.error ?? 'no result' };
  }
  return row;
}

async function main(argv) {
  let opts;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    log(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  statistic = opts.stat;
  if (opts.fromJson) return reprint(opts.fromJson);

  let corpus;
  try {
    corpus = loadCorpus({ dir: opts.corpus, generator: join(HERE, 'gen-corpus.escript'), log });
  } catch (err) {
    if (err instanceof CorpusError) {
      log(`corpus: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const workloads = corpus.workloads.filter((w) => !opts.filter.length || opts.filter.some((f) => w.name.includes(f)));
  if (!workloads.length) {
    log(`no workload matches --filter ${opts.filter.join(',')} (have: ${corpus.workloads.map((w) => w.name).join(', ')})`);
    return 2;
  }

  // One worker thread (one V8 isolate) per JS library, started in table order.
  const workers = [];
  const libraries = [];
  for (const name of ALL_LIBS.filter((l) => l !== 'beam' && opts.libs.has(l))) {
    const worker = new LibraryWorker(name, opts.dist);
    let info;
    try {
      await worker.ready;
      info = await worker.request({ type: 'init' }, PREPARE_TIMEOUT_MS);
    } catch (err) {
      info = { available: false, label: name, reason: `worker failed: ${err.message}` };
    }
    libraries.push({ name, ...info });
    if (info.available) workers.push(worker);
    else {
      log(`${info.label}: n/a (${info.reason})`);
      await worker.terminate();
    }
  }

  // The BEAM first, alone, so it does not compete with the JS measurements for the CPU.
  let beam = { results: new Map(), error: 'not selected (--libs)' };
  if (opts.libs.has('beam')) {
    log(`BEAM: timing binary_to_term/term_to_binary on ${workloads.length} workloads ...`);
    beam = await runBeam({ script: join(HERE, 'bench-beam.escript'), workloads, cfg: opts.cfg });
    if (beam.error) log(`BEAM: ${beam.error}`);
  }

  const results = [];
  try {
    for (const w of workloads) {
      const libs = await benchWorkload(workers, w, opts.cfg, opts.walk(w.name));
      results.push({ name: w.name, description: w.description, bytes: w.bytes, libs, beam: beamRow(beam, w) });
    }
  } finally {
    await Promise.all(workers.map((x) => x.terminate()));
  }

  const shown = new Set(libraries.map((l) => l.name));
  const revision = opts.codecRev ?? codecRevision();
  const header = `ETF benchmark, ${new Date().toISOString()}, codec src/etf ${revision}, node ${process.version}, ` +
    `${cpus().length}× ${cpus()[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `BEAM: OTP ${beam.otpRelease ?? 'n/a'}, corpus: OTP ${corpus.otpRelease}, ` +
    `rounds ${opts.cfg.rounds} × ≥${opts.cfg.roundMs} ms after ${opts.cfg.warmupMs} ms warm-up, ${STATISTICS[opts.stat][1]}` +
    (opts.quick ? ' (--quick)' : '');
  console.log(`\n${header}\n${LEGEND}\n`);
  console.log(renderReport(results, shown));
  const notes = renderNotes(results, libraries, opts.libs.has('beam') ? beam.error : undefined);
  if (notes) console.log(`\n${notes}`);

  if (opts.json) {
    const json = {
      date: new Date().toISOString(),
      codecRevision: revision,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim(),
      beamOtpRelease: beam.otpRelease,
      corpusOtpRelease: corpus.otpRelease,
      settings: { ...opts.cfg, quick: opts.quick, statistic: opts.stat, walk: opts.walkSetting },
      libraries: libraries.map(({ name, label, available, reason }) => ({ name, label, available, reason })),
      unavailable: Object.fromEntries(libraries.filter((l) => !l.available).map((l) => [l.name, l.reason])),
      beamError: beam.error,
      workloads: results,
    };
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`results written to ${opts.json}`);
  }
  const roundTripFailed = results.some((w) => w.libs.beamnode?.roundTrip === false);
  return roundTripFailed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
