// The corpus (test/fixtures/lint/corpus/<set>/): manifests of clustered BEAM applications, written
// after what RabbitMQ, EMQX, VerneMQ, CouchDB, Livebook, MongooseIM, libcluster, gen_cluster and
// their Helm charts document, some correct and some with a real problem. Each set has an
// expected.json listing every finding it must give (rule, object, severity). Lint runs on every
// set; precision and recall are computed for errors and warnings separately and printed, and the
// test fails on any false alarm or miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { lintPaths, type Finding, type Severity } from '../../src/lint/index.js';

const CORPUS = fileURLToPath(new URL('../fixtures/lint/corpus/', import.meta.url));

interface Expected {
  about: string;
  findings: { rule: string; object: string; severity: Severity }[];
}

const sets = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const key = (f: { rule: string; object: string; severity: string }) => `${f.severity} ${f.rule} ${f.object}`;

interface Tally {
  tp: number;
  fp: string[];
  fn: string[];
}

async function run(set: string): Promise<{ found: Finding[]; expected: Expected }> {
  const dir = join(CORPUS, set);
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  return { found: (await lintPaths(files)).findings, expected };
}

/** Matches found against expected as multisets; what is left on either side is a false alarm or a miss. */
function compare(set: string, found: Finding[], expected: Expected, tally: Record<Severity, Tally>) {
  const left = found.map(key);
  for (const e of expected.findings) {
    const i = left.indexOf(key(e));
    if (i >= 0) {
      left.splice(i, 1);
      tally[e.severity].tp++;
    } else tally[e.severity].fn.push(`${set}: ${key(e)}`);
  }
  for (const k of left) tally[k.split(' ')[0] as Severity].fp.push(`${set}: ${k}`);
}

const ratio = (n: number, d: number) => (d === 0 ? 'n/a' : `${n}/${d} = ${(n / d).toFixed(3)}`);

test('the corpus is large and covers the products', () => {
  assert.ok(sets.length >= 20, `${sets.length} sets`);
  for (const p of ['rabbitmq', 'emqx', 'vernemq', 'couchdb', 'livebook', 'mongooseim', 'phoenix-libcluster-dns', 'phoenix-libcluster-dnssrv', 'phoenix-libcluster-kubernetes', 'gen-cluster', 'helm', 'replicationcontroller']) {
    assert.ok(sets.some((s) => s.includes(p)), p);
  }
  const clean = sets.filter((s) => (JSON.parse(readFileSync(join(CORPUS, s, 'expected.json'), 'utf8')) as Expected).findings.length === 0);
  assert.ok(clean.length >= 8 && clean.length <= sets.length - 8, `${clean.length} correct sets of ${sets.length}`);
});

test('lint on the corpus: no false alarm, no miss (precision and recall for errors and warnings)', async (t) => {
  const tally: Record<Severity, Tally> = { error: { tp: 0, fp: [], fn: [] }, warning: { tp: 0, fp: [], fn: [] }, info: { tp: 0, fp: [], fn: [] } };
  for (const set of sets) {
    const { found, expected } = await run(set);
    compare(set, found, expected, tally);
    for (const f of found) {
      assert.ok(f.message.length > 20 && f.fix.length > 10, `${set}: ${key(f)} has a message and a fix`);
      assert.doesNotMatch(f.message + f.fix, /not-a-secret-cookie|livebook-cluster-cookie|ledger_prod_cookie_2024|monster/, `${set}: no cookie value in findings`);
    }
  }
  for (const s of ['error', 'warning'] as const) {
    const { tp, fp, fn } = tally[s];
    t.diagnostic(`${s}s: precision ${ratio(tp, tp + fp.length)}, recall ${ratio(tp, tp + fn.length)} over ${sets.length} sets`);
  }
  for (const s of ['error', 'warning', 'info'] as const) {
    assert.deepEqual(tally[s].fp, [], `false ${s}s`);
    assert.deepEqual(tally[s].fn, [], `missed ${s}s`);
  }
  assert.ok(tally.error.tp >= 15 && tally.warning.tp >= 3, 'the corpus has real problems to find');
});
