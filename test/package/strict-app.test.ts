/**
 * The package as a new user meets it, from an unbuilt clone:
 * - `npm pack` of a clone without dist/ runs the `prepare` script, and the tarball holds the build
 *   (no source maps: they would point at src/*.ts, which is not shipped);
 * - `npm install <clone folder>` (a path install) builds the clone through `prepare` too;
 * - a TypeScript app with `strict: true` and without `skipLibCheck`, written from README's snippets
 *   and importing every entry point in package.json `exports`, compiles against the installed tarball;
 * - an error thrown inside the installed package has a stack into its dist/*.js, also with
 *   --enable-source-maps.
 * The clone is a copy of the files git tracks for the build, its node_modules a link to the
 * repository's (the compiler `prepare` runs). Installs use the npm cache (--prefer-offline).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessEnv } from '../support/env.js';
import { snippetModules, sourceLine } from '../support/snippets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; exports: Record<string, unknown>; scripts: Record<string, string> };
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network/i;

const work = mkdtempSync(join(tmpdir(), 'beamnode-strict-app-'));
const clone = join(work, 'clone');
const app = join(work, 'app');
let tgz = '';
let packed: string[] = [];
let installed: { ok: boolean; stderr: string } = { ok: false, stderr: '' };

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function writeApp(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}

/** Installs the tarball (or skips the caller when the registry is out of reach and the cache lacks a dependency). */
function requireInstall(t: { skip(reason?: string): void }): boolean {
  if (installed.ok) return true;
  if (NETWORK.test(installed.stderr)) {
    t.skip(skipUnlessEnv(`the npm registry (unreachable and not cached: ${installed.stderr.split('\n')[0]})`) || undefined);
    return false;
  }
  assert.fail(`npm install of the tarball failed:\n${installed.stderr}`);
}

before(() => {
  mkdirSync(clone);
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'src']) cpSync(join(ROOT, f), join(clone, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const pack = sh('npm', ['pack', '--json', '--pack-destination', work, ...NPM_FLAGS], clone);
  assert.equal(pack.status, 0, `npm pack (prepare = ${PKG.scripts.prepare}):\n${pack.stderr}`);
  const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tgz = join(work, info[0].filename);
  packed = info[0].files.map((f) => f.path);
  writeApp(app);
  const inst = sh('npm', ['install', '--omit=dev', ...NPM_FLAGS, tgz], app);
  installed = { ok: inst.status === 0, stderr: inst.stderr };
});
after(() => rmSync(work, { recursive: true, force: true }));

test('npm pack of an unbuilt clone: prepare builds dist/, and the tarball holds it without source maps', () => {
  assert.equal(PKG.scripts.prepare, 'npm run build');
  for (const need of ['dist/index.js', 'dist/index.d.ts', 'dist/etf/index.js', 'dist/etf/index.d.ts', 'dist/cli/main.js']) assert.ok(packed.includes(need), `${need} missing from the tarball`);
  assert.deepEqual(packed.filter((p) => p.endsWith('.map')), [], 'no .map files');
  const js = packed.filter((p) => p.endsWith('.js'));
  assert.ok(js.length > 50);
  for (const p of js) assert.ok(!readFileSync(join(clone, p), 'utf8').includes('sourceMappingURL'), `${p} names a source map`);
});

test('npm install <clone folder>: the path install runs prepare in the clone, and the app imports it', (t) => {
  rmSync(join(clone, 'dist'), { recursive: true, force: true });
  const other = join(work, 'path-app');
  writeApp(other);
  const inst = sh('npm', ['install', ...NPM_FLAGS, clone], other);
  if (inst.status !== 0 && NETWORK.test(inst.stderr)) {
    t.skip(skipUnlessEnv(`the npm registry (${inst.stderr.split('\n')[0]})`) || undefined);
    return;
  }
  assert.equal(inst.status, 0, inst.stderr);
  assert.ok(existsSync(join(clone, 'dist/index.js')), 'prepare built the clone');
  const r = sh(process.execPath, ['--input-type=module', '-e', "const m = await import('beamnode'); console.log(typeof m.Node, typeof (await import('beamnode/etf')).decode)"], other);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function function');
});

test('a strict TypeScript app without skipLibCheck, from README snippets and every exports entry, compiles against the installed tarball', (t) => {
  if (!requireInstall(t)) return;
  const entries = Object.keys(PKG.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'beamnode' : `beamnode/${k.slice(2)}`));
  assert.deepEqual(entries, ['beamnode', 'beamnode/etf'], 'a new entry point: import it below too');
  const readme = snippetModules(ROOT, ['README.md']);
  assert.ok(readme.length >= 2 && readme.some((s) => s.imports.includes('beamnode')) && readme.some((s) => s.imports.includes('beamnode/etf')), 'README has snippets for both entry points');
  const files = readme.map((s, i) => {
    writeFileSync(join(app, `readme${i}.ts`), `export {}; ${s.code}`);
    return `readme${i}.ts`;
  });
  // Every entry point and the root's namespaces, as an app touches them.
  writeFileSync(
    join(app, 'entries.ts'),
    `import * as root from 'beamnode';
import * as etf from 'beamnode/etf';
import { Node, epmd, dist, discovery, probe, lint, type NodeStartOptions } from 'beamnode';
import { decode, encode, atom, tuple, type Term } from 'beamnode/etf';

const options: NodeStartOptions = { name: 'js@127.0.0.1', cookie: 'secret' };
const term: Term = decode(encode(tuple(atom('ok'), [1, 2, 3])));
const report: probe.ProbeReport | undefined = undefined;
console.log(options, term, report, Node, epmd.DEFAULT_EPMD_PORT, dist.DFLAG, discovery.canonicalIp('::1'), probe.DEFAULT_TIMEOUT_MS, typeof lint.lintPaths);
console.log(Object.keys(root).length, Object.keys(etf).length);
`,
  );
  files.push('entries.ts');
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
        // @types/node is the app's own choice; here the repository's copy, so no registry is needed.
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      files,
    }),
  );
  const r = sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')], app, 300_000);
  const where = (out: string) => out.replace(/readme(\d+)\.ts\((\d+),\d+\)/g, (_m, i: string, line: string) => sourceLine(readme[Number(i)], Number(line)));
  assert.equal(r.status, 0, `tsc (strict, no skipLibCheck) against the installed package:\n${where(r.stdout + r.stderr)}`);
  // The declarations come from the tarball, not from this repository.
  assert.ok(existsSync(join(app, 'node_modules/beamnode/dist/index.d.ts')));
  assert.ok(!existsSync(join(app, 'node_modules/typescript')), 'the package brings no compiler');
});

test('an error thrown inside the installed package: its stack points into dist/*.js, never at unshipped src/*.ts (also with --enable-source-maps)', (t) => {
  if (!requireInstall(t)) return;
  assert.ok(!readdirSync(join(app, 'node_modules/beamnode')).includes('src'));
  const script = `
    const { decode } = await import('beamnode/etf');
    try { decode(Buffer.from([131, 255])); } catch (e) { console.log(JSON.stringify({ code: e.code, stack: e.stack })); }
  `;
  for (const flags of [[], ['--enable-source-maps']]) {
    const r = sh(process.execPath, [...flags, '--input-type=module', '-e', script], app);
    assert.equal(r.status, 0, r.stderr);
    const { code, stack } = JSON.parse(r.stdout) as { code: string; stack: string };
    assert.match(code, /^BEAM_ERR_ETF_/);
    assert.match(stack, /node_modules\/beamnode\/dist\/etf\/[\w-]+\.js:\d+/, stack);
    assert.doesNotMatch(stack, /\.ts:\d+/, stack);
  }
});
