/**
 * The codec against real OTP, on every release of the matrix:
 *  1. erl writes thousands of seeded random terms (every kind: pids, refs, ports, local and
 *     external funs, bitstrings, maps of >32 keys, Unicode atoms, -0.0, bignums, improper lists,
 *     deep nesting) with term_to_binary(T, [{minor_version, V}] (++ [{compressed, L}])); decode →
 *     encode must give the same bytes, compressed ones included.
 *  2. beamnode encodes fast-check terms; erl must binary_to_term them and term_to_binary them
 *     back to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { decode, encode } from '../../src/etf/index.js';
import { ImproperList, Tuple, type Term } from '../../src/etf/types.js';
import { termArbitrary } from '../etf/arbitraries.js';
import { ErlNode, otpMatrix, writeErlFiles } from '../support/otp.js';

const GEN_SRC = readFileSync(join(fileURLToPath(new URL('.', import.meta.url)), 'etf', 'etfgen.erl'), 'utf8');
const COUNT = 3000;

interface Rec {
  minor: 1 | 2;
  /** 0: plain; 1–9: term_to_binary's {compressed, Level} */
  level: number;
  bytes: Buffer;
}

function records(f: Buffer): Rec[] {
  const out: Rec[] = [];
  let p = 0;
  while (p < f.length) {
    const len = f.readUInt32BE(p + 2);
    out.push({ minor: f[p] as 1 | 2, level: f[p + 1], bytes: f.subarray(p + 6, p + 6 + len) });
    p += 6 + len;
  }
  return out;
}

async function withErl<T>(otp: (typeof otpMatrix extends () => (infer O)[] ? O : never), run: (erl: ErlNode, dir: { hostPath: string; erlPath: string }) => Promise<T>): Promise<T> {
  const dir = writeErlFiles(otp, { 'etfgen.erl': GEN_SRC });
  const erl = await ErlNode.start(otp);
  try {
    await erl.evalText(
      `{ok, etfgen, Bin} = compile:file("${dir.erlPath}/etfgen.erl", [binary, return_errors]), code:load_binary(etfgen, "etfgen.erl", Bin).`,
      60_000,
    );
    return await run(erl, dir);
  } finally {
    await erl.stop();
    dir.remove();
  }
}

/** The term's encoding with every map re-sorted in term order (order-insensitive comparison). */
function canonical(t: Term): Buffer {
  const fresh = (x: Term): Term => {
    if (x instanceof Map) return new Map([...x].map(([k, v]) => [fresh(k), fresh(v)] as [Term, Term]));
    if (Array.isArray(x)) return x.map(fresh);
    if (x instanceof Tuple) return new Tuple(x.elements.map(fresh));
    if (x instanceof ImproperList) return new ImproperList(x.elements.map(fresh), fresh(x.tail));
    return x;
  };
  return encode(fresh(t));
}

for (const otp of otpMatrix()) {
  test(`${otp.label}: decode → encode reproduces term_to_binary byte for byte`, async () => {
    await withErl(otp, async (erl, dir) => {
      const n = Number(await erl.evalText(`etfgen:gen("${dir.erlPath}/terms.bin", 20251123, ${COUNT}).`, 120_000));
      const recs = records(readFileSync(join(dir.hostPath, 'terms.bin')));
      assert.equal(recs.length, n);
      let plainExact = 0;
      let compressedExact = 0;
      let compressedTotal = 0;
      const failures: string[] = [];
      const tags = new Set<number>();
      for (const [i, r] of recs.entries()) {
        const term = decode(r.bytes);
        const again = encode(term, { minorVersion: r.minor, compressed: r.level });
        tags.add(r.bytes[1]);
        const exact = again.equals(r.bytes);
        if (r.level === 0) plainExact += exact ? 1 : 0;
        else {
          compressedTotal++;
          compressedExact += exact ? 1 : 0;
        }
        if (!exact && failures.length < 5) {
          failures.push(`#${i} minor ${r.minor} level ${r.level}: erl ${r.bytes.subarray(0, 48).toString('hex')} ours ${again.subarray(0, 48).toString('hex')}`);
        }
      }
      const plainTotal = recs.length - compressedTotal;
      console.log(`${otp.label}: ${plainExact}/${plainTotal} plain and ${compressedExact}/${compressedTotal} compressed terms byte-exact`);
      assert.deepEqual(failures, []);
      assert.equal(plainExact, plainTotal);
      assert.equal(compressedExact, compressedTotal);
      assert.ok(tags.has(80) && tags.has(104) && tags.has(88), 'the corpus holds compressed terms, tuples, pids');
    });
  });

  test(`${otp.label}: erl decodes what beamnode encodes and re-encodes it to the same bytes`, async () => {
    await withErl(otp, async (erl, dir) => {
      const terms = fc.sample(termArbitrary(Number(otp.release) >= 26), { numRuns: 3000, seed: 42 });
      const chunks: Buffer[] = [];
      const sent: { minor: 1 | 2; bytes: Buffer; term: Term }[] = [];
      for (const [i, t] of terms.entries()) {
        const minor = i % 3 === 0 ? 1 : 2;
        const bytes = encode(t, { minorVersion: minor });
        sent.push({ minor, bytes, term: t });
        const head = Buffer.alloc(5);
        head[0] = minor;
        head.writeUInt32BE(bytes.length, 1);
        chunks.push(head, bytes);
      }
      writeFileSync(join(dir.hostPath, 'in.bin'), Buffer.concat(chunks));
      await erl.evalText(`etfgen:check("${dir.erlPath}/in.bin", "${dir.erlPath}/out.bin").`, 120_000);
      const out = readFileSync(join(dir.hostPath, 'out.bin'));
      let p = 0;
      let same = 0;
      let reordered = 0;
      const failures: string[] = [];
      for (const [i, s] of sent.entries()) {
        const code = out[p];
        const len = out.readUInt32BE(p + 1);
        const back = out.subarray(p + 5, p + 5 + len);
        p += 5 + len;
        if (code === 1) same++;
        else if (code === 0 && Number(otp.release) >= 26 && canonical(decode(back)).equals(canonical(decode(s.bytes)))) {
          // OTP 26+ orders atom keys of small maps by atom-table index: same map, other order.
          reordered++;
        } else if (failures.length < 5) {
          failures.push(`#${i} ${code === 2 ? 'binary_to_term failed' : 'differs'}: ours ${s.bytes.toString('hex').slice(0, 120)} erl ${back.toString('hex').slice(0, 120)}`);
        }
      }
      console.log(`${otp.label}: ${same}/${sent.length} beamnode encodings round-trip through erl byte-exactly, ${reordered} more equal up to map key order`);
      assert.deepEqual(failures, []);
      if (Number(otp.release) < 26) assert.equal(same, sent.length);
    });
  });

  test(`${otp.label}: maps over 32 keys keep insertion order; erl reads them as the same map`, async () => {
    await withErl(otp, async (erl, dir) => {
      const m = new Map<Term, Term>();
      for (let i = 100; i > 0; i--) m.set(i, `v${i}`);
      const bytes = encode(m);
      assert.equal(bytes.readUInt32BE(2), 100);
      assert.equal(bytes[6], 97); // first key written is the first inserted, 100
      assert.equal(bytes[7], 100);
      const head = Buffer.alloc(5);
      head[0] = 2;
      head.writeUInt32BE(bytes.length, 1);
      writeFileSync(join(dir.hostPath, 'in.bin'), Buffer.concat([head, bytes]));
      await erl.evalText(`etfgen:check("${dir.erlPath}/in.bin", "${dir.erlPath}/out.bin").`);
      const out = readFileSync(join(dir.hostPath, 'out.bin'));
      assert.notEqual(out[0], 2, 'binary_to_term accepted it');
      const back = out[0] === 1 ? bytes : out.subarray(5);
      const theirs = decode(back) as Map<Term, Term>;
      assert.equal(theirs.size, 100);
      for (const [k, v] of m) assert.equal((theirs.get(k) as Buffer).toString(), v);
    });
  });
}
