/**
 * OTP 29 native records against a real OTP 29 (a module compiled with `-record #point{...}.`):
 *  - the codec: records OTP 29 wrote (in lists, maps, as map keys, nested, 1 MiB inside, exported,
 *    compressed, minor_version 1) decode and re-encode byte for byte; records beamnode encodes are
 *    =:= the ones the compiled module builds, and term_to_binary gives our bytes back; our term
 *    order is erts' (small-map key order);
 *  - the distribution (a Node with default options: atom cache and fragments on): rpc results,
 *    messages both ways, records in maps, through the public API (src/index.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  atom, compareTerms, decode, encode, Float, ImproperList, NativeRecord, Pid, termEquals, Tuple, tuple, type Term,
} from '../../src/etf/index.js';
import { otpMatrix, writeErlFiles } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

const NREC = readFileSync(join(fileURLToPath(new URL('.', import.meta.url)), 'etf', 'nrec.erl'), 'utf8');
const withRecords = otpMatrix().filter((o) => Number(o.release) >= 29);
const point = (x: Term, y: Term) => NativeRecord.of('nrec', 'point', { x, y });
const empty = NativeRecord.of('nrec', 'empty', {});

/** The JS twin of nrec:samples(). */
function samples(): Term[] {
  const p = point(1, 2);
  const exported = new NativeRecord(atom('nrec'), atom('point'), [atom('x'), atom('y')], [3, 4], true);
  return [
    p, empty, point(new Float(1), -0),
    point(point(0, 0), [point(0, p)]),
    point(2 ** 40, -(2n ** 70n)), point('héllo', atom('ĉaŭ')),
    point(Buffer.alloc(1 << 20, 7), Array.from({ length: 2000 }, (_, i) => i + 1)),
    new Map<Term, Term>([[p, p], [tuple(p), [p]], [atom('a'), empty]]),
    new Map<Term, Term>(Array.from({ length: 40 }, (_, i) => [point(i + 1, 0), i + 1] as [Term, Term])),
    tuple(p, [p]), new ImproperList([p], p), exported,
  ];
}

if (withRecords.length === 0) {
  test('native records need an OTP 29 root in the matrix', { skip: process.env.CI === 'true' ? false : 'no OTP ≥ 29 here' }, () => {
    assert.fail('no OTP ≥ 29 in the matrix (BEAMNODE_OTP / .ci/prepare-otp-roots)');
  });
}

for (const otp of withRecords) {
  describe(`native records with ${otp.label}`, () => {
    let p: Peers;
    let dir: ReturnType<typeof writeErlFiles>;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erlr${otp.release}`, jsAlive: `jsr${otp.release}` });
      dir = writeErlFiles(otp, { 'nrec.erl': NREC });
      const r = await p.erl.evalText(`{ok, nrec, NB_} = compile:file("${dir.erlPath}/nrec.erl", [binary, report]), code:load_binary(nrec, "nrec.erl", NB_)`, 60_000);
      assert.equal(r, '{module,nrec}');
    });
    after(async () => {
      await p?.stop();
      dir?.remove();
    });

    test('what OTP 29 writes decodes and re-encodes byte for byte (plain, minor 1, compressed)', async () => {
      const n = Number(await p.erl.evalText(`nrec:write_samples("${dir.erlPath}/s.bin")`, 60_000));
      const f = readFileSync(join(dir.hostPath, 's.bin'));
      let at = 0;
      let count = 0;
      const records = new Set<string>();
      while (at < f.length) {
        const minor = f[at] as 1 | 2;
        const level = f[at + 1];
        const len = f.readUInt32BE(at + 2);
        const bytes = f.subarray(at + 6, at + 6 + len);
        at += 6 + len;
        const t = decode(bytes);
        assert.deepEqual(encode(t, { minorVersion: minor, compressed: level }), bytes, `sample ${Math.floor(count / 3)} minor ${minor} level ${level}`);
        if (t instanceof NativeRecord) records.add(`${t.module}:${t.name}/${t.exported}`);
        count++;
      }
      assert.equal(count, n);
      assert.deepEqual([...records].sort(), ['nrec:empty/false', 'nrec:point/false', 'nrec:point/true']);
    });

    test('records beamnode encodes are =:= those the compiled module builds, byte for byte', async () => {
      const ours = samples();
      for (const minor of [1, 2] as const) {
        const chunks: Buffer[] = [];
        for (const t of ours) {
          const b = encode(t, { minorVersion: minor });
          const h = Buffer.alloc(4);
          h.writeUInt32BE(b.length);
          chunks.push(h, b);
        }
        writeFileSync(join(dir.hostPath, `in${minor}.bin`), Buffer.concat(chunks));
        const r = await p.erl.evalText(`lists:usort(nrec:check("${dir.erlPath}/in${minor}.bin", ${minor}))`, 60_000);
        // maps of > 32 keys are in erl's hash order, ours insertion order: equal, not the same bytes
        assert.equal(r, '[true,{9,reencoded_differently}]', `minor ${minor}`);
      }
    });

    test("beamnode's term order is erts' (a small map's key order) for records, tuples and maps", async () => {
      const mk = (m: string, r: string, exported: boolean, fs: string[], vs: Term[]) => new NativeRecord(atom(m), atom(r), fs.map(atom), vs, exported);
      const items: Term[] = [
        mk('m', 'r', false, ['z'], [0]), mk('m', 'r', false, ['x', 'y'], [0, 0]), mk('m', 'r', true, ['a'], [0]), mk('m', 'r', true, ['a', 'b'], [0, 0]),
        mk('m', 'r', false, ['a'], [5]), mk('m', 'r', false, ['b'], [1]), mk('m', 'r', false, [], []), mk('aa', 'zz', false, [], []), mk('zz', 'aa', false, [], []),
        mk('m', 'r', false, ['a'], [2.5]), mk('m', 'r', false, ['a'], [2]), mk('m', 'a', true, [], []), tuple(1, 2), new Map([[1, 2]]), point(1, 2),
      ];
      const ours = [...items].sort(compareTerms);
      const theirs = decode((await p.erl.eval(`nrec:sorted(binary_to_term(base64:decode(<<"${encode(items).toString('base64')}">>)))`)).etf);
      assert.ok(termEquals(theirs, ours), `erl: ${JSON.stringify(theirs, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    });

    test('rpc results, messages both ways and maps carry records (default Node: atom cache, fragments)', async () => {
      const erl = atom(p.erlName);
      assert.ok(termEquals(await p.node.rpc(erl, 'nrec', 'point', [1, 2]), point(1, 2)));
      assert.ok(termEquals(await p.node.rpc(erl, 'nrec', 'point', [2 ** 40, point(3, 4)]), point(2 ** 40, point(3, 4))));
      const all = (await p.node.rpc(erl, 'nrec', 'samples', [])) as Term[];
      assert.ok(termEquals(all, samples()), 'nrec:samples() through rpc');
      // erl -> a JS process -> erl: the echo checks =:= on the erl side
      const echo = p.node.spawn();
      echo.register('rececho');
      void (async () => {
        for await (const m of echo) {
          if (m instanceof Tuple && m.elements[0] instanceof Pid) await echo.send(m.elements[0], tuple(atom('echoed'), m.elements[1]));
        }
      })();
      const r = await p.erl.evalText(
        `S_ = nrec:samples(), [begin {rececho, '${p.jsName}'} ! {self(), T_}, receive {echoed, T2_} -> T2_ =:= T_ after 10000 -> timeout end end || T_ <- S_]`,
        60_000,
      );
      assert.equal(r, `[${samples().map(() => 'true').join(',')}]`);
      // JS -> erl: records we made, in a message and as map keys, =:= what the module builds
      const me = p.node.spawn();
      await p.erl.evalText(`register(recsink, self())`);
      await me.send(tuple(atom('recsink'), erl), new Map<Term, Term>([[point(1, 2), samples()]]));
      const got = await p.erl.evalText(`receive M_ -> M_ =:= #{nrec:point(1, 2) => nrec:samples()} after 10000 -> timeout end`, 30_000);
      assert.equal(got, 'true');
    });
  });
}
