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
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { runBeam } from './lib/beam.mjs';
import { CorpusError, loadCorpus } from './lib/corpus.mjs';
import { loadLibraries } from './lib/libraries.mjs';
import { measure } from './lib/measure.mjs';
import { renderNotes, renderReport } from './lib/table.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ALL_LIBS = ['beamnode', 'beamnode-pack', 'erlpack', 'erlang_js', 'beam'];

const USAGE = `usage: node benchmarks/etf/run.mjs [options]
  --quick             short warm-up and rounds (numbers for a smoke test, not for decisions)
  --filter LIST       workloads whose name contains any of these comma-separated words
  --libs LIST         libraries to run, comma-separated, of: ${ALL_LIBS.join(', ')} (default: all)
  --json FILE         also write the results as JSON
  --stat median|best  which round the table shows (default median; best = least disturbed round)
  --rounds N          rounds per measurement (default 5; --quick 3)
  --round-ms N        minimum time of one round in ms (default 400; --quick 60)
  --warmup-ms N       warm-up per measurement in ms (default 300; --quick 50)
  --dist DIR          where the built codec lives (default: the repository's dist/)
  --corpus DIR        corpus folder (default: benchmarks/etf/corpus, generated when missing)
  -h, --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string' },
      libs: { type: 'string' },
      json: { type: 'string' },
      stat: { type: 'string', default: 'median' },
      rounds: { type: 'string' },
      'round-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      dist: { type: 'string' },
      corpus: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name, fallback) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} wants a positive integer, got ${values[name]}`);
    return n;
  };
  const libs = values.libs ? values.libs.split(',').map((s) => s.trim()).filter(Boolean) : ALL_LIBS;
  if (values.stat !== 'median' && values.stat !== 'best') throw new Error(`--stat wants median or best, got ${values.stat}`);
  const unknown = libs.filter((l) => !ALL_LIBS.includes(l));
  if (unknown.length) throw new Error(`unknown --libs ${unknown.join(', ')} (known: ${ALL_LIBS.join(', ')})`);
  return {
    help: values.help,
    quick: values.quick,
    filter: values.filter ? values.filter.split(',').map((s) => s.trim()).filter(Boolean) : [],
    libs: new Set(libs),
    json: values.json,
    stat: values.stat,
    dist: resolve(values.dist ?? join(HERE, '..', '..', 'dist')),
    corpus: resolve(values.corpus ?? join(HERE, 'corpus')),
    cfg: {
      rounds: int('rounds', values.quick ? 3 : 5),
      roundMs: int('round-ms', values.quick ? 60 : 400),
      warmupMs: int('warmup-ms', values.quick ? 50 : 300),
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

function describeError(err) {
  const code = err?.code ? `${err.code}: ` : '';
  return `${code}${err?.message ?? String(err)}`.split('\n')[0].slice(0, 160);
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i}, ${a.length} vs ${b.length} bytes`;
  return `${a.length} vs ${b.length} bytes`;
}

const sameBytes = (a, b) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), b) === 0;

/**
 * The bytes a library reads for a workload: the minor_version 2 corpus, or for erlpack (which
 * rejects UTF-8 atom tags) the minor_version 1 bytes of the same term when v2 fails and v1 differs.
 */
function chooseInput(lib, w) {
  try {
    return { input: 'v2', bytes: w.v2, value: lib.decode(w.v2) };
  } catch (err) {
    if (!lib.fallbackToV1 || w.v1.equals(w.v2)) throw err;
    return { input: 'v1', bytes: w.v1, value: lib.decode(w.v1) };
  }
}

// Memoized per library and workload: erlpack prints an "[Error …]" line on stdout for every
// input it rejects, so each rejected input is tried once.
const choices = new Map();
function chooseInputOnce(lib, w) {
  const key = `${lib.name}/${w.name}`;
  const known = choices.get(key);
  if (known?.error) throw known.error;
  if (known) {
    const bytes = known.input === 'v1' ? w.v1 : w.v2;
    return { input: known.input, bytes, value: lib.decode(bytes) };
  }
  try {
    const chosen = chooseInput(lib, w);
    choices.set(key, { input: chosen.input }); // not the value: it would stay alive all run long
    return chosen;
  } catch (error) {
    choices.set(key, { error });
    throw error;
  }
}

/** Adds ops/s and MB/s of the chosen statistic (the median round, or with --stat best the best). */
let statistic = 'median';
function throughput(m, bytes) {
  const opsPerS = 1e9 / (statistic === 'best' ? m.bestNsPerOp : m.nsPerOp);
  return { ...m, statistic, opsPerS, mbPerS: (bytes * opsPerS) / 1e6 };
}

/** Decode then encode one workload with one library; every failure becomes an n/a cell. */
function benchLibrary(lib, w, cfg, erlpackInput) {
  if (!lib.available) return { decode: { na: true, reason: 'library unavailable' }, encode: { na: true, reason: 'library unavailable' } };
  const out = {};
  let chosen;
  try {
    // beamnode's erlpack-compatible API reads the same bytes as erlpack, for a fair ratio.
    if (lib.name === 'beamnode-pack' && erlpackInput === 'v1') chosen = { input: 'v1', bytes: w.v1, value: lib.decode(w.v1) };
    else chosen = chooseInputOnce(lib, w);
  } catch (err) {
    const reason = describeError(err);
    return { decode: { na: true, reason }, encode: { na: true, reason: `cannot decode the input: ${reason}` } };
  }
  const { bytes, value, input } = chosen;
  out.decode = { input, ...throughput(measure(() => lib.decode(bytes), cfg), w.bytes) };

  let encoded;
  try {
    encoded = lib.encode(value);
  } catch (err) {
    out.encode = { na: true, reason: describeError(err) };
    return out;
  }
  out.encode = { input, outputBytes: encoded.length, ...throughput(measure(() => lib.encode(value), cfg), w.bytes) };
  out.roundTrip = sameBytes(encoded, bytes);
  if (!out.roundTrip) out.roundTripDetail = firstDifference(encoded, bytes);
  return out;
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

  const libraries = (await loadLibraries(opts.dist)).filter((l) => opts.libs.has(l.name));
  for (const lib of libraries) if (!lib.available) log(`${lib.label}: n/a (${lib.reason})`);
  const erlpack = libraries.find((l) => l.name === 'erlpack' && l.available);

  // The BEAM first, alone, so it does not compete with the JS measurements for the CPU.
  let beam = { results: new Map(), error: 'not selected (--libs)' };
  if (opts.libs.has('beam')) {
    log(`BEAM: timing binary_to_term/term_to_binary on ${workloads.length} workloads ...`);
    beam = await runBeam({ script: join(HERE, 'bench-beam.escript'), workloads, cfg: opts.cfg });
    if (beam.error) log(`BEAM: ${beam.error}`);
  }

  const results = [];
  for (const w of workloads) {
    const row = { name: w.name, description: w.description, bytes: w.bytes, libs: {}, beam: beamRow(beam, w) };
    // Which bytes erlpack reads (beamnode pack/unpack then reads the same); probed once, as
    // every failed erlpack decode also prints a line of its own on stderr.
    let erlpackInput = 'v2';
    if (erlpack && opts.libs.has('beamnode-pack')) {
      try { erlpackInput = chooseInputOnce(erlpack, w).input; } catch { /* reported by erlpack's own run */ }
    }
    for (const lib of libraries) {
      log(`${w.name}: ${lib.label} ...`);
      row.libs[lib.name] = benchLibrary(lib, w, opts.cfg, erlpackInput);
    }
    results.push(row);
  }

  const shown = new Set(libraries.map((l) => l.name));
  const revision = codecRevision();
  const header = `ETF benchmark, ${new Date().toISOString()}, codec src/etf ${revision}, node ${process.version}, ` +
    `${cpus().length}× ${cpus()[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `BEAM: OTP ${beam.otpRelease ?? 'n/a'}, corpus: OTP ${corpus.otpRelease}, ` +
    `rounds ${opts.cfg.rounds} × ≥${opts.cfg.roundMs} ms after ${opts.cfg.warmupMs} ms warm-up, ${opts.stat === 'best' ? 'best round' : 'median'}` +
    (opts.quick ? ' (--quick)' : '');
  console.log(`\n${header}\nMB/s = 10^6 bytes of the term's minor_version 2 encoding per second; ratios = beamnode MB/s ÷ theirs (> 1: beamnode faster); rt = encode(decode(x)) is byte-equal to x\n`);
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
      settings: { ...opts.cfg, quick: opts.quick, statistic: opts.stat },
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
