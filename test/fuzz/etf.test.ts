// Fuzzing the ETF decoder: random bytes, mutations of real OTP 25 term_to_binary output, and
// hostile length claims (2^32-1 elements, 4 GiB compressed, a zip bomb, a million levels of
// nesting). Every failure must be a DecodeError (LimitError included), memory stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeflate, deflateSync } from 'node:zlib';
import { decode, decodeAt, decodeBodyAt, DecodeError, encode, EncodeError, LimitError, pack, unpack, type DecodeOptions } from '../../src/etf/index.js';
import { Tuple, atom } from '../../src/etf/types.js';
import { OTP25_TERMS } from './corpus.js';
import { expectTyped, fuzzIterations, fuzzSeed, hex, memoryCost, MiB, mutate, Rng, untyped } from './harness.js';

const SEED = fuzzSeed();
console.log(`# fuzz etf: BEAMNODE_FUZZ_SEED=${SEED}`);
const corpus = OTP25_TERMS.map(([, h]) => hex(h));
const OPTION_SETS: DecodeOptions[] = [
  {},
  { atomsAsStrings: true, mapsAsObjects: true, binariesAsStrings: true },
  { copyBinaries: true, limits: { maxTerms: 10_000, maxDepth: 64, maxInflatedSize: MiB } },
];
const typed = [DecodeError];

/** Every way in: decode with each option set, decodeAt, decodeBodyAt after the 131, and erlpack's unpack. */
function decodeEveryWay(b: Buffer, opts: DecodeOptions): void {
  try {
    decode(b, opts);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  if (b.length > 0 && b[0] === 131) {
    try {
      decodeAt(b, 0, opts);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
  if (b.length > 1) decodeBodyAt(b, 1, opts);
}

test(`the real OTP 25 corpus decodes (seed ${SEED})`, () => {
  for (const [name, h] of OTP25_TERMS) assert.doesNotThrow(() => decode(hex(h)), name);
});

test(`ETF: mutations of real OTP 25 terms end in DecodeError or a term (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(1);
  const n = fuzzIterations(20_000);
  for (let i = 0; i < n; i++) {
    const input = mutate(rng, rng.pick(corpus));
    const opts = OPTION_SETS[i % OPTION_SETS.length];
    expectTyped((b) => decodeEveryWay(b, opts), input, typed, { target: 'etf mutation', seed: SEED, i });
    expectTyped((b) => unpack(b), input, typed, { target: 'etf unpack', seed: SEED, i });
  }
});

test(`ETF: random bytes after 131 end in DecodeError or a term (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(2);
  const n = fuzzIterations(20_000);
  const tags = [70, 77, 80, 82, 88, 89, 90, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119];
  for (let i = 0; i < n; i++) {
    // Mostly a valid tag first, so the random bytes reach the tag's own parsing.
    const body = rng.bytes(rng.int(48));
    if (body.length > 0 && rng.bool(0.8)) body[0] = rng.pick(tags);
    const input = Buffer.concat([Buffer.of(131), body]);
    expectTyped((b) => decodeEveryWay(b, OPTION_SETS[i % OPTION_SETS.length]), input, typed, { target: 'etf random', seed: SEED, i });
  }
});

const FF = 'ffffffff';
/** Hostile length claims: each must fail fast with a DecodeError, before allocating for the claim. */
const CLAIMS: [string, Buffer][] = [
  ['LIST_EXT of 2^32-1 elements', hex(`83 6c ${FF} 61 01 6a`)],
  ['LARGE_TUPLE_EXT of 2^32-1 elements', hex(`83 69 ${FF} 61 01`)],
  ['MAP_EXT of 2^32-1 pairs', hex(`83 74 ${FF} 61 01 61 02`)],
  ['BINARY_EXT of 4 GiB', hex(`83 6d ${FF} 00 01 02`)],
  ['BIT_BINARY_EXT of 4 GiB', hex(`83 4d ${FF} 07 00`)],
  ['LARGE_BIG_EXT of 2^32-1 digits', hex(`83 6f ${FF} 00 01 02`)],
  ['STRING_EXT of 65535 bytes', hex('83 6b ffff 61 62')],
  ['ATOM_UTF8_EXT of 65535 bytes', hex('83 76 ffff 61')],
  ['COMPRESSED claiming 4 GiB', Buffer.concat([hex(`83 50 ${FF}`), deflateSync(Buffer.alloc(1024))])],
  ['COMPRESSED claiming 64 MiB + 1', Buffer.concat([hex('83 50 04000001'), deflateSync(hex('6a'))])],
  ['list of lists claiming 2^32-1 inside a list', hex(`83 6c 00000002 6c ${FF} 6a 6a`)],
  ['NEW_FUN_EXT with a size of 4 GiB', hex(`83 70 ${FF} 00`)],
  ['V4_PORT_EXT cut short', hex('83 78 64 0001 61')],
  ['NEWER_REFERENCE_EXT of 65535 words', hex('83 5a ffff 64 0001 61 00000001')],
];

test(`ETF: hostile length claims fail with DecodeError and allocate nothing big (seed ${SEED})`, async () => {
  for (const [what, input] of CLAIMS) {
    const cost = await memoryCost(() => {
      for (const opts of OPTION_SETS) {
        assert.throws(() => decode(input, opts), (e: unknown) => e instanceof DecodeError, what);
      }
    });
    assert.ok(cost.peakGrowth < 64 * MiB, `${what}: peak RSS grew ${cost.peakGrowth} bytes`);
    assert.ok(cost.retained < 8 * MiB, `${what}: retained ${cost.retained} bytes`);
  }
});

/** zlib of `mib` MiB of zeros, made 1 MiB at a time (so building it does not raise the peak RSS). */
async function zeroBomb(mib: number): Promise<Buffer> {
  const z = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => z.once('end', resolve).once('error', reject));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < mib; i++) if (!z.write(zeros)) await new Promise((r) => z.once('drain', r));
  z.end();
  await done;
  return Buffer.concat(out);
}

test('ETF: a zip bomb (1 MiB declared, 256 MiB of zeros inside) stops at the declared size', async () => {
  const bomb = Buffer.concat([hex('83 50 00100000'), await zeroBomb(256)]);
  assert.ok(bomb.length < 512 * 1024, `the bomb is small on the wire (${bomb.length} bytes)`);
  const cost = await memoryCost(() => {
    assert.throws(() => decode(bomb), (e: unknown) => e instanceof DecodeError && e.code === 'BEAM_ERR_ETF_BAD_COMPRESSED');
  });
  assert.ok(cost.peakGrowth < 64 * MiB, `peak RSS grew ${cost.peakGrowth} bytes`);
});

test('ETF: a zip bomb declaring 4 GiB is refused before inflating; one under maxInflatedSize stops at the limit', async () => {
  const zeros = await zeroBomb(128);
  const cost = await memoryCost(() => {
    assert.throws(
      () => decode(Buffer.concat([hex(`83 50 ${FF}`), zeros])),
      (e: unknown) => e instanceof LimitError && e.code === 'BEAM_ERR_ETF_LIMIT_INFLATED_SIZE',
    );
    // Declares 4 MiB under a 4 MiB limit, holds 128 MiB: inflation stops at 4 MiB.
    assert.throws(
      () => decode(Buffer.concat([hex('83 50 00400000'), zeros]), { limits: { maxInflatedSize: 4 * MiB } }),
      (e: unknown) => e instanceof DecodeError && e.code === 'BEAM_ERR_ETF_BAD_COMPRESSED',
    );
  });
  assert.ok(cost.peakGrowth < 64 * MiB, `peak RSS grew ${cost.peakGrowth} bytes`);
});

/** `levels` nested containers around nil, built as one buffer. */
function nested(levels: number, open: Buffer, close: Buffer): Buffer {
  const b = Buffer.allocUnsafe(1 + levels * (open.length + close.length) + 1);
  let at = 0;
  b[at++] = 131;
  for (let i = 0; i < levels; i++) at += open.copy(b, at);
  b[at++] = 106;
  for (let i = 0; i < levels; i++) at += close.copy(b, at);
  return b.subarray(0, at);
}

test('ETF: a million levels of nesting (lists, tuples, maps, improper tails, compressed) end in LimitError maxDepth', async () => {
  const M = 1_000_000;
  const cases: [string, Buffer][] = [
    ['lists', nested(M, hex('6c 00000001'), hex('6a'))],
    ['small tuples', nested(M, hex('68 01'), Buffer.alloc(0))],
    ['maps (as values)', nested(M, hex('74 00000001 61 00'), Buffer.alloc(0))],
    ['list tails (one-element lists chained through their tails)', nested(M, hex('6c 00000001 61 01'), Buffer.alloc(0))],
  ];
  const inner = nested(M, hex('68 01'), Buffer.alloc(0)).subarray(1);
  cases.push(['compressed tuples', Buffer.concat([hex('83 50'), Buffer.from(new Uint32Array([0]).buffer), deflateSync(inner)])]);
  cases[cases.length - 1][1].writeUInt32BE(inner.length, 2);
  const cost = await memoryCost(() => {
    for (const [what, input] of cases) {
      for (const opts of [{}, { mapsAsObjects: true, atomsAsStrings: true }]) {
        assert.throws(() => decode(input, opts), (e: unknown) => e instanceof LimitError && e.limit === 'maxDepth', what);
      }
      assert.throws(() => unpack(input), (e: unknown) => e instanceof LimitError, `${what} (unpack)`);
    }
  });
  assert.ok(cost.retained < 16 * MiB, `retained ${cost.retained} bytes`);
});

test('ETF: 9 999 levels (under the default maxDepth) decode without blowing the stack', () => {
  const t = decode(nested(9_999, hex('6c 00000001'), hex('6a')));
  let d = 0;
  for (let x: unknown = t; Array.isArray(x) && x.length > 0; x = x[0]) d++;
  assert.equal(d, 9_999);
});

/** A random JS value, hostile ones included (NaN, symbols, functions, cycles, huge bigints, class instances). */
function jsValue(rng: Rng, depth: number): unknown {
  const leaves: (() => unknown)[] = [
    () => rng.int(1000) - 500,
    () => (rng.next() - 0.5) * 1e300,
    () => rng.pick([NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 64]),
    () => BigInt(rng.int(1 << 30)) << BigInt(rng.int(3000)),
    () => rng.bytes(rng.int(20)).toString('latin1'),
    () => rng.bytes(rng.int(20)),
    () => atom(rng.bytes(rng.int(300)).toString('latin1')),
    () => rng.pick([undefined, null, true, false, Symbol('s'), () => 1, new Date(0), /x/, new Error('e')]),
  ];
  if (depth <= 0 || rng.bool(0.4)) return rng.pick(leaves)();
  const kids = () => Array.from({ length: rng.int(4) }, () => jsValue(rng, depth - 1));
  switch (rng.int(5)) {
    case 0:
      return kids();
    case 1:
      return new Tuple(kids() as never[]);
    case 2:
      return new Map(kids().map((k, i) => [k, i] as const));
    case 3:
      return Object.fromEntries(kids().map((v, i) => [`k${i}`, v]));
    default: {
      const a: unknown[] = kids();
      a.push(a); // a cycle
      return a;
    }
  }
}

test(`ETF encode/pack: random and hostile JS values give a Buffer that decodes, or an EncodeError (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(3);
  const n = fuzzIterations(5_000);
  let encoded = 0;
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const v = jsValue(rng, 4);
    for (const [name, f] of [['encode', encode], ['pack', pack]] as const) {
      let b: Buffer;
      try {
        b = (f as (x: unknown) => Buffer)(v);
      } catch (e) {
        if (e instanceof EncodeError) {
          refused++;
          continue;
        }
        throw untyped(e, Buffer.alloc(0), { target: `etf ${name}`, seed: SEED, i });
      }
      try {
        decode(b);
      } catch (e) {
        throw untyped(e, b, { target: `etf ${name} output does not decode`, seed: SEED, i });
      }
      encoded++;
    }
  }
  assert.ok(encoded > 0 && refused > 0, `${encoded} encoded, ${refused} refused: both paths reached`);
});
