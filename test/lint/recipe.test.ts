// The CoreDNS steps of examples/k8s/README.md, run for real where no cluster is needed: the sed
// line that adds endpoint_pod_names to a Corefile gives the Corefile our patch file applies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCorefile } from '../../src/discovery/corefile.js';
import { parseManifestText } from '../../src/lint/index.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/k8s/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'beamnode-recipe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function patchedCorefile(): Promise<string> {
  const { objects } = await parseManifestText(readFileSync(join(EXAMPLES, 'coredns-endpoint-pod-names.yaml'), 'utf8'), 'x');
  assert.equal(objects.length, 1);
  assert.deepEqual([objects[0].kind, objects[0].namespace, objects[0].name], ['ConfigMap', 'kube-system', 'coredns']);
  return (objects[0].raw as { data: { Corefile: string } }).data.Corefile;
}

test('the patch file is a kubeadm-style Corefile with endpoint_pod_names in the kubernetes block', async () => {
  const k = parseCorefile(await patchedCorefile()).kubernetes;
  assert.equal(k.length, 1);
  assert.equal(k[0].endpointPodNames, true);
  assert.equal(k[0].podsMode, 'insecure');
  assert.equal(k[0].clusterDomain, 'cluster.local');
  assert.equal(k[0].ttl, 30);
});

test("the README's sed line turns the default Corefile into one with endpoint_pod_names, nothing else changed", async () => {
  const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
  const sed = readme.split('\n').find((l) => /^\s*sed -i .*endpoint_pod_names' Corefile$/.test(l));
  assert.ok(sed, 'the sed line is in the README');
  const patched = await patchedCorefile();
  const original = patched.replace(/^\s*endpoint_pod_names\n/m, '');
  assert.equal(parseCorefile(original).kubernetes[0].endpointPodNames, false);
  writeFileSync(join(dir, 'Corefile'), original);
  const r = spawnSync('sh', ['-c', sed.trim()], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const after = readFileSync(join(dir, 'Corefile'), 'utf8');
  const cf = parseCorefile(after).kubernetes[0];
  assert.equal(cf.endpointPodNames, true);
  const { endpoint_pod_names: _, ...rest } = cf.options;
  const { endpoint_pod_names: __, ...want } = parseCorefile(patched).kubernetes[0].options;
  assert.deepEqual(rest, want);
  assert.equal(after.split('\n').length, original.split('\n').length + 1);
});
