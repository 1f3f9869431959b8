import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CorefileSyntaxError, parseCorefile } from '../../src/discovery/corefile.js';

const fixture = (f: string) => JSON.parse(readFileSync(new URL(`../fixtures/k8s/${f}`, import.meta.url), 'utf8')).data.Corefile as string;

test('kubeadm default Corefile: zones, pods insecure, ttl 30, no endpoint_pod_names', () => {
  const c = parseCorefile(fixture('configmap-coredns.json'));
  assert.equal(c.servers.length, 1);
  assert.deepEqual(c.servers[0].keys, ['.:53']);
  assert.deepEqual(c.servers[0].directives.map((d) => d.name), [
    'errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance',
  ]);
  const k = c.kubernetes[0];
  assert.deepEqual(k.zones, ['cluster.local', 'in-addr.arpa', 'ip6.arpa']);
  assert.equal(k.clusterDomain, 'cluster.local');
  assert.equal(k.endpointPodNames, false);
  assert.equal(k.podsMode, 'insecure');
  assert.equal(k.ttl, 30);
  assert.deepEqual(k.fallthrough, ['in-addr.arpa', 'ip6.arpa']);
  assert.equal(k.noendpoints, false);
});

test('endpoint_pod_names detected', () => {
  assert.equal(parseCorefile(fixture('configmap-coredns-endpoint-pod-names.json')).kubernetes[0].endpointPodNames, true);
});

test('plugin defaults, comments, quoted args, several server blocks, zones from the server key', () => {
  const c = parseCorefile(`# custom
k8s.example.com.:53 {
  kubernetes   # no zones: the server block's
}
.:53 {
  forward . "8.8.8.8"
  kubernetes cluster.local { endpoint_pod_names
     pods verified
     fallthrough
     noendpoints
  }
}
`);
  assert.equal(c.kubernetes.length, 2);
  assert.deepEqual(c.kubernetes[0].zones, ['k8s.example.com']);
  assert.equal(c.kubernetes[0].ttl, 5);
  assert.equal(c.kubernetes[0].podsMode, 'disabled');
  assert.equal(c.kubernetes[0].fallthrough, undefined);
  assert.equal(c.kubernetes[1].endpointPodNames, true);
  assert.equal(c.kubernetes[1].podsMode, 'verified');
  assert.deepEqual(c.kubernetes[1].fallthrough, ['*']);
  assert.equal(c.kubernetes[1].noendpoints, true);
  assert.deepEqual(c.servers[1].directives[0].args, ['.', '8.8.8.8']);
});

test('bad Corefiles throw CorefileSyntaxError, never hang', () => {
  for (const bad of ['.:53 {\n kubernetes {\n', '}\n', '{ errors }', `.:53 ${'{'.repeat(100)}`])
    assert.throws(() => parseCorefile(bad), CorefileSyntaxError, JSON.stringify(bad.slice(0, 20)));
  assert.deepEqual(parseCorefile('').kubernetes, []);
});
