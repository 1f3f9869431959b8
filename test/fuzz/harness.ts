/**
 * The fuzzing harness: a seeded PRNG (reproducible runs), byte mutations of real inputs, and a
 * check that every failure is the layer's own typed error (never RangeError, TypeError, a crash
 * or a hang). Each run prints its seed; re-run one with BEAMNODE_FUZZ_SEED=<seed>, and make it
 * longer with BEAMNODE_FUZZ_ITERATIONS=<n> (scripts/fuzz.mjs does both).
 */
import { AssertionError } from 'node:assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The run's seed: BEAMNODE_FUZZ_SEED, else random (printed by each file so it can be replayed). */
export function fuzzSeed(): number {
  const env = process.env.BEAMNODE_FUZZ_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`BEAMNODE_FUZZ_SEED=${env} is not a 32-bit unsigned integer`);
    return n;
  }
  return (Math.random() * 0x100000000) >>> 0;
}

/**
 * Iterations for one target: `defaultCount` (a few seconds), or BEAMNODE_FUZZ_ITERATIONS × `weight`
 * when set (slow targets, e.g. over sockets, take a fraction of the count the fast ones take).
 */
export function fuzzIterations(defaultCount: number, weight = 1): number {
  const env = process.env.BEAMNODE_FUZZ_ITERATIONS;
  if (!env) return defaultCount;
  const n = Number(env);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BEAMNODE_FUZZ_ITERATIONS=${env} is not a positive integer`);
  return Math.max(1, Math.round(n * weight));
}

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** A sub-seed, so that one target's draws do not shift another's. */
  fork(salt: number): Rng {
    return new Rng((this.seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
  }
}

/** Byte values that make parsers take their edge paths. */
const INTERESTING_U8 = [0, 1, 0x7f, 0x80, 0xff, 131, 80, 97, 104, 105, 106, 107, 108, 109, 110, 111, 116, 118, 119];
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000, 0xffff];

/** One to four random mutations of `input`: flips, interesting values, inserts, deletes, cuts, splices. */
export function mutate(rng: Rng, input: Uint8Array): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(8)) {
      case 0: // bit flip
        if (b.length) b[at] ^= 1 << rng.int(8);
        break;
      case 1: // interesting byte
        if (b.length) b[at] = rng.pick(INTERESTING_U8);
        break;
      case 2: // interesting 32-bit word (a length claim)
        if (b.length >= 4) b.writeUInt32BE(rng.pick(INTERESTING_U32), Math.min(at, b.length - 4));
        break;
      case 3: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
        break;
      case 4: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]);
        break;
      case 5: // truncate
        b = b.subarray(0, at);
        break;
      case 6: // duplicate a slice in place (repeated structure)
        {
          const len = 1 + rng.int(Math.max(1, Math.min(32, b.length - at)));
          b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at)]);
        }
        break;
      default: // random byte
        if (b.length) b[at] = rng.int(256);
    }
  }
  return b;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `fn(input)`; success is fine, and so is a throw of one of `allowed`. Anything else (a
 * RangeError, TypeError, a plain Error) fails with the seed, the iteration and the input in hex.
 */
export function expectTyped<T>(fn: (input: Buffer) => T, input: Buffer, allowed: readonly ErrorClass[], where: { target: string; seed: number; i: number }): T | Error {
  try {
    return fn(input);
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return e as Error;
    throw untyped(e, input, where);
  }
}

export function untyped(e: unknown, input: Uint8Array, where: { target: string; seed: number; i: number }): AssertionError {
  const hex = Buffer.from(input).subarray(0, 256).toString('hex');
  return new AssertionError({
    message:
      `${where.target}: untyped failure ${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}\n` +
      `  replay: BEAMNODE_FUZZ_SEED=${where.seed} (iteration ${where.i}), input (${input.length} bytes) ${hex}${input.length > 256 ? '…' : ''}`,
  });
}

let gcFn: (() => void) | undefined;
/** A full GC, so that memory figures are comparable (V8's gc exposed at runtime). */
export function gc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/**
 * Runs `fn` and returns how much memory it kept (heapUsed + external + arrayBuffers, after a GC)
 * and the growth of the process's peak RSS during it (maxRSS is a high-water mark, so a spike
 * that was freed again still shows). Figures in bytes.
 */
export async function memoryCost(fn: () => void | Promise<void>): Promise<{ retained: number; peakGrowth: number }> {
  gc();
  const m0 = process.memoryUsage();
  const peak0 = process.resourceUsage().maxRSS * 1024;
  await fn();
  gc();
  const m1 = process.memoryUsage();
  const peak1 = process.resourceUsage().maxRSS * 1024;
  const kept = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external;
  return { retained: kept(m1) - kept(m0), peakGrowth: peak1 - peak0 };
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
export const MiB = 1024 * 1024;
