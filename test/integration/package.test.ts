// The published package and the probe image's recipe, tested without a Docker engine:
// - `npm pack` of a fresh build holds dist/ (no tests, benchmarks, sources), installs into a clean
//   folder with `npm install --omit=dev <tgz>` (registry reachable; --prefer-offline), and from
//   there `beamnode --help`, `beamnode lint`, `import('beamnode')` and `import('beamnode/etf')` work;
//   production dependencies never include erlpack (a native devDependency).
// - the Dockerfile replayed stage by stage in folders (its COPY/RUN/ENTRYPOINT lines, interpreted):
//   the build stage's `npm ci` + `npm run build`, the runtime stage's `npm ci --omit=dev`, the ENTRYPOINT.
// - the Dockerfile's shape: two stages, non-root numeric USER, ENTRYPOINT on the built CLI, every
//   COPY source present and not excluded by .dockerignore.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessEnv } from '../support/env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  files: string[];
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'beamnode-pkg-'));
after(() => rmSync(work, { recursive: true, force: true }));

const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network/i;

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

const stage = join(work, 'stage'); // a copy of what `npm pack` sees, with a fresh build
let tgz = '';
let packedFiles: string[] = [];

before(() => {
  mkdirSync(stage);
  // `npm run build` into the stage (the same tsc and config, another outDir): the shared dist/ is left alone.
  const tsc = sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], ROOT);
  assert.equal(tsc.status, 0, `build failed (the image's "RUN npm run build" would too):\n${tsc.stdout}${tsc.stderr}`);
  cpSync(join(ROOT, 'package.json'), join(stage, 'package.json'));
  cpSync(join(ROOT, 'README.md'), join(stage, 'README.md'));
  cpSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
  // Decoys: `files` must keep them out of the tarball.
  for (const f of ['test/x.test.js', 'benchmarks/bench.mjs', 'src/x.ts', 'examples/k8s/x.yaml', 'dist/x.test.js.map.orig', 'node_modules/erlpack/index.js']) {
    mkdirSync(join(stage, f, '..'), { recursive: true });
    writeFileSync(join(stage, f), '// decoy\n');
  }
  rmSync(join(stage, 'dist/x.test.js.map.orig'));
  // --ignore-scripts: the stage holds the build already and no compiler for the prepare script.
  const pack = sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, ...NPM_FLAGS], stage);
  assert.equal(pack.status, 0, pack.stderr);
  const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tgz = join(work, info[0].filename);
  packedFiles = info[0].files.map((f) => f.path).sort();
});

test('the tarball holds the build, package.json and README only: no tests, benchmarks, sources or examples', () => {
  assert.ok(existsSync(tgz));
  for (const p of packedFiles) assert.ok(p.startsWith('dist/') || p === 'package.json' || p === 'README.md' || p === 'LICENSE', `unexpected ${p} in the tarball`);
  assert.ok(!packedFiles.some((p) => /(^|\/)(test|benchmarks|node_modules)\/|\.test\.|\.ts$(?<!\.d\.ts)/.test(p)), packedFiles.join('\n'));
  for (const need of ['dist/cli/main.js', 'dist/cli/lint.js', 'dist/index.js', 'dist/index.d.ts', 'dist/etf/index.js', 'dist/etf/index.d.ts', 'dist/lint/index.js']) {
    assert.ok(packedFiles.includes(need), `missing ${need}`);
  }
});

test('the repository root packs no tests or benchmarks either (npm pack --dry-run)', () => {
  const r = sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...NPM_FLAGS], ROOT); // no rebuild of the shared dist/
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  for (const p of files) assert.ok(p.startsWith('dist/') || p === 'package.json' || p === 'README.md' || p === 'LICENSE', `unexpected ${p}`);
});

test('package.json: bin, exports and production dependencies (no erlpack)', () => {
  assert.deepEqual(PKG.bin, { beamnode: './dist/cli/main.js' });
  assert.ok(PKG.exports['.'] && PKG.exports['./etf']);
  assert.ok(!('erlpack' in PKG.dependencies));
  assert.ok(readFileSync(join(stage, 'dist/cli/main.js'), 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bin needs its shebang');
});

test('npm install --omit=dev <tgz> into a clean folder: beamnode --help, --version, lint, import beamnode and beamnode/etf', (t) => {
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const inst = sh('npm', ['install', '--omit=dev', ...NPM_FLAGS, tgz], app);
  if (inst.status !== 0 && NETWORK.test(inst.stderr)) {
    t.skip(skipUnlessEnv(`the npm registry (unreachable and not cached: ${inst.stderr.split('\n')[0]})`) || undefined);
    return;
  }
  assert.equal(inst.status, 0, inst.stderr);
  assert.ok(!existsSync(join(app, 'node_modules/erlpack')), 'erlpack must not be installed for users');
  assert.ok(!existsSync(join(app, 'node_modules/typescript')) && !existsSync(join(app, 'node_modules/tsx')), 'dev dependencies leaked');
  const ls = sh('npm', ['ls', 'erlpack', '--all', '--json', '--omit=dev'], app);
  assert.ok(!ls.stdout.includes('"erlpack"'), ls.stdout);

  const bin = join(app, 'node_modules/.bin/beamnode');
  const help = sh(bin, ['--help'], app);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: beamnode <command>/);
  assert.match(help.stdout, /lint/);
  const version = sh(bin, ['--version'], app);
  assert.equal(version.stdout.trim(), PKG.version);
  // lint from the installed tree: its YAML loader reaches into @kubernetes/client-node/dist/yaml.js.
  const lint = sh(bin, ['lint', join(ROOT, 'examples/k8s')], app);
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  assert.match(lint.stdout, /0 errors, 0 warnings/);

  // term_to_binary({ok, 42, <<"hi">>}) as OTP 25 writes it, decoded; then our encoding decoded back.
  const script = `
    const etf = await import('beamnode/etf');
    const otp = etf.decode(Buffer.from('8368036400026f6b612a6d000000026869', 'hex'));
    const again = etf.decode(etf.encode(etf.tuple(etf.atom('ok'), 42, Buffer.from('hi'))));
    const show = (t) => [t.elements.length, t.elements[0].name, t.elements[1], Buffer.from(t.elements[2]).toString()];
    const main = await import('beamnode');
    console.log(JSON.stringify({ otp: show(otp), again: show(again), main: typeof main.decode }));
  `;
  const imp = sh(process.execPath, ['--input-type=module', '-e', script], app);
  assert.equal(imp.status, 0, imp.stderr);
  const out = JSON.parse(imp.stdout) as { otp: unknown[]; again: unknown[]; main: string };
  assert.deepEqual(out.otp, [3, 'ok', 42, 'hi']);
  assert.deepEqual(out.again, [3, 'ok', 42, 'hi']);
  assert.equal(out.main, 'function');
});

/**
 * Replays the Dockerfile without Docker: each stage gets a root folder; FROM, ARG, ENV, WORKDIR,
 * COPY (also --from=<stage>), RUN, USER, ENTRYPOINT and CMD are interpreted, with absolute paths
 * mapped into the stage root. Two changes to RUN lines, both for this shared machine: `npm ci`
 * gets --prefer-offline, and `npm cache clean --force` is dropped (it would wipe the user's cache).
 */
/** The Dockerfile's instructions, one a line: comments dropped, `\` continuations joined. */
function dockerfileLines(): string[] {
  return readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function replayDockerfile(t: { skip(reason?: string): void }): { ok: boolean; entry?: string[]; roots?: Record<string, string> } {
  const lines = dockerfileLines();
  const roots: Record<string, string> = {};
  let stage = '';
  let workdir = '/';
  let env: NodeJS.ProcessEnv = {};
  let entry: string[] = [];
  let cmd: string[] = [];
  const inStage = (name: string, p: string) => join(roots[name], p.startsWith('/') ? p : join(workdir, p));
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const arg = line.slice(op.length).trim();
    switch (op) {
      case 'ARG':
        break;
      case 'FROM':
        stage = rest[rest.length - 1];
        roots[stage] = join(work, `image-${stage}`);
        mkdirSync(roots[stage], { recursive: true });
        workdir = '/';
        env = {};
        break;
      case 'ENV': {
        const [k, v] = arg.split('=');
        env[k] = v;
        break;
      }
      case 'WORKDIR':
        workdir = arg;
        mkdirSync(inStage(stage, arg), { recursive: true });
        break;
      case 'COPY': {
        const from = rest[0].startsWith('--from=') ? rest.shift()!.slice('--from='.length) : undefined;
        const dest = rest.pop()!;
        for (const src of rest) {
          const source = from ? join(roots[from], src) : join(ROOT, src);
          assert.ok(existsSync(source), `COPY ${src}: not found`);
          const target = dest.endsWith('/') || rest.length > 1 ? join(inStage(stage, dest), src.split('/').pop()!) : inStage(stage, dest);
          cpSync(source, target, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        const script = arg.replace(/\bnpm ci\b/g, 'npm ci --prefer-offline').replace(/\s*&&\s*npm cache clean --force/, '');
        const r = spawnSync('sh', ['-c', script], { cwd: inStage(stage, '.'), encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
        if (r.status !== 0 && NETWORK.test(r.stderr ?? '')) {
          t.skip(skipUnlessEnv(`the npm registry (unreachable and not cached: ${(r.stderr ?? '').split('\n')[0]})`) || undefined);
          return { ok: false };
        }
        assert.equal(r.status, 0, `RUN ${arg} (stage ${stage}):\n${r.stdout}${r.stderr}`);
        break;
      }
      case 'USER':
        break;
      case 'ENTRYPOINT':
        entry = (JSON.parse(arg) as string[]).map((a) => (a.startsWith('/') ? inStage(stage, a) : a));
        break;
      case 'CMD':
        cmd = JSON.parse(arg) as string[];
        break;
      default:
        assert.fail(`the replay does not know Dockerfile instruction ${op}`);
    }
  }
  return { ok: true, entry: [...entry, ...cmd], roots };
}

test("the Dockerfile, replayed stage by stage: the build stage compiles, the runtime stage has production deps only, and the ENTRYPOINT runs", (t) => {
  const r = replayDockerfile(t);
  if (!r.ok) return;
  const runtime = r.roots!.runtime;
  for (const dev of ['erlpack', 'typescript', 'tsx', 'fast-check', 'erlang_js', 'playwright-core']) assert.ok(!existsSync(join(runtime, 'app/node_modules', dev)), `${dev} in the runtime image`);
  // The optional peer the probe's --kubernetes loads: the image carries it.
  assert.ok(existsSync(join(runtime, 'app/node_modules/@kubernetes/client-node/package.json')), '@kubernetes/client-node missing from the runtime image');
  assert.ok(existsSync(join(runtime, 'app/node_modules/@kubernetes/client-node')));
  assert.ok(!existsSync(join(runtime, 'app/src')) && !existsSync(join(runtime, 'app/test')), 'sources or tests in the runtime image');
  const [exe, ...args] = r.entry!;
  assert.equal(exe, 'node');
  const help = sh(process.execPath, args, join(runtime, 'app'));
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: beamnode <command>/);
  const lint = sh(process.execPath, [args[0], 'lint', join(ROOT, 'examples/k8s')], join(runtime, 'app'));
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
});

test('Dockerfile: two stages, dev build then production install, non-root numeric USER, ENTRYPOINT on the CLI, COPY sources not dockerignored', () => {
  const lines = dockerfileLines();
  const froms = lines.filter((l) => l.startsWith('FROM '));
  assert.deepEqual(froms.map((l) => l.split(/\s+/).pop()), ['build', 'runtime']);
  const runtimeAt = lines.findIndex((l) => l.startsWith('FROM ') && l.endsWith('runtime'));
  const build = lines.slice(0, runtimeAt);
  const runtime = lines.slice(runtimeAt);
  assert.ok(build.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev')));
  assert.ok(build.some((l) => l === 'RUN npm run build'));
  assert.ok(runtime.some((l) => /^RUN npm ci\b.*--omit=dev/.test(l)));
  assert.ok(runtime.some((l) => l === 'COPY --from=build /src/dist ./dist'));
  const user = runtime.find((l) => l.startsWith('USER '));
  assert.ok(user && /^USER [1-9]\d*(:\d+)?$/.test(user), `USER must be numeric and not root: ${user}`);
  assert.ok(runtime.includes('ENTRYPOINT ["node", "/app/dist/cli/main.js"]'));
  assert.ok(existsSync(join(ROOT, 'src/cli/main.ts')), 'the ENTRYPOINT is the build of src/cli/main.ts');

  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const isIgnored = (p: string) => ignored.some((pat) => new RegExp(`^${pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`).test(p));
  for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
    const parts = l.split(/\s+/).slice(1, -1);
    for (const src of parts) {
      assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} missing`);
      assert.ok(!isIgnored(src), `COPY source ${src} is excluded by .dockerignore`);
    }
  }
  for (const p of ['node_modules', 'dist', 'test', 'benchmarks', '.git']) assert.ok(isIgnored(p), `${p} should not enter the build context`);
});
