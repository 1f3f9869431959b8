/**
 * The source tree's shape, checked: which layer may import which (DESIGN: arrows only point down
 * the list), no runtime import cycles between files, and folders and files small enough to read.
 * `import type` does not count as a dependency at run time, but it still may not point up a layer.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** What each layer may import besides itself. `errors` is src/errors.ts, the shared error base. */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  etf: ['errors'],
  epmd: ['errors'],
  'dist/protocol': ['errors', 'etf', 'dist'],
  'dist/runtime': ['errors', 'etf', 'dist'],
  'dist/net': ['errors', 'etf', 'epmd', 'dist', 'dist/protocol'],
  'dist/node': ['errors', 'etf', 'epmd', 'dist', 'dist/protocol', 'dist/net', 'dist/runtime'],
  // src/dist/*.ts: the shared dist errors and the `wire` barrel for tools below the Node.
  dist: ['errors', 'etf', 'dist/protocol', 'dist/net'],
  discovery: ['errors', 'etf'],
  probe: ['errors', 'etf', 'epmd', 'dist', 'dist/protocol', 'dist/net', 'dist/node', 'dist/runtime', 'discovery'],
  lint: ['errors', 'discovery'],
  emulation: ['errors', 'etf', 'epmd', 'dist', 'dist/protocol', 'dist/net', 'dist/node', 'dist/runtime', 'discovery', 'probe'],
  cli: ['errors', 'etf', 'epmd', 'dist', 'dist/protocol', 'dist/net', 'dist/node', 'dist/runtime', 'discovery', 'probe', 'lint', 'emulation'],
  index: ['errors', 'etf', 'epmd', 'dist', 'dist/protocol', 'dist/net', 'dist/node', 'dist/runtime', 'discovery', 'probe', 'lint'],
};
const MAX_FILES_PER_FOLDER = 14;
const MAX_LINES_PER_FILE = 650;
/** Files known to be longer, each with its bound so it cannot grow unseen (none now). */
const KNOWN_LONG: Record<string, number> = {};

function sources(dir = SRC, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(relative(SRC, p).split(sep).join('/'));
  }
  return out;
}

/** The layer of a file: its top folder, or dist/<sub> inside src/dist. */
function layerOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (parts[0] === 'dist' && parts.length > 2) return `dist/${parts[1]}`;
  // Deeper folders belong to their top layer (etf/…, lint/rules, probe/watch, …).
  return parts[0]!;
}

interface Import { target: string; typeOnly: boolean }

const IMPORT = /^(?:import|export)(\s+type)?\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'|^import\s+'(\.{1,2}\/[^']+)'/gms;
const DYNAMIC = /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const resolve = (spec: string) => normalize(join(dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts');
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) out.push({ target: resolve(m[2] ?? m[3]!), typeOnly: m[1] !== undefined });
  // A dynamic import loads at run time but not at module evaluation: a layer edge, never a cycle.
  for (const m of text.matchAll(DYNAMIC)) out.push({ target: resolve(m[1]!), typeOnly: true });
  return out;
}

const files = sources();

test('every import points down the layers', () => {
  const bad: string[] = [];
  for (const f of files) {
    const from = layerOf(f);
    const allowed = ALLOWED[from];
    assert.ok(allowed, `src/${f}: layer "${from}" is not in the layer table of this test`);
    for (const { target } of importsOf(f)) {
      const to = layerOf(target);
      if (to !== from && !allowed.includes(to)) bad.push(`src/${f} (${from}) imports src/${target} (${to})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('every relative import names a file that exists', () => {
  const set = new Set(files);
  const missing = files.flatMap((f) => importsOf(f).filter((i) => !set.has(i.target)).map((i) => `src/${f} -> ${i.target}`));
  assert.deepEqual(missing, []);
});

test('no runtime import cycle between source files', () => {
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => !i.typeOnly).map((i) => i.target)]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    state.set(f, 'open');
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 'open') cycles.push([...path.slice(path.indexOf(t)), t].join(' -> '));
      else if (!state.has(t)) visit(t, [...path, t]);
    }
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f, [f]);
  assert.deepEqual(cycles, []);
});

test(`no folder of src holds more than ${MAX_FILES_PER_FOLDER} files, no file more than ${MAX_LINES_PER_FILE} lines`, () => {
  const perFolder = new Map<string, number>();
  for (const f of files) perFolder.set(dirname(f), (perFolder.get(dirname(f)) ?? 0) + 1);
  const crowded = [...perFolder].filter(([, n]) => n > MAX_FILES_PER_FOLDER).map(([d, n]) => `src/${d}: ${n} files`);
  const long = files
    .map((f) => [f, readFileSync(join(SRC, f), 'utf8').split('\n').length] as const)
    .filter(([f, n]) => n > (KNOWN_LONG[f] ?? MAX_LINES_PER_FILE))
    .map(([f, n]) => `src/${f}: ${n} lines`);
  assert.deepEqual([...crowded, ...long], []);
});
