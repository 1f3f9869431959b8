// Each committed broken variant (test/fixtures/lint/) gives exactly the expected errors/warnings,
// and the clean ones give none: the rules fire on their mistake and stay quiet otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { lintPaths, lintObjects, parseManifestText, type Finding, type LintRule, type Severity } from '../../src/lint/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/lint/', import.meta.url));

type Expect = readonly (readonly [LintRule, Severity, string])[]; // rule, severity, object

const EXPECTED: Record<string, Expect> = {
  'clean.yaml': [],
  'ip-names.yaml': [],
  'coredns-unknown.yaml': [['coredns-endpoint-pod-names', 'info', 'Deployment/myapp']],
  'coredns-without-endpoint-pod-names.yaml': [['coredns-endpoint-pod-names', 'warning', 'Deployment/myapp']],
  'subdomain-no-service.yaml': [['subdomain-no-service', 'error', 'Deployment/myapp']],
  'subdomain-not-headless.yaml': [
    ['service-not-headless', 'error', 'Service/myapp-headless'],
    ['subdomain-not-headless', 'error', 'Deployment/myapp'],
  ],
  'subdomain-not-selected.yaml': [
    ['selector-no-match', 'warning', 'Service/myapp-headless'],
    ['subdomain-not-selected', 'error', 'Deployment/myapp'],
  ],
  'statefulset-service-name.yaml': [['subdomain-no-service', 'error', 'StatefulSet/myapp']],
  'statefulset-clean.yaml': [],
  'service-not-headless.yaml': [['service-not-headless', 'error', 'Service/myapp-epmd']],
  'service-no-ports.yaml': [['service-no-ports', 'error', 'Service/myapp-headless']],
  'service-unnamed-ports.yaml': [['service-unnamed-ports', 'warning', 'Service/myapp-headless']],
  'publish-not-ready.yaml': [['publish-not-ready', 'warning', 'Service/myapp-headless']],
  'selector-no-match.yaml': [['selector-no-match', 'warning', 'Service/orphan-headless']],
  'short-names-sname.yaml': [['short-names', 'error', 'Deployment/myapp']],
  'short-names-release-default.yaml': [['short-names', 'warning', 'Deployment/myapp']],
  'short-names-erl.yaml': [['short-names', 'error', 'Deployment/myapp']],
  'long-names-no-subdomain.yaml': [['long-names-no-fqdn', 'error', 'Deployment/myapp']],
  'env-shell-command.yaml': [['env-shell-command', 'error', 'Deployment/myapp']],
  'env-var-order.yaml': [['env-var-reference', 'error', 'Deployment/myapp']],
  'statefulset-name-too-long.yaml': [['name-too-long', 'error', 'StatefulSet/myapp-with-a-very-long-statefulset-name-for-clustering-x']],
  'fqdn-too-long.yaml': [['name-too-long', 'error', 'Deployment/myapp-distributed']],
  'plain-cookie-env.yaml': [['plain-text-cookie', 'error', 'Deployment/myapp']],
  'plain-cookie-setcookie.yaml': [['plain-text-cookie', 'error', 'Deployment/myapp']],
  'plain-cookie-configmap.yaml': [['plain-text-cookie', 'error', 'Deployment/myapp']],
  'fixed-hostname.yaml': [['fixed-hostname', 'error', 'Deployment/myapp']],
  'network-policy-clean.yaml': [],
  'network-policy-dist-blocked.yaml': [['network-policy', 'error', 'Deployment/myapp']],
  'network-policy-egress-dns.yaml': [['network-policy', 'error', 'Deployment/myapp']],
  'network-policy-unpinned.yaml': [['network-policy', 'warning', 'Deployment/myapp']],
  'kubectl-get-list.yaml': [
    ['service-not-headless', 'error', 'Service/myapp'],
    ['subdomain-not-headless', 'error', 'Deployment/myapp'],
    ['coredns-endpoint-pod-names', 'info', 'Deployment/myapp'],
  ],
  'helm-template.yaml': [['template', 'warning', join(FIXTURES, 'helm-template.yaml')]],
  'not-yaml.yaml': [['yaml-parse', 'error', join(FIXTURES, 'not-yaml.yaml')]],
};

const summary = (fs: Finding[]) => fs.map((f) => [f.rule, f.severity, f.object] as const).sort();

test('every fixture file has an expectation', async () => {
  assert.deepEqual(readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort(), Object.keys(EXPECTED).sort());
});

for (const [file, expected] of Object.entries(EXPECTED)) {
  test(`lint ${file}: ${expected.length ? expected.map(([r, s]) => `${s} ${r}`).join(', ') : 'clean'}`, async () => {
    const r = await lintPaths([join(FIXTURES, file)]);
    assert.deepEqual(summary(r.findings), [...expected].map((e) => [...e] as const).sort());
    for (const f of r.findings) {
      assert.equal(f.file, join(FIXTURES, file));
      assert.ok(f.message.length > 0 && f.fix.length > 0);
    }
  });
}

test('findings never carry the cookie value', async () => {
  const r = await lintPaths([join(FIXTURES, 'plain-cookie-env.yaml'), join(FIXTURES, 'plain-cookie-setcookie.yaml'), join(FIXTURES, 'plain-cookie-configmap.yaml')]);
  const text = JSON.stringify(r.findings);
  for (const secret of ['not-a-secret-at-all', 'plaintextcookie', 'still-not-a-secret']) assert.ok(!text.includes(secret), secret);
  assert.equal(r.findings.filter((f) => f.rule === 'plain-text-cookie').length, 3);
});

test('network-policy names what is blocked', async () => {
  const dist = (await lintPaths([join(FIXTURES, 'network-policy-dist-blocked.yaml')])).findings[0];
  assert.match(dist.message, /restricts ingress .* does not allow the distribution port 9000:/);
  assert.doesNotMatch(dist.message, /EPMD \(TCP 4369\)/);
  const dns = (await lintPaths([join(FIXTURES, 'network-policy-egress-dns.yaml')])).findings[0];
  assert.match(dns.message, /restricts egress .* does not allow DNS \(UDP and TCP 53\)/);
});

test('findings name the line where the object starts', async () => {
  const r = await lintPaths([join(FIXTURES, 'subdomain-no-service.yaml')]);
  const f = r.findings.find((x) => x.rule === 'subdomain-no-service');
  assert.ok(f);
  assert.equal(f.line, 15); // the Deployment's apiVersion line, after the comment and the Service
});

test('env-var-reference: $(X) undefined in a clustering variable warns; Service link variables the kubelet injects and variables unrelated to clustering do not', async () => {
  const yaml = [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: p}',
    'spec:',
    '  containers:',
    '  - name: c',
    '    image: elixir:1.17',
    '    env:',
    '    - {name: PEER, value: "$(MYAPP_SERVICE_HOST):$(MYAPP_PORT_4369_TCP_PORT)"}',
    '    - {name: RELEASE_NODE, value: "app@$(NOPE)"}',
    '    - {name: DATABASE_URL, value: "$(UNRELATED)"}',
  ].join('\n');
  const { objects } = await parseManifestText(yaml, 'pod.yaml');
  const found = lintObjects(objects).findings.filter((f) => f.rule === 'env-var-reference');
  assert.equal(found.length, 1);
  assert.match(found[0].message, /\$\(NOPE\)/);
  assert.equal(found[0].severity, 'warning');
});
