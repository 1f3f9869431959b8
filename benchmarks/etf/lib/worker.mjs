// One library's worker process (forked by workers.mjs): its own V8, so one library's JIT state
// (inline caches, deoptimizations, shape transitions) and heap never leak into another's, not even
// between beamnode's decode and its erlpack-compatible unpack, which share code. (A process, not a
// worker thread: erlpack's native addon is not context-aware and refuses to load in a thread.)
// The parent drives it over IPC one request at a time: init, prepare a workload, warm up, a round.
// Usage (by workers.mjs only): node worker.mjs LIBRARY DIST_DIR

import { loadLibraries } from './libraries.mjs';
import { calibrate, round, warmUp } from './measure.mjs';
import { walk } from './walk.mjs';

const [libName, distDir] = process.argv.slice(2);
const lib = (await loadLibraries(distDir)).find((l) => l.name === libName);

/** The current workload: the bytes read, this library's decoded value, a batch size per direction. */
let current;
/** The last decode+walk's leaf count: a store V8 must keep, so the walk is never dead code. */
export let leavesWalked = 0;

function describeError(err) {
  const code = err?.code ? `${err.code}: ` : '';
  return `${code}${err?.message ?? String(err)}`.split('\n')[0].slice(0, 160);
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i}, ${a.length} vs ${b.length} bytes`;
  return `${a.length} vs ${b.length} bytes`;
}

const asBuffer = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

/**
 * The bytes this library reads: the minor_version 2 corpus, or, for erlpack (which rejects UTF-8
 * atom tags), the minor_version 1 bytes of the same term when v2 fails and v1 differs. `input`
 * forces a choice (beamnode pack/unpack reads what erlpack read, for a fair ratio).
 */
function chooseInput(w, input) {
  if (input === 'v1') return { input: 'v1', bytes: w.v1, value: lib.decode(w.v1) };
  try {
    return { input: 'v2', bytes: w.v2, value: lib.decode(w.v2) };
  } catch (err) {
    if (!lib.fallbackToV1 || w.v1.equals(w.v2)) throw err;
    return { input: 'v1', bytes: w.v1, value: lib.decode(w.v1) };
  }
}

/**
 * Everything but the timing: input choice, this library's own decoded value, the round trip; with
 * `withWalk`, also the `decode+walk` measurement (decode, then walk.mjs over the result), its
 * leaf count checked on this library's value.
 */
function prepare(workload, input, withWalk) {
  current = undefined;
  const w = { ...workload, v2: asBuffer(workload.v2), v1: asBuffer(workload.v1) };
  if (!lib.available) {
    const na = { na: true, reason: 'library unavailable' };
    return withWalk ? { decode: na, 'decode+walk': na, encode: na } : { decode: na, encode: na };
  }
  let chosen;
  try {
    chosen = chooseInput(w, input);
  } catch (err) {
    const reason = describeError(err);
    const result = { decode: { na: true, reason }, encode: { na: true, reason: `cannot decode the input: ${reason}` } };
    if (withWalk) result['decode+walk'] = { na: true, reason };
    return result;
  }
  const { bytes, value } = chosen;
  current = { fns: { decode: () => lib.decode(bytes) }, batch: {} };
  const result = { decode: { input: chosen.input } };
  if (withWalk) {
    try {
      result['decode+walk'] = { input: chosen.input, leaves: walk(value) };
      // Returns the decoded value, as the decode measurement does: the timing loop keeps the last
      // result alive until the next call, and the same retention (and so the same GC work) in
      // both rows leaves the walk as their only difference. (Returning the leaf count instead
      // lets each tree die at once: on gateway-list that alone is ~1/3 less time per decode.)
      current.fns['decode+walk'] = () => {
        const decoded = lib.decode(bytes);
        leavesWalked = walk(decoded);
        return decoded;
      };
    } catch (err) {
      result['decode+walk'] = { na: true, reason: `walk: ${describeError(err)}` };
    }
  }
  let encoded;
  try {
    encoded = lib.encode(value);
  } catch (err) {
    result.encode = { na: true, reason: describeError(err) };
    return result;
  }
  current.fns.encode = () => lib.encode(value);
  result.encode = { input: chosen.input, outputBytes: encoded.length };
  result.roundTrip = asBuffer(encoded).equals(bytes);
  if (!result.roundTrip) result.roundTripDetail = firstDifference(encoded, bytes);
  return result;
}

function handle(msg) {
  switch (msg.type) {
    case 'init':
      return { available: lib?.available ?? false, label: lib?.label ?? libName, reason: lib ? lib.reason : `unknown library ${libName}` };
    case 'prepare':
      return prepare(msg.workload, msg.input, msg.walk === true);
    case 'warm': {
      const fn = current?.fns[msg.dir];
      if (!fn) throw new Error(`no ${msg.dir} prepared`);
      current.batch[msg.dir] = calibrate(fn);
      warmUp(fn, current.batch[msg.dir], msg.warmupMs);
      return { batch: current.batch[msg.dir] };
    }
    case 'round': {
      const fn = current?.fns[msg.dir];
      if (!fn || !current.batch[msg.dir]) throw new Error(`no ${msg.dir} warmed up`);
      return round(fn, current.batch[msg.dir], msg.roundMs);
    }
    case 'release':
      current = undefined;
      return {};
    default:
      throw new Error(`unknown request ${msg.type}`);
  }
}

process.on('message', (msg) => {
  let reply;
  try {
    reply = { id: msg.id, ok: handle(msg) };
  } catch (err) {
    reply = { id: msg.id, error: describeError(err) };
  }
  process.send(reply);
});
// The parent going away closes the channel: nothing left to do.
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
