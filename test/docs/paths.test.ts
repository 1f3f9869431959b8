/**
 * Every path into this repository that the docs, the sources' comments, the tests and the scripts
 * name (`src/…`, `test/…`, `docs/…`, `benchmarks/…`, `examples/…`, `scripts/…`) exists, so that
 * moving a file cannot leave a pointer to nowhere (docs/dist-wire.md still named the transport's
 * place before the layer move). `.js` in an import may name its `.ts` source.
 * Paths inside OTP (`lib/kernel/src/…`) are not ours and are skipped, as are globs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIRS = ['src', 'test', 'docs', 'benchmarks', 'examples', 'scripts', '.ci'];
const TOP = ['README.md', 'Dockerfile', 'package.json'];
const TEXT = /\.(ts|mjs|js|md|sh|yaml|yml|json)$|^Dockerfile$|^run$|^prepare-[\w-]+$/;
// Not preceded by a word character, `/`, `.` or `-`: `lib/stdlib/src/gen.erl` is OTP's, not ours.
const PATH = /(?<![\w/.-])(?:src|test|docs|benchmarks|examples|scripts)\/[\w./-]+\.(?:ts|mjs|js|md|erl|ex|exs|yaml|yml|json|sh)\b/g;
// Names a test invents on purpose (the package's files list is checked against them).
const INVENTED = new Set(['test/x.test.js', 'benchmarks/bench.mjs', 'src/x.ts', 'examples/k8s/x.yaml']);

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name === 'results') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (TEXT.test(name)) out.push(p);
  }
  return out;
}

test('every repository path named in docs, comments, tests and scripts exists', () => {
  const all = [...DIRS.filter((d) => existsSync(join(ROOT, d))).flatMap((d) => files(join(ROOT, d))), ...TOP.map((f) => join(ROOT, f))];
  assert.ok(all.length > 300, `only ${all.length} files read`);
  const missing: string[] = [];
  for (const file of all) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(PATH)) {
      const p = m[0].replace(/\.$/, '');
      if (INVENTED.has(p) || existsSync(join(ROOT, p)) || (p.endsWith('.js') && existsSync(join(ROOT, p.replace(/\.js$/, '.ts'))))) continue;
      missing.push(`${relative(ROOT, file).split(sep).join('/')}: ${p}`);
    }
  }
  assert.deepEqual(missing, [], 'paths that do not exist');
});
