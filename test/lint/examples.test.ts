// The committed Kubernetes examples lint clean (no finding at all, not even info), and the
// `beamnode lint` command keeps its exit-status contract: 0 clean, 1 findings, 2 usage.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { lintPaths } from '../../src/lint/index.js';
import { run } from '../../src/cli/lint.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples/k8s/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/lint/', import.meta.url));

/** `beamnode lint …` in-process: run() with console captured (fast; the spawned CLI is tested once below). */
async function lintCli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const log = mock.method(console, 'log', (...a: unknown[]) => void (stdout += a.join(' ') + '\n'));
  const err = mock.method(console, 'error', (...a: unknown[]) => void (stderr += a.join(' ') + '\n'));
  try {
    const status = await run(args);
    return { status, stdout, stderr };
  } finally {
    log.mock.restore();
    err.mock.restore();
  }
}

function beamnode(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, input, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('examples/k8s lints clean and is recognised as one BEAM Deployment', async () => {
  const r = await lintPaths([EXAMPLES]);
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.beamWorkloads, ['Deployment/myapp']);
  assert.equal(r.files.length, 6);
  assert.equal(r.objects, 11); // Service, Deployment, ConfigMap, ServiceAccount + 2 Roles + 2 RoleBindings, Job, the watch's Deployment + Service
});

test('without the CoreDNS ConfigMap the examples get only the endpoint_pod_names note (info, still clean)', async () => {
  const r = await lintPaths([`${EXAMPLES}deployment.yaml`, `${EXAMPLES}headless-service.yaml`]);
  assert.deepEqual(r.findings.map((f) => [f.rule, f.severity]), [['coredns-endpoint-pod-names', 'info']]);
  assert.deepEqual(r.counts, { error: 0, warning: 0, info: 1 });
});

test('beamnode lint examples/k8s (the real command, spawned) exits 0', async () => {
  const r = beamnode(['lint', 'examples/k8s']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /BEAM workloads: Deployment\/myapp; 0 errors, 0 warnings, 0 info/);
});

test('beamnode lint - reads stdin (kubectl get -o yaml output) together with files', () => {
  const list = readFileSync(`${FIXTURES}kubectl-get-list.yaml`, 'utf8');
  const r = beamnode(['lint', '--json', '-', `${EXAMPLES}coredns-endpoint-pod-names.yaml`], list);
  assert.equal(r.status, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { files: string[]; findings: { rule: string; file: string; namespace: string }[] };
  assert.ok(j.files.includes('<stdin>'));
  assert.deepEqual(j.findings.map((f) => [f.rule, f.file, f.namespace]).sort(), [
    ['service-not-headless', '<stdin>', 'shop'],
    ['subdomain-not-headless', '<stdin>', 'shop'],
  ]);
});

test('beamnode lint --json on a broken fixture exits 1 with parseable findings', async () => {
  const r = await lintCli('--json', `${FIXTURES}short-names-sname.yaml`);
  assert.equal(r.status, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { counts: { error: number }; findings: { rule: string; severity: string; object: string; container?: string }[] };
  assert.equal(j.counts.error, 1);
  assert.deepEqual(j.findings.map((f) => [f.rule, f.severity, f.object, f.container]), [['short-names', 'error', 'Deployment/myapp', 'app']]);
});

test('beamnode lint: warnings alone exit 1, info alone exits 0', async () => {
  assert.equal((await lintCli(`${FIXTURES}publish-not-ready.yaml`)).status, 1);
  assert.equal((await lintCli(`${FIXTURES}coredns-unknown.yaml`)).status, 0);
  const quiet = await lintCli('--quiet', `${FIXTURES}coredns-unknown.yaml`);
  assert.doesNotMatch(quiet.stdout, /\[coredns-endpoint-pod-names\]/);
  assert.match(quiet.stdout, /1 info/);
});

test('beamnode lint usage errors exit 2', async () => {
  const none = await lintCli();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no files or directories/);
  const missing = await lintCli('no/such/dir');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such file or directory/);
  assert.equal((await lintCli('--bogus', 'examples/k8s')).status, 2);
  const help = await lintCli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: beamnode lint/);
});
