/**
 * Differential tests of the codec, judged by the real BEAM on every OTP of the matrix
 * (25 on the host, 27 and 29 in roots), through every encode path we have (see
 * test/integration/etf/diff-harness.ts and beamdiff.erl):
 *  - JS → erl: fast-check terms (integers at every boundary, timestamps, floats incl. -0.0, UTF-8 of
 *    every width, pids/refs/ports, records on 29) and big ones (10^4–10^5 elements, ≥ 1 MiB,
 *    1 200 deep (3 000 from erl)), each through encode, encode minor 1, encodeInto (fresh and reused Writers at
 *    every fill level), pack and compressed; erl's binary_to_term must give a term =:= the one an
 *    Erlang expression of it builds (written without our encoder);
 *  - erl → JS: seeded terms made by erl (funs and every kind besides), big ones included; decode,
 *    then encode (and encodeInto) must give erl's bytes back exactly, compressed ones included.
 * One erl per OTP for the file. A bounded slice by default; BEAMNODE_DIFF_SECONDS=N keeps
 * making new batches for N seconds per OTP and direction (`npm run fuzz -- --seconds N beam`).
 * Terms and bytes per path and OTP are printed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { decode, encode, encodeInto, Writer, type Term } from '../../src/etf/index.js'; // the codec's entry point (beamnode/etf)
import { ErlNode, otpMatrix, writeErlFiles, type Otp } from '../support/otp.js';
import { bigTerms, diffTermArb, encodeBy, exprBytes, exprFor, PATHS, Tally, u32 } from './etf/diff-harness.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BEAMDIFF = readFileSync(join(HERE, 'etf', 'beamdiff.erl'), 'utf8');
const SECONDS = Number(process.env.BEAMNODE_DIFF_SECONDS ?? 0);
const BASE_SEED = Number(process.env.BEAMNODE_FUZZ_SEED ?? 20251205);
/** Small terms per JS batch and erl batch in the bounded slice. */
const JS_TERMS = 400;
const ERL_TERMS = 600;

/** Starts erl with beamdiff loaded; `dir` is a folder both sides read and write. */
async function startJudge(otp: Otp): Promise<{ erl: ErlNode; dir: ReturnType<typeof writeErlFiles> }> {
  const dir = writeErlFiles(otp, { 'beamdiff.erl': BEAMDIFF });
  const erl = await ErlNode.start(otp);
  try {
    const r = await erl.evalText(`{ok, beamdiff, B_} = compile:file("${dir.erlPath}/beamdiff.erl", [binary, report]), code:load_binary(beamdiff, "beamdiff.erl", B_)`, 60_000);
    assert.equal(r, '{module,beamdiff}');
  } catch (e) {
    await erl.stop();
    dir.remove();
    throw e;
  }
  return { erl, dir };
}

/** Keeps going for BEAMNODE_DIFF_SECONDS (at least one round). */
async function rounds(run: (round: number) => Promise<void>): Promise<number> {
  const until = Date.now() + SECONDS * 1000;
  let round = 0;
  do await run(round++);
  while (Date.now() < until);
  return round;
}

for (const otp of otpMatrix()) {
  const release = Number(otp.release);
  describe(`differential codec tests with ${otp.label}`, () => {
    let judge: Awaited<ReturnType<typeof startJudge>>;
    const tally = new Tally();
    before(async () => {
      judge = await startJudge(otp);
    });
    after(async () => {
      await judge?.erl.stop();
      judge?.dir.remove();
      for (const l of tally.lines(`# ${otp.label}`)) console.log(l);
    });

    test(`${otp.label}: JS → erl: every encode path gives bytes erl reads as the expected term`, async () => {
      const n = await rounds(async (round) => {
        const seed = BASE_SEED + round;
        const started = Date.now();
        const terms: Term[] = fc.sample(diffTermArb(release), { numRuns: JS_TERMS, seed });
        if (round % 4 === 0) terms.push(...bigTerms(seed, release));
        const chunks: Buffer[] = [];
        const sent: { path: number; bytes: number }[][] = [];
        for (const [i, t] of terms.entries()) {
          // one record per expression: pack's mapping may differ, then it gets its own
          const plain = exprFor('encode', t);
          const packed = exprFor('pack', t);
          const same = plain.text === packed.text && plain.blobs.every((b, k) => b.equals(packed.blobs[k]));
          const groups = same ? [[...PATHS]] : [PATHS.filter((p) => p !== 'pack'), ['pack' as const]];
          for (const group of groups) {
            chunks.push(...exprBytes(group[0] === 'pack' ? packed : plain), Buffer.from([group.length]));
            const row: { path: number; bytes: number }[] = [];
            for (const p of group) {
              const b = encodeBy(p, t, i + round * JS_TERMS);
              chunks.push(Buffer.from([PATHS.indexOf(p)]), u32(b.length), b);
              row.push({ path: PATHS.indexOf(p), bytes: b.length });
            }
            sent.push(row);
          }
        }
        const encoded = Date.now();
        writeFileSync(join(judge.dir.hostPath, 'js.bin'), Buffer.concat(chunks));
        chunks.length = 0;
        const failed = Number(await judge.erl.evalText(`beamdiff:check("${judge.dir.erlPath}/js.bin", "${judge.dir.erlPath}/js.out")`, 600_000));
        if (process.env.BEAMNODE_DIFF_TIMES) console.log(`# encode ${encoded - started} ms, erl ${Date.now() - encoded} ms`);
        const out = readFileSync(join(judge.dir.hostPath, 'js.out'));
        assert.equal(out.readUInt32BE(0), sent.length, 'erl read every record');
        const failures: string[] = [];
        for (let at = 8, k = 0; k < failed && failures.length < 5; k++) {
          const idx = out.readUInt32BE(at);
          const path = PATHS[out[at + 4]];
          const len = out.readUInt32BE(at + 5);
          const detail = decode(out.subarray(at + 9, at + 9 + len));
          at += 9 + len;
          failures.push(`round ${round} seed ${seed} record ${idx} path ${path}: ${JSON.stringify(detail, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)).slice(0, 600)}`);
        }
        assert.deepEqual(failures, []);
        for (const row of sent) for (const r of row) tally.add(`js→erl ${PATHS[r.path]}`, r.bytes);
      });
      console.log(`# ${otp.label}: JS → erl ${n} round(s)`);
      assert.ok(tally.get('js→erl encode').terms >= JS_TERMS);
    });

    test(`${otp.label}: erl → JS: decode then encode/encodeInto give erl's bytes back exactly`, async () => {
      const n = await rounds(async (round) => {
        const seed = BASE_SEED + 1000 + round;
        await judge.erl.evalText(`beamdiff:gen("${judge.dir.erlPath}/erl.bin", ${seed}, ${ERL_TERMS}, ${round % 4 === 0})`, 600_000);
        const f = readFileSync(join(judge.dir.hostPath, 'erl.bin'));
        const failures: string[] = [];
        let i = 0;
        for (let at = 0; at < f.length; i++) {
          const minor = f[at] as 1 | 2;
          const level = f[at + 1];
          const len = f.readUInt32BE(at + 2);
          const bytes = f.subarray(at + 6, at + 6 + len);
          at += 6 + len;
          let term: Term;
          try {
            term = decode(bytes);
          } catch (e) {
            if (failures.length < 5) failures.push(`seed ${seed} #${i}: decode: ${(e as Error).message} ${bytes.subarray(0, 64).toString('hex')}`);
            continue;
          }
          const again = encode(term, { minorVersion: minor, compressed: level });
          if (!again.equals(bytes) && failures.length < 5) {
            failures.push(`seed ${seed} #${i} minor ${minor} level ${level}: erl ${bytes.subarray(0, 64).toString('hex')} ours ${again.subarray(0, 64).toString('hex')}`);
          }
          tally.add(`erl→js decode+encode${level ? ' (compressed)' : ''}`, len);
          if (minor === 2 && level === 0) {
            // encodeInto writes UTF-8 atoms: minor 2's bytes, into a small writer at some fill level
            const cap = [16, 64, 4096][i % 3];
            const fill = i % (cap + 1);
            const w = new Writer(cap);
            w.bytes(Buffer.alloc(fill, 0xcc));
            encodeInto(w, term);
            if (!w.view().subarray(fill).equals(bytes) && failures.length < 5) failures.push(`seed ${seed} #${i}: encodeInto at fill ${fill} differs`);
            tally.add('erl→js decode+encodeInto', len);
          }
        }
        assert.deepEqual(failures, []);
      });
      console.log(`# ${otp.label}: erl → JS ${n} round(s)`);
      assert.ok(tally.get('erl→js decode+encode').terms >= ERL_TERMS / 2);
    });
  });
}
