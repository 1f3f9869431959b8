#!/usr/bin/env node
// Distribution benchmarks: beamnode against the BEAM itself, in one run on one machine.
//   (a) small-message throughput JS→BEAM and BEAM→JS, against BEAM→BEAM (two erl nodes, loopback)
//   (b) rpc round-trip latency p50/p99, against rpc:call between the two erl nodes
//   (c) a 10 MB message each way, against the same between the erl nodes
//   plus memory per connection (JS side, and the BEAM side of the same connections).
// Plain ESM on the built code: `npm run build` first (or --dist DIR). See README.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (args.includes('--help')) {
  console.log(`usage: node benchmarks/dist/run.mjs [--quick] [--hot on|off|both] [--n MSGS] [--rpc K] [--big BYTES]
       [--reps R] [--conns M] [--payload BYTES] [--dist DIR] [--json FILE]`);
  process.exit(0);
}
const quick = args.includes('--quick');
const N = Number(opt('n', quick ? 20_000 : 100_000));
const K = Number(opt('rpc', quick ? 500 : 3000));
const BIG = Number(opt('big', 10 * 1024 * 1024));
const REPS = Number(opt('reps', quick ? 2 : 5));
const CONNS = Number(opt('conns', quick ? 10 : 30));
const PAYLOAD = Number(opt('payload', 32));
const HOT = opt('hot', 'both');
const distDir = resolve(opt('dist', join(here, '../../dist')));
const jsonOut = opt('json', undefined);
const COOKIE = 'beamnode_bench_cookie';

if (![N, K, BIG, REPS, CONNS, PAYLOAD].every((x) => Number.isInteger(x) && x > 0) || !['on', 'off', 'both'].includes(HOT)) {
  console.error('bad arguments; see --help');
  process.exit(2);
}
if (!existsSync(join(distDir, 'dist/node.js'))) {
  console.error(`no build at ${distDir}: run \`npm run build\` first (or pass --dist DIR)`);
  process.exit(2);
}
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const imp = (p) => import(pathToFileURL(join(distDir, p)).href);
const { Node } = await imp('dist/node.js');
const { DistNetwork } = await imp('dist/network.js');
const { atom, tuple, Tuple, Pid } = await imp('etf/types.js');
const flagsMod = await imp('dist/flags.js');
// Builds with the hot path take atomCache/fragments per Node and per DistNetwork.
const hotSwitch = 'HOT_PATH_FLAGS' in flagsMod;
let hotOptions = {}; // { atomCache, fragments } of the configuration being measured

// ---- processes we start (stopped by pid at the end) -------------------------------------------

const children = [];
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}
async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const work = mkdtempSync(join(tmpdir(), 'beamnode-bench-dist-'));
const erlc = spawnSync('erlc', ['-o', work, join(here, 'bench_dist.erl')], { encoding: 'utf8' });
if (erlc.status !== 0) {
  console.error(`erlc failed: ${erlc.stderr || erlc.error}`);
  process.exit(1);
}
const epmdPort = await freePort();
children.push(spawn('epmd', ['-port', String(epmdPort)], { stdio: 'ignore' }));
const env = { ...process.env, ERL_EPMD_PORT: String(epmdPort) };
const otpRelease = spawnSync('erl', ['-noshell', '-eval', 'io:format("~s", [erlang:system_info(otp_release)]), halt().'], { encoding: 'utf8' }).stdout.trim();

function startErl(name) {
  const c = spawn('erl', ['-noshell', '-name', name, '-setcookie', COOKIE, '-pa', work,
    '-kernel', 'inet_dist_use_interface', '{127,0,0,1}', '-eval', 'ok = bench_dist:start()'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
  children.push(c);
  return c;
}
const B1 = 'bench1@127.0.0.1';
const B2 = 'bench2@127.0.0.1';
startErl(B1);
startErl(B2);

const isTag = (tag) => (m) => m instanceof Tuple && m.elements[0] === atom(tag);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function startJs(name) {
  const node = await Node.start({ name, cookie: COOKIE, epmd: { port: epmdPort }, mailboxLimit: 10 * N + 1000, ...hotOptions });
  // The erl nodes may still be starting: retry the first contact for a while.
  for (let i = 0; ; i++) {
    try {
      await node.connect(B1, { timeout: 2000 });
      await node.connect(B2, { timeout: 2000 });
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return node;
}

// ---- the measurements -------------------------------------------------------------------------

const payload = Buffer.alloc(PAYLOAD, 0x61);
const smallMsg = () => tuple(atom('m'), tuple(atom('order'), 12345, atom('EUR'), payload));

async function beamBaselines(node) {
  const coord = node.spawn();
  const sink1 = [atom('sink'), atom(B1)];
  const out = { throughput: [], rpc: [], big: [] };
  try {
    for (let r = 0; r < REPS + 1; r++) {
      await coord.send(sink1, tuple(atom('blast_to_sink'), atom(B2), N, smallMsg(), coord.pid));
      const t = await coord.receive({ match: isTag('blast_time'), timeout: 300_000 });
      if (r > 0) out.throughput.push(N / (t.elements[1] / 1e6));
      await coord.send(sink1, tuple(atom('big_to_sink'), atom(B2), BIG, coord.pid));
      const b = await coord.receive({ match: isTag('big_time'), timeout: 300_000 });
      if (r > 0) out.big.push(b.elements[1] / 1000);
    }
    await coord.send(sink1, tuple(atom('rpc_bench'), atom(B2), K, coord.pid));
    const times = await coord.receive({ match: isTag('rpc_times'), timeout: 300_000 });
    out.rpc = times.elements[1].map((ns) => Number(ns) / 1e6);
  } finally {
    coord.close();
  }
  return out;
}

async function jsMeasurements(node) {
  const coord = node.spawn();
  const jsink = node.spawn();
  jsink.register('jsink');
  const sink2 = [atom('sink'), atom(B2)];
  const out = { toBeam: [], fromBeam: [], rpc: [], bigTo: [], bigFrom: [] };
  try {
    for (let r = 0; r < REPS + 1; r++) {
      // JS → BEAM: N sends, then the sink's {sunk, Node} (sent after it counted N).
      await coord.send(sink2, tuple(atom('expect'), coord.pid, N));
      let t0 = performance.now();
      const msg = smallMsg();
      for (let i = 0; i < N; i++) {
        const p = coord.send(sink2, msg);
        if (i % 1024 === 1023) await p;
      }
      await coord.receive({ match: isTag('sunk'), timeout: 300_000 });
      if (r > 0) out.toBeam.push(N / ((performance.now() - t0) / 1000));
      // BEAM → JS: the sink sends N to our registered jsink.
      t0 = performance.now();
      await coord.send(sink2, tuple(atom('blast'), tuple(atom('jsink'), node.atom), N, smallMsg()));
      for (let i = 0; i < N; i++) await jsink.receive({ timeout: 300_000 });
      if (r > 0) out.fromBeam.push(N / ((performance.now() - t0) / 1000));
      // 10 MB each way.
      const big = Buffer.alloc(BIG, 7);
      t0 = performance.now();
      await coord.send(sink2, tuple(atom('big'), coord.pid, big));
      await coord.receive({ match: isTag('got_big'), timeout: 300_000 });
      if (r > 0) out.bigTo.push(performance.now() - t0);
      await coord.send(sink2, tuple(atom('prepare'), BIG, coord.pid));
      await coord.receive({ match: isTag('prepared'), timeout: 300_000 });
      t0 = performance.now();
      await coord.send(sink2, tuple(atom('bigsend'), tuple(atom('jsink'), node.atom)));
      const got = await jsink.receive({ timeout: 300_000 });
      if (r > 0) out.bigFrom.push(performance.now() - t0);
      if (!(got instanceof Tuple) || got.elements[2].length !== BIG) throw new Error('10 MB reply of the wrong size');
    }
    for (let i = 0; i < 50; i++) await node.rpc(B2, 'erlang', 'node', []);
    for (let i = 0; i < K; i++) {
      const t0 = performance.now();
      const v = await node.rpc(B2, 'erlang', 'node', [], { timeout: 10_000 });
      out.rpc.push(performance.now() - t0);
      if (v !== atom(B2)) throw new Error(`rpc returned ${String(v)}`);
    }
  } finally {
    coord.close();
    jsink.close();
  }
  return out;
}

async function beamMemory(coord) {
  await coord.send([atom('sink'), atom(B2)], tuple(atom('memory'), coord.pid));
  return (await coord.receive({ match: isTag('memory'), timeout: 10_000 })).elements[1];
}

/** M extra connections to bench2, each from its own DistNetwork: JS bytes and BEAM bytes per connection. */
async function memoryPerConnection(node, tag) {
  const coord = node.spawn();
  const nets = [];
  try {
    gc();
    await new Promise((r) => setTimeout(r, 100));
    gc();
    const m0 = process.memoryUsage();
    const b0 = await beamMemory(coord);
    for (let i = 0; i < CONNS; i++) {
      const net = new DistNetwork({ name: `mem${tag}${i}@127.0.0.1`, cookie: COOKIE, epmdPort, ...hotOptions });
      nets.push(net);
      const conn = await net.connect(B2, { timeout: 10_000 });
      // One message each way so that writers, caches and codec state exist.
      const self = new Pid(atom(net.name), 1, 0, net.creation);
      conn.send({ op: 'reg_send', from: self, toName: atom('sink') }, tuple(atom('memory'), self));
      await new Promise((r) => conn.once('control', r));
    }
    gc();
    await new Promise((r) => setTimeout(r, 100));
    gc();
    const m1 = process.memoryUsage();
    const b1 = await beamMemory(coord);
    const js = (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / CONNS;
    return { js, beam: (b1 - b0) / CONNS };
  } finally {
    for (const n of nets) await n.close();
    coord.close();
  }
}

// ---- run ----------------------------------------------------------------------------------------

const configs = HOT === 'both' ? ['off', 'on'] : [HOT];
if (!hotSwitch && configs.includes('off') && HOT !== 'on') {
  console.error('note: this build has no hot path (flags.HOT_PATH_FLAGS): measuring its defaults only');
}
const results = { date: new Date().toISOString(), otpRelease, node: process.version, N, K, BIG, PAYLOAD, REPS, CONNS, configs: {} };
let exit = 0;
try {
  const base = await startJs('jsbase@127.0.0.1');
  console.error(`bench: erl nodes up (OTP ${otpRelease}); BEAM→BEAM baselines…`);
  results.beam = await beamBaselines(base);
  await base.stop();
  for (const cfg of hotSwitch ? configs : ['default']) {
    if (hotSwitch) hotOptions = { atomCache: cfg === 'on', fragments: cfg === 'on' };
    console.error(`bench: beamnode with the hot path ${cfg}…`);
    const node = await startJs(`js${cfg}@127.0.0.1`);
    try {
      const conn = await node.connection(atom(B2));
      const r = await jsMeasurements(node);
      r.memory = await memoryPerConnection(node, cfg);
      r.flags = `0x${conn.flags.toString(16)}`;
      results.configs[cfg] = r;
    } finally {
      await node.stop();
    }
  }
} catch (e) {
  console.error(`bench failed: ${e?.stack ?? e}`);
  exit = 1;
} finally {
  await cleanup();
  rmSync(work, { recursive: true, force: true });
}

// ---- report -------------------------------------------------------------------------------------

const fmt = (x, d = 0) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const beam = results.beam;
if (beam) {
  const rows = [];
  const b = {
    tput: median(beam.throughput),
    p50: pct(beam.rpc, 50),
    p99: pct(beam.rpc, 99),
    big: median(beam.big),
  };
  for (const [cfg, r] of Object.entries(results.configs)) {
    const to = median(r.toBeam);
    const from = median(r.fromBeam);
    rows.push([`small msgs JS→BEAM (msg/s) [${cfg}]`, fmt(to), fmt(b.tput), fmt(to / b.tput, 2)]);
    rows.push([`small msgs BEAM→JS (msg/s) [${cfg}]`, fmt(from), fmt(b.tput), fmt(from / b.tput, 2)]);
    rows.push([`rpc p50 (ms) [${cfg}]`, fmt(pct(r.rpc, 50), 3), fmt(b.p50, 3), fmt(b.p50 / pct(r.rpc, 50), 2)]);
    rows.push([`rpc p99 (ms) [${cfg}]`, fmt(pct(r.rpc, 99), 3), fmt(b.p99, 3), fmt(b.p99 / pct(r.rpc, 99), 2)]);
    rows.push([`10 MB JS→BEAM (ms) [${cfg}]`, fmt(median(r.bigTo), 1), fmt(b.big, 1), fmt(b.big / median(r.bigTo), 2)]);
    rows.push([`10 MB BEAM→JS (ms) [${cfg}]`, fmt(median(r.bigFrom), 1), fmt(b.big, 1), fmt(b.big / median(r.bigFrom), 2)]);
    rows.push([`memory per connection (KiB) [${cfg}]`, fmt(r.memory.js / 1024, 1), fmt(r.memory.beam / 1024, 1), fmt(r.memory.beam / r.memory.js, 2)]);
  }
  const head = ['measurement', 'beamnode', 'BEAM→BEAM', 'beamnode vs BEAM (>1 = better)'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  console.log(`\nbeamnode distribution benchmark — ${results.date} — OTP ${otpRelease}, Node ${process.version}`);
  console.log(`N=${N} small messages of ${PAYLOAD}-byte payload, rpc K=${K}, big=${BIG} bytes, median of ${REPS} (after 1 warm-up)`);
  for (const [cfg, r] of Object.entries(results.configs)) console.log(`config ${cfg}: negotiated flags ${r.flags}`);
  console.log('');
  console.log(line(head));
  console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : `${'-'.repeat(x + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('\nRatios: throughput = beamnode/BEAM; times and memory = BEAM/beamnode. "memory per connection": beamnode = JS heap+external per extra DistNetwork connection; BEAM→BEAM column = erlang:memory(total) growth on bench2 per accepted connection.');
}
if (jsonOut) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(jsonOut, JSON.stringify(results, null, 1));
}
process.exit(exit);
