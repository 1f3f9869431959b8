/**
 * Real traffic through a Node started with DEFAULT options (atom cache and fragments on: the
 * distribution header hot path), and again in pass-through mode (both off), against every OTP of
 * the matrix, through the public API only (src/index.ts):
 *  - erl → JS → erl: erl makes ≥ 10 000 seeded terms (every kind, boundary integers, timestamps,
 *    mid-range integers, UTF-8 of every width, records on 29) plus big ones (100 000-element
 *    lists, 10 000-key maps, 1 MiB binaries, 3 000 deep), sends each to a JS process, which
 *    echoes it; erl checks each echo =:= what it sent (beamdiff:erl_to_js/5);
 *  - JS → erl → JS: ≥ 10 000 generated terms (a tenth from fast-check, the rest from a quick
 *    seeded generator of the same mix) plus big ones sent from JS; erl's sink checks each
 *    =:= the term an Erlang expression of it builds (every 25th, and the big ones) or
 *    binary_to_term of our encode() of it (the others), and sends it back; JS checks the echo
 *    equals what it sent.
 * Terms and bytes per direction, mode and OTP are printed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { atom, encode, Node, Pid, termEquals, Tuple, tuple, type Term } from '../../src/index.js';
import { ErlNode, otpMatrix, startEpmd, writeErlFiles, type Epmd, type Otp } from '../support/otp.js';
import { bigTerms, diffTermArb, exprBytes, exprFor, quickTerms, Tally } from './etf/diff-harness.js';

const BEAMDIFF = readFileSync(join(fileURLToPath(new URL('.', import.meta.url)), 'etf', 'beamdiff.erl'), 'utf8');
const SEED = Number(process.env.BEAMNODE_FUZZ_SEED ?? 20251205);
/** Terms each way with the default options; pass-through mode runs a fifth of them. */
const N = Number(process.env.BEAMNODE_ECHO_TERMS ?? 10_000);
const WINDOW = 200;

interface Rig {
  epmd: Epmd;
  erl: ErlNode;
  erlName: string;
  node: Node;
  dir: ReturnType<typeof writeErlFiles>;
  stop(): Promise<void>;
}

async function startRig(otp: Otp, tag: string, hot: boolean): Promise<Rig> {
  const cookie = `echo_${process.pid}_${tag}`;
  const erlName = `erl${tag}@127.0.0.1`;
  const epmd = await startEpmd();
  const dir = writeErlFiles(otp, { 'beamdiff.erl': BEAMDIFF });
  let erl: ErlNode | undefined;
  let node: Node | undefined;
  const stop = async () => {
    await node?.stop();
    await erl?.stop();
    await epmd.stop();
    dir.remove();
  };
  try {
    erl = await ErlNode.start(otp, { name: erlName, cookie, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
    const r = await erl.evalText(`{ok, beamdiff, B_} = compile:file("${dir.erlPath}/beamdiff.erl", [binary, report]), code:load_binary(beamdiff, "beamdiff.erl", B_)`, 60_000);
    assert.equal(r, '{module,beamdiff}');
    // default options, except where the mode turns the hot path off
    node = await Node.start({
      name: `js${tag}@127.0.0.1`, cookie, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' },
      ...(hot ? {} : { atomCache: false, fragments: false }),
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { epmd, erl, erlName, node, dir, stop };
}

for (const otp of otpMatrix()) {
  const release = Number(otp.release);
  for (const hot of [true, false]) {
    const mode = hot ? 'default options (atom cache + fragments)' : 'pass-through';
    const count = hot ? N : Math.ceil(N / 5);
    describe(`Node echo of generated terms with ${otp.label}, ${mode}`, { skip: !hot && process.env.BEAMNODE_ECHO_HOT_ONLY ? 'BEAMNODE_ECHO_HOT_ONLY' : false }, () => {
      let rig: Rig;
      const tally = new Tally();
      const tag = `${release}${hot ? 'h' : 'p'}`;
      before(async () => {
        rig = await startRig(otp, tag, hot);
      });
      after(async () => {
        await rig?.stop();
        for (const l of tally.lines(`# ${otp.label} ${mode}`)) console.log(l);
      });

      test(`${otp.label} ${mode}: ${count} erl terms and the big ones come back =:= through a JS process`, async () => {
        const echo = rig.node.spawn();
        echo.register('echo');
        void (async () => {
          for await (const m of echo) {
            if (m instanceof Tuple && m.elements.length === 3 && m.elements[0] instanceof Pid) {
              await echo.send(m.elements[0], tuple(atom('echoed'), m.elements[1], m.elements[2]));
            }
          }
        })();
        const js = rig.node.name;
        const r = await rig.erl.evalText(`beamdiff:erl_to_js({echo, '${js}'}, ${SEED}, ${count}, true, ${WINDOW})`, 900_000);
        const m = /^\{ok,(\d+)\}$/.exec(r);
        assert.ok(m, `erl: ${r.slice(0, 2000)}`);
        tally.add('erl→js→erl', Number(m[1]), count + 8);
        assert.ok(Number(m[1]) > 2 << 20, 'the big terms went through');
      });

      test(`${otp.label} ${mode}: ${count} JS terms and the big ones: erl checks each =:= and echoes it`, async () => {
        await rig.erl.evalText(`register(beamsink, spawn(fun beamdiff:sink/0))`);
        const me = rig.node.spawn();
        const sink = tuple(atom('beamsink'), atom(rig.erlName));
        // fast-check's richer mix for a tenth, a quick seeded generator for the rest (fc.sample is slow)
        const rich = Math.ceil(count / 10);
        const terms: Term[] = [
          ...fc.sample(diffTermArb(release), { numRuns: rich, seed: SEED }), ...quickTerms(SEED, count - rich, release), ...bigTerms(SEED, release),
        ];
        const big = count;
        const failures: string[] = [];
        let bytes = 0;
        for (let at = 0; at < terms.length; at += WINDOW) {
          const batch = terms.slice(at, at + WINDOW);
          for (const [k, t] of batch.entries()) {
            const i = at + k;
            const judge = i % 25 === 0 || i >= big ? tuple(atom('expr'), Buffer.concat(exprBytes(exprFor('encode', t)))) : tuple(atom('etf'), encode(t));
            await me.send(sink, tuple(me.pid, i, judge, t));
            bytes += encode(t).length;
          }
          for (const [k, t] of batch.entries()) {
            const i = at + k;
            const reply = (await me.receive({ timeout: 60_000 })) as Tuple;
            assert.equal(reply.elements[1], i, 'answers come in order');
            if (reply.elements[2] !== true && failures.length < 5) failures.push(`#${i}: erl says ${JSON.stringify(reply.elements[2], (_, v) => (typeof v === 'bigint' ? `${v}n` : v)).slice(0, 400)}`);
            else if (!termEquals(reply.elements[3], t) && failures.length < 5) failures.push(`#${i}: the echo differs`);
          }
        }
        assert.deepEqual(failures, []);
        tally.add('js→erl→js', bytes, terms.length);
      });
    });
  }
}
