// The node name's host, expanded as Kubernetes and the shell would, then classified as a whole;
// the ConfigMap files a container mounts; the products that name their nodes their own way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import { analyseContainer, type EnvEntry } from '../../src/lint/index.js';
import { classifyHost, expandText, hostParts } from '../../src/lint/host.js';
import { configFiles, mountedFiles } from '../../src/lint/files.js';

const field = (name: string, fieldPath: string): EnvEntry => ({ name, index: 0, source: 'field', fieldPath });
const literal = (name: string, value: string): EnvEntry => ({ name, index: 0, source: 'literal', value });

function host(node: string, env: EnvEntry[] = [], script: Record<string, string> = {}, opaqueEnv = false) {
  const scope = { script: new Map(Object.entries(script)), env: new Map(env.map((e) => [e.name, e])), namespace: 'prod', opaqueEnv };
  const parts = hostParts(expandText(node, scope));
  assert.ok(parts, node);
  return classifyHost(parts);
}

test('the whole host is classified: <pod>.<suffix> is a pod DNS name, not a bare pod name', () => {
  const pod = field('POD_NAME', 'metadata.name');
  const ns = field('NS', 'metadata.namespace');
  assert.deepEqual(host('a@$(POD_NAME).svc.$(NS).svc.cluster.local', [pod, ns]), { source: 'pod-dns', display: '<pod>.svc.prod.svc.cluster.local', suffix: 'svc.prod.svc.cluster.local' });
  assert.equal(host('a@$(POD_NAME)', [pod]).source, 'hostname');
  assert.equal(host('a@${HOSTNAME}.x.prod').source, 'pod-dns');
  assert.equal(host('a@$(hostname -f)').source, 'fqdn');
  assert.equal(host('a@`hostname -i`').source, 'pod-ip');
  assert.equal(host('a@$(H)', [literal('H', '$(POD_NAME).s.prod'), pod]).suffix, 's.prod');
});

test('the Kubernetes node (spec.nodeName, status.hostIP) is told apart from the pod', () => {
  assert.equal(host('a@$(NODE)', [field('NODE', 'spec.nodeName')]).source, 'k8s-node');
  assert.equal(host('a@${HOST_IP}', [field('HOST_IP', 'status.hostIP')]).source, 'k8s-node');
  assert.equal(host('a@$(IP)', [field('IP', 'status.podIP')]).source, 'pod-ip');
});

test('an undefined shell variable empties the host; defaults, Secrets and Kubernetes syntax do not', () => {
  assert.deepEqual(host('a@${POD_IP}'), { source: 'empty', display: '', via: ['${POD_IP}'] });
  assert.equal(host('a@$MY_POD_NAME.svc.ns.svc.cluster.local').source, 'empty'); // an empty first label
  assert.equal(host('a@${POD_IP:-10.0.0.1}').source, 'ip');
  assert.equal(host('a@${POD_IP}', [], {}, true).source, 'variable'); // envFrom a Secret may define it
  assert.equal(host('a@$(POD_IP)').source, 'variable'); // Kubernetes leaves it literal: env-var-reference says so
  assert.equal(host('a@${RELEASE_NAME}').source, 'variable'); // the release script sets it
  assert.equal(host('a@${IP//./-}.ns.pod.cluster.local').source, 'variable');
});

test('literal hosts: IPs, loopback, dotted and short names', () => {
  assert.equal(host('a@127.0.0.1').source, 'loopback');
  assert.equal(host('a@localhost').source, 'loopback');
  assert.equal(host('a@fd00::1').source, 'ip');
  assert.equal(host('a@10.1.2.3').source, 'ip');
  assert.equal(host('a@db.example.com').source, 'dotted');
  assert.equal(host('a@box').source, 'short');
  assert.equal(hostParts(expandText('app', { script: new Map(), env: new Map(), opaqueEnv: false })), undefined);
});

test('expansion is bounded: a variable that refers to itself stops', () => {
  assert.equal(host('a@$(X)', [literal('X', 'x.$(X)')]).source, 'variable');
});

const volumes: V1Volume[] = [
  { name: 'whole', configMap: { name: 'cfg' } },
  { name: 'some', configMap: { name: 'cfg', items: [{ key: 'env.sh', path: 'boot/env.sh' }] } },
  { name: 'proj', projected: { sources: [{ configMap: { name: 'other' } }] } },
];
const cms: Record<string, Record<string, string>> = {
  cfg: { 'env.sh': '# export RELEASE_DISTRIBUTION=sname\nexport RELEASE_DISTRIBUTION=name\n', 'vm.args': '-name a@${POD_IP} # comment\n-setcookie ${C}\n', 'setup.sh': 'export RELEASE_NODE=a@${POD_IP}' },
  other: { 'rabbitmq-env.conf': 'NODENAME=rabbit@$(hostname -f)\nUSE_LONGNAME=true\n' },
};

test('mounted ConfigMap files: whole volumes, items, subPath, projected volumes', () => {
  const files = (mounts: V1Container['volumeMounts']) => mountedFiles({ name: 'c', volumeMounts: mounts }, volumes, (n) => cms[n]).map((f) => f.path).sort();
  assert.deepEqual(files([{ name: 'whole', mountPath: '/etc/app/' }]), ['/etc/app/env.sh', '/etc/app/setup.sh', '/etc/app/vm.args']);
  assert.deepEqual(files([{ name: 'some', mountPath: '/app' }]), ['/app/boot/env.sh']);
  assert.deepEqual(files([{ name: 'whole', mountPath: '/rel/vm.args', subPath: 'vm.args' }]), ['/rel/vm.args']);
  assert.deepEqual(files([{ name: 'proj', mountPath: '/etc/rabbitmq' }]), ['/etc/rabbitmq/rabbitmq-env.conf']);
  assert.deepEqual(files([{ name: 'missing', mountPath: '/x' }]), []);
});

test('env.sh, sourced scripts, vm.args and rabbitmq-env.conf are read; comments are not', () => {
  const files = mountedFiles({ name: 'c', volumeMounts: [{ name: 'whole', mountPath: '/cfg' }, { name: 'proj', mountPath: '/etc/rabbitmq' }] }, volumes, (n) => cms[n]);
  const notSourced = configFiles(files, []);
  assert.equal(notSourced.vars.get('RELEASE_DISTRIBUTION'), 'name');
  assert.equal(notSourced.vars.get('RELEASE_NODE'), undefined); // setup.sh runs only when sourced
  assert.equal(notSourced.vars.get('RABBITMQ_NODENAME'), 'rabbit@$(hostname -f)');
  assert.deepEqual(notSourced.vmArgs, ['-name', 'a@${POD_IP}', '-setcookie', '${C}']);
  assert.equal(configFiles(files, ['.', '/cfg/setup.sh', 'exec', 'bin/a', 'start']).vars.get('RELEASE_NODE'), 'a@${POD_IP}');
});

test('products: RabbitMQ, EMQX, VerneMQ, CouchDB, Livebook, MongooseIM name their nodes their own way', () => {
  const a = (c: Partial<V1Container>, pod = {}) => analyseContainer({ name: 'c', ...c } as V1Container, () => undefined, { namespace: 'ns', ...pod });
  const rabbit = a({ image: 'rabbitmq:3.13', env: [{ name: 'RABBITMQ_USE_LONGNAME', value: 'true' }, { name: 'P', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'RABBITMQ_NODENAME', value: 'rabbit@$(P).r.ns.svc.cluster.local' }] });
  assert.equal(rabbit.product?.name, 'RabbitMQ');
  assert.deepEqual([rabbit.distribution.mode, rabbit.distribution.host, rabbit.product?.distPorts], ['name', 'pod-dns', [25672, 25672]]);
  assert.equal(a({ env: [{ name: 'RABBITMQ_NODENAME', value: 'rabbit@x.y' }] }).distribution.mode, 'sname');
  assert.equal(a({ image: 'registry.example.com:5000/library/rabbitmq:3.13@sha256:0a1b' }).product?.name, 'RabbitMQ');
  assert.equal(a({ image: 'python:3.12', env: [{ name: 'RABBITMQ_HOST', value: 'rabbitmq' }, { name: 'EMQX_HOST', value: 'emqx' }, { name: 'COUCHDB_URL', value: 'http://db:5984' }] }).product, undefined);
  const emqx = a({ image: 'emqx/emqx:5.8.0' });
  assert.deepEqual([emqx.distribution.mode, emqx.distribution.host, emqx.product?.epmd, emqx.product?.distPorts], ['name', 'pod-ip', false, [4370, 4370]]);
  assert.equal(a({ image: 'emqx/emqx:4.4.19' }).product?.epmd, true);
  assert.deepEqual(a({ image: 'emqx/emqx:5.8.0', env: [{ name: 'EMQX_CLUSTER__DISCOVERY_STRATEGY', value: 'k8s' }] }).product?.discovery?.dials, 'ip');
  assert.deepEqual(a({ env: [{ name: 'EMQX_CLUSTER__DISCOVERY_STRATEGY', value: 'dns' }, { name: 'EMQX_CLUSTER__DNS__RECORD_TYPE', value: 'srv' }] }).product?.discovery?.dials, 'dns-name');
  assert.equal(a({ image: 'emqx/emqx:5.8.0', env: [{ name: 'EMQX_CLUSTER__DISCOVERY_STRATEGY', value: 'static' }] }).product?.discovery, undefined);
  const verne = a({ image: 'vernemq/vernemq:1.13.0', env: [{ name: 'DOCKER_VERNEMQ_DISCOVERY_KUBERNETES', value: '1' }] }, { subdomain: 'v' });
  assert.deepEqual([verne.distribution.node, verne.distribution.host], ['VerneMQ@${MY_POD_NAME}.v.ns.svc.cluster.local', 'empty']);
  assert.equal(a({ image: 'couchdb:3.3.3' }).distribution.host, 'loopback');
  assert.equal(a({ image: 'couchdb:3.3.3', env: [{ name: 'ERL_FLAGS', value: '-name couchdb' }] }).distribution.host, 'bare'); // the flag wins
  assert.deepEqual([a({ env: [{ name: 'LIVEBOOK_NODE', value: 'lb@10.0.0.1' }] }).distribution.mode, a({ env: [{ name: 'LIVEBOOK_CLUSTER', value: 'dns:x' }] }).distribution.mode], ['sname', 'unknown']);
  assert.equal(a({ image: 'mongooseim/mongooseim:6.2.1', env: [{ name: 'NODE_TYPE', value: 'name' }] }).distribution.host, 'fqdn');
  assert.equal(a({ image: 'nginx:1.27', env: [{ name: 'NODE_NAME', value: 'x' }] }).beamReasons.length, 0);
});
