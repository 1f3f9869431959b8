// Bad input never crashes the lint: arbitrary values in every field the rules read, and
// arbitrary text as YAML. Findings or nothing, never an exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lintObjects, parseManifestText, manifestObject, type ManifestObject } from '../../src/lint/index.js';

const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string({ maxLength: 12 }),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 3 }),
);

const KINDS = ['Deployment', 'StatefulSet', 'Pod', 'DaemonSet', 'ReplicaSet', 'Service', 'ConfigMap', 'NetworkPolicy', 'Job'];

// A container whose every field may be the wrong type, but that often looks like a BEAM.
const container = fc.record({
  name: anyValue,
  image: fc.oneof(anyValue, fc.constant('elixir:1.17')),
  command: fc.oneof(anyValue, fc.constant(['/bin/sh', '-c']), fc.constant(['erl', '-sname'])),
  args: fc.oneof(anyValue, fc.constant(['export RELEASE_NODE="a@$(hostname -f)"; exec bin/a start']), fc.constant(['-setcookie'])),
  env: fc.oneof(anyValue, fc.array(fc.record({ name: anyValue, value: anyValue, valueFrom: anyValue }), { maxLength: 3 }), fc.constant([{ name: 'RELEASE_NODE', value: 'a@$(X' }])),
  envFrom: fc.oneof(anyValue, fc.array(fc.record({ configMapRef: anyValue, prefix: anyValue }), { maxLength: 2 })),
  ports: fc.oneof(anyValue, fc.array(fc.record({ containerPort: anyValue, name: anyValue }), { maxLength: 2 })),
});

const podSpec = fc.record({ containers: fc.oneof(anyValue, fc.array(container, { maxLength: 2 })), subdomain: anyValue, hostname: anyValue, setHostnameAsFQDN: anyValue });

const object = fc.record({
  kind: fc.constantFrom(...KINDS),
  apiVersion: fc.constant('v1'),
  metadata: fc.oneof(anyValue, fc.record({ name: anyValue, namespace: anyValue, labels: anyValue, annotations: anyValue })),
  spec: fc.oneof(
    anyValue,
    podSpec,
    fc.record({ serviceName: anyValue, replicas: anyValue, template: fc.oneof(anyValue, fc.record({ metadata: fc.record({ labels: anyValue }), spec: podSpec })) }),
    fc.record({ clusterIP: fc.oneof(anyValue, fc.constant('None')), selector: anyValue, ports: anyValue, publishNotReadyAddresses: anyValue }),
    fc.record({ podSelector: anyValue, policyTypes: anyValue, ingress: anyValue, egress: anyValue }),
  ),
  data: anyValue,
});

test('lintObjects never throws on objects with wrong-typed fields', () => {
  fc.assert(
    fc.property(fc.array(object, { maxLength: 5 }), (raws) => {
      const objects = raws.map((raw, i) => manifestObject(raw, 'f.yaml', i + 1)).filter((o): o is ManifestObject => o !== undefined);
      assert.equal(objects.length, raws.length);
      const r = lintObjects(objects);
      assert.ok(Array.isArray(r.findings));
    }),
    { numRuns: 2000, seed: 20261123 },
  );
});

test('parseManifestText never throws on arbitrary text', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 200, unit: fc.constantFrom('a', ':', ' ', '\n', '-', '{', '}', '[', ']', '&', '*', '!', '|', '>', '"', "'", '#', '%', 'kind', 'Service', '---', '...') }), async (text) => {
      const r = await parseManifestText(text, 'f.yaml');
      assert.ok(Array.isArray(r.objects) && Array.isArray(r.findings));
    }),
    { numRuns: 1000, seed: 20261123 },
  );
});
