// Reading manifests: document splitting (trailing ---, comment-only documents), List objects,
// non-Kubernetes YAML ignored, parse errors with lines, directory walks with limits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifestText, splitDocuments, manifestFiles, loadManifests, LintError, DEFAULT_LOAD_LIMITS } from '../../src/lint/index.js';

const dir = mkdtempSync(join(tmpdir(), 'beamnode-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a trailing --- and comment-only documents are skipped (loadAllYaml alone throws on them)', async () => {
  const text = '# head\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n# only a comment\n---\n';
  const r = await parseManifestText(text, 'x.yaml');
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.objects.map((o) => [o.kind, o.name, o.line, o.namespace]), [['Service', 'a', 3, 'default']]);
});

test('documents split at --- and ... markers, keeping content after ---', async () => {
  const chunks = splitDocuments('a: 1\n--- {b: 2}\n...\n---\nc: 3\n');
  assert.deepEqual(chunks.map((c) => [c.startLine, c.text]), [[1, 'a: 1'], [2, '--- {b: 2}'], [4, '---\nc: 3\n']]);
});

test('kind: List is flattened; YAML without kind is ignored; the namespace defaults', async () => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: prod}}\n- {apiVersion: v1, kind: Service, metadata: {name: b}}\n---\nreplicaCount: 3\n---\n- just\n- a list\n';
  const r = await parseManifestText(text, 'x.yaml', 'apps');
  assert.deepEqual(r.objects.map((o) => `${o.namespace}/${o.name}`), ['prod/a', 'apps/b']);
  assert.deepEqual(r.findings, []);
});

test('a YAML error is a finding with the line in the file, and the other documents still load', async () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: [x\n';
  const r = await parseManifestText(text, 'x.yaml');
  assert.deepEqual(r.objects.map((o) => o.name), ['ok']);
  assert.equal(r.findings.length, 1);
  assert.equal(r.findings[0].rule, 'yaml-parse');
  assert.ok(r.findings[0].line >= 7, `line ${r.findings[0].line}`);
});

test('Go templates inside ConfigMap data are not mistaken for a Helm chart', async () => {
  const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alerts}\ndata:\n  rule: "{{ $labels.instance }} down"\n';
  const r = await parseManifestText(text, 'x.yaml');
  assert.deepEqual(r.findings, []);
  assert.equal(r.objects.length, 1);
});

test('directories are walked in name order for .yaml/.yml/.json, skipping dot folders and node_modules, surviving a symlink loop', async () => {
  mkdirSync(join(dir, 'tree/b'), { recursive: true });
  mkdirSync(join(dir, 'tree/.git'), { recursive: true });
  mkdirSync(join(dir, 'tree/node_modules'), { recursive: true });
  for (const f of ['tree/z.yaml', 'tree/a.yml', 'tree/b/c.json', 'tree/readme.md', 'tree/.git/x.yaml', 'tree/node_modules/y.yaml']) writeFileSync(join(dir, f), '{}\n');
  symlinkSync(join(dir, 'tree'), join(dir, 'tree/b/loop'));
  const files = manifestFiles([join(dir, 'tree')]).map((f) => f.slice(dir.length + 1));
  assert.deepEqual(files, ['tree/a.yml', 'tree/b/c.json', 'tree/z.yaml']);
});

test('a missing path is BEAM_ERR_LINT_PATH; too many files and too large files are BEAM_ERR_LINT_LIMIT', async () => {
  assert.throws(() => manifestFiles([join(dir, 'nope')]), (e: unknown) => e instanceof LintError && e.code === 'BEAM_ERR_LINT_PATH');
  assert.throws(() => manifestFiles([join(dir, 'tree')], { ...DEFAULT_LOAD_LIMITS, maxFiles: 2 }), (e: unknown) => e instanceof LintError && e.code === 'BEAM_ERR_LINT_LIMIT');
  writeFileSync(join(dir, 'big.yaml'), 'a: 1\n'.repeat(100));
  await assert.rejects(loadManifests([join(dir, 'big.yaml')], 'default', { ...DEFAULT_LOAD_LIMITS, maxFileBytes: 100 }), (e: unknown) => e instanceof LintError && e.code === 'BEAM_ERR_LINT_LIMIT');
});
