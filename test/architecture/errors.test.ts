/**
 * The error taxonomy, checked: every `BEAM_ERR_*` code written in src belongs to exactly one
 * class (the closed code unions of the layers' errors.ts files), every such code is thrown
 * somewhere, and docs/errors.md documents each one with its class; and `instanceof` holds across
 * two copies of the package (the `Symbol.for('beamnode.error')` brand).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

function sources(dir = SRC, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = sources().map((p) => ({ path: relative(ROOT, p).split(sep).join('/'), text: readFileSync(p, 'utf8') }));
const errorFiles = files.filter((f) => /(^|\/)errors\.ts$/.test(f.path));

/** code → class, from `export type XErrorCode = | 'A' | 'B';` and `declare readonly code: 'C'` in each class. */
function codeOwners(): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  const own = (code: string, cls: string) => owners.set(code, [...(owners.get(code) ?? []), cls]);
  for (const f of errorFiles) {
    const text = f.text.replace(/\/\/[^\n]*/g, ''); // comments may hold anything
    const single = new Set<string>();
    // A class that narrows its code to one literal owns it (KubernetesAccessError, CallError, …).
    for (const block of text.split('export class ').slice(1)) {
      const m = /^(\w+)[^]*?declare readonly code: '(BEAM_ERR_[A-Z0-9_]+)'/.exec(block);
      if (!m) continue;
      own(m[2]!, m[1]!);
      single.add(m[2]!);
    }
    for (const m of text.matchAll(/export type (\w+)ErrorCode =([^;]+);/g)) {
      for (const c of m[2]!.matchAll(/'(BEAM_ERR_[A-Z0-9_]+)'/g)) if (!single.has(c[1]!)) own(c[1]!, `${m[1]}Error`);
    }
  }
  return owners;
}

test('every BEAM_ERR code in src belongs to exactly one class, and every declared code is thrown', () => {
  const owners = codeOwners();
  assert.ok(owners.size > 50, `only ${owners.size} codes found: the parser of this test is broken`);
  const shared = [...owners].filter(([, cls]) => cls.length > 1).map(([c, cls]) => `${c}: ${cls.join(', ')}`);
  assert.deepEqual(shared, [], 'a code of two classes');
  const used = new Map<string, string[]>();
  for (const f of files) {
    for (const m of f.text.matchAll(/'(BEAM_ERR_[A-Z0-9_]+)'/g)) used.set(m[1]!, [...(used.get(m[1]!) ?? []), f.path]);
  }
  // LimitError builds its codes from the limit's name.
  for (const c of ['BEAM_ERR_ETF_LIMIT_DEPTH', 'BEAM_ERR_ETF_LIMIT_TERMS', 'BEAM_ERR_ETF_LIMIT_INFLATED_SIZE']) used.set(c, ['src/etf/errors.ts']);
  const stray = [...used.keys()].filter((c) => !owners.has(c));
  assert.deepEqual(stray, [], 'codes used in src that no class declares');
  // Thrown = written somewhere besides the union that declares it.
  const unthrown = [...owners.keys()].filter((c) => (used.get(c) ?? []).filter((p) => !errorFiles.some((f) => f.path === p) || (p === 'src/etf/errors.ts' && c.includes('_LIMIT_'))).length === 0);
  const thrownInErrorsFile = new Set(['BEAM_ERR_TIMEOUT', 'BEAM_ERR_PROCESS_EXITED', 'BEAM_ERR_CALL_EXIT', 'BEAM_ERR_RPC', 'BEAM_ERR_K8S_FORBIDDEN', 'BEAM_ERR_SPAWN', 'BEAM_ERR_QUEUE_OVERFLOW', 'BEAM_ERR_QUEUE_ENDED', 'BEAM_ERR_QUEUE_BUSY', 'BEAM_ERR_UNEXPECTED_REPLY']);
  assert.deepEqual(unthrown.filter((c) => !thrownInErrorsFile.has(c)), [], 'codes declared but never thrown');
});

test('every BEAM_ERR_ name written anywhere in src (comments, strings, HTTP bodies) is a code of a class or a documented HTTP code', () => {
  const owners = codeOwners();
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const http = new Set([...doc.split('## Codes in HTTP answers')[1]!.matchAll(/^\| `(BEAM_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
  assert.ok(http.has('BEAM_ERR_PROBE_PENDING'), 'the parser of this test reads the HTTP table');
  const unknown: string[] = [];
  for (const f of files) {
    // A name ending in `_` is a prefix (`BEAM_ERR_ETF_LIMIT_${…}`), not a code.
    for (const m of f.text.matchAll(/BEAM_ERR_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])/g)) {
      if (!owners.has(m[0]) && !http.has(m[0])) unknown.push(`${f.path}: ${m[0]}`);
    }
  }
  assert.deepEqual(unknown, [], 'names no class declares and docs/errors.md does not list');
});

test('docs/errors.md documents every code with its class, and nothing else', () => {
  const owners = codeOwners();
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `(BEAM_ERR_[A-Z0-9_]+)` \| `(\w+)` \| ([^|]+) \| ([^|]+) \|$/gm)) {
    assert.ok(!rows.has(m[1]!), `${m[1]} has two rows`);
    assert.ok(m[3]!.trim().length > 3 && m[4]!.trim().length > 0, `${m[1]}: when and what to do`);
    rows.set(m[1]!, m[2]!);
  }
  const missing = [...owners.keys()].filter((c) => !rows.has(c));
  assert.deepEqual(missing, [], 'codes without a row in docs/errors.md');
  const wrong = [...rows].filter(([c, cls]) => owners.has(c) && owners.get(c)![0] !== cls).map(([c, cls]) => `${c}: doc says ${cls}, src ${owners.get(c)![0]}`);
  assert.deepEqual(wrong, []);
  const stale = [...rows.keys()].filter((c) => !owners.has(c));
  assert.deepEqual(stale, [], 'rows for codes src does not have');
  assert.match(readFileSync(join(ROOT, 'README.md'), 'utf8'), /docs\/errors\.md/, 'README links the table');
});

test('instanceof holds across two copies of the package (Symbol.for brand), and not between unrelated classes', async () => {
  const url = pathToFileURL(join(SRC, 'errors.ts')).href;
  const a = (await import(url)) as typeof import('../../src/errors.js');
  const b = (await import(`${url}?copy=2`)) as typeof import('../../src/errors.js');
  assert.notEqual(a.TimeoutError, b.TimeoutError, 'two module instances');
  const e = new b.TimeoutError('call', 'call to x', 5);
  assert.ok(e instanceof a.TimeoutError);
  assert.ok(e instanceof a.BeamnodeError);
  assert.ok(e instanceof Error);
  assert.ok(!(new b.BeamnodeError('BEAM_ERR_X', 'x') instanceof a.TimeoutError));
  assert.equal(e.name, 'TimeoutError');
  // a subclass in another file, across copies too
  const d1 = (await import(pathToFileURL(join(SRC, 'dist/errors.ts')).href)) as typeof import('../../src/dist/errors.js');
  const d2 = (await import(`${pathToFileURL(join(SRC, 'dist/errors.ts')).href}?copy=2`)) as typeof import('../../src/dist/errors.js');
  const p = new d2.ProtocolError('BEAM_ERR_DIST_PROTOCOL', 'x');
  assert.ok(p instanceof d1.ProtocolError && p instanceof a.BeamnodeError && !(p instanceof d1.DistError));
  // a user's own subclass without a brand keeps ordinary instanceof
  class Mine extends a.TimeoutError {}
  assert.ok(new Mine('rpc', 'r', 1) instanceof Mine);
  assert.ok(!(new a.TimeoutError('rpc', 'r', 1) instanceof Mine));
});
