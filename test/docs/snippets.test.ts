/**
 * The TypeScript snippets of README.md and docs/*.md that import from `beamnode`, `beamnode/etf`
 * or `../src/…` must compile: each becomes a module in a temporary folder, `beamnode` is mapped to
 * src/ (tsconfig `paths`), and tsc checks them all with the repository's compiler options (strict),
 * together with test/types/no-casts.ts (README's library code, typed without casts). README's
 * snippets hold no cast (`as T`): the guards and `validate` make them unnecessary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const IMPORTS = /from '(beamnode(\/etf)?|(\.\.\/)+src\/[^']*)'/;

interface Snippet {
  file: string;
  line: number;
  code: string;
}

function snippets(): Snippet[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)) {
      if (!IMPORTS.test(m[1]) || m[1].includes('import { … }')) continue; // api.md's placeholders
      out.push({ file, line: text.slice(0, m.index).split('\n').length, code: m[1] });
    }
  }
  return out;
}

test("README's TypeScript snippets need no casts", () => {
  const readme = snippets().filter((s) => s.file === 'README.md');
  assert.ok(readme.length > 0, 'README has TypeScript snippets');
  for (const s of readme) {
    s.code.split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, ''); // comments may say anything
      assert.doesNotMatch(code, /\bas\s+(?!const\b)[\w{[(]/, `README.md:${s.line + i + 1}: a cast: ${line.trim()}`);
    });
  }
});

test('every TypeScript snippet in README.md and docs/*.md that imports beamnode compiles', () => {
  const found = snippets();
  assert.ok(found.some((s) => s.file === 'docs/hot-path.md'), 'docs/hot-path.md has a snippet');
  const dir = mkdtempSync(join(tmpdir(), 'beamnode-snippets-'));
  try {
    const names = found.map((s, i) => {
      const name = `s${i}-${s.file.replace(/\W/g, '_')}-${s.line}.ts`;
      // `../src/x.js` as seen from docs/ or from the repository root: both mean src/x.
      const code = s.code.replace(/from '(?:\.\.\/)+src\/([^']*)'/g, (_m, p: string) => `from '${join(root, 'src', p)}'`);
      writeFileSync(join(dir, name), `export {};\n${code}`);
      return name;
    });
    names.push('no-casts.ts');
    writeFileSync(join(dir, 'no-casts.ts'), readFileSync(join(root, 'test/types/no-casts.ts'), 'utf8'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          rootDir: '/',
          noEmit: true,
          noUnusedLocals: false,
          typeRoots: [join(root, 'node_modules/@types')],
          paths: { beamnode: [join(root, 'src/index.ts')], 'beamnode/etf': [join(root, 'src/etf/index.ts')] },
        },
        include: names,
      }),
    );
    const tsc = join(root, 'node_modules/.bin/tsc');
    const r = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 300_000 });
    const where = (out: string) => out.replace(/s(\d+)-[\w]+-(\d+)\.ts\((\d+),(\d+)\)/g, (_m, i: string, _l, line: string) => {
      const s = found[Number(i)];
      return `${s.file}:${s.line + Number(line) - 1}`; // the snippet's line in the .md (the added first line cancels the fence)
    });
    assert.equal(r.status, 0, `tsc on ${found.length} snippets:\n${where(r.stdout + r.stderr)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
