/**
 * Every TypeScript snippet of README.md and docs/*.md (but the generated docs/api.md) compiles: each
 * module of snippets (test/support/snippets.ts: a block without imports continues the block before
 * it) becomes a file in a temporary folder, `beamnode` is mapped to src/ (tsconfig `paths`), and tsc
 * checks them all with the repository's compiler options (strict), together with
 * test/types/no-casts.ts (README's library code, typed without casts). README's snippets hold no
 * cast (`as T`): the guards and `validate` make them unnecessary. The same README snippets are
 * compiled against the packed package, strict and without skipLibCheck, in test/package/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docFiles, snippetModules, sourceLine } from '../support/snippets.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test("README's TypeScript snippets need no casts", () => {
  const readme = snippetModules(root).filter((s) => s.file === 'README.md');
  assert.ok(readme.length > 0, 'README has TypeScript snippets');
  for (const s of readme) {
    s.code.split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, ''); // comments may say anything
      assert.doesNotMatch(code, /\bas\s+(?!const\b)[\w{[(]/, `${sourceLine(s, i + 1)}: a cast: ${line.trim()}`);
    });
  }
});

test('every TypeScript snippet in README.md and docs/*.md compiles', () => {
  const found = snippetModules(root);
  const files = new Set(found.map((s) => s.file));
  for (const f of ['README.md', 'docs/node.md', 'docs/hot-path.md', 'docs/discovery.md', 'docs/probe.md']) assert.ok(files.has(f), `${f} has snippets`);
  assert.ok(!docFiles(root).includes('docs/api.md'));
  const dir = mkdtempSync(join(tmpdir(), 'beamnode-snippets-'));
  try {
    const names = found.map((s, i) => {
      const name = `s${i}.ts`;
      writeFileSync(join(dir, name), `export {}; ${s.code}`); // a module (top-level await), lines unchanged
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
    const where = (out: string) => out.replace(/s(\d+)\.ts\((\d+),(\d+)\)/g, (_m, i: string, line: string) => sourceLine(found[Number(i)], Number(line)));
    assert.equal(r.status, 0, `tsc on ${found.length} snippet modules:\n${where(r.stdout + r.stderr)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
