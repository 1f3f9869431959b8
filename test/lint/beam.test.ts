// How a container's start-up is read: BEAM or not, long/short names, where the host part comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container } from '@kubernetes/client-node';
import { analyseContainer } from '../../src/lint/index.js';
import { shellWords } from '../../src/lint/shell.js';

const none = () => undefined;
const analyse = (c: Partial<V1Container>, cms: Record<string, Record<string, string>> = {}) => analyseContainer({ name: 'c', ...c } as V1Container, (n) => cms[n]);

test('shellWords keeps $(…) whole and drops quotes and separators', () => {
  assert.deepEqual(shellWords(`export RELEASE_NODE="app@$(hostname -f)"; exec bin/app start`), ['export', 'RELEASE_NODE=app@$(hostname -f)', 'exec', 'bin/app', 'start']);
  assert.deepEqual(shellWords(`erl -name 'a b' -s x && echo \\;done`), ['erl', '-name', 'a b', '-s', 'x', 'echo', ';done']);
});

test('not a BEAM: a plain container', () => {
  assert.deepEqual(analyse({ image: 'nginx:1.27', args: ['nginx', '-g', 'daemon off;'] }).beamReasons, []);
  assert.deepEqual(analyse({ image: 'ghcr.io/beamnode/beamnode:latest', args: ['probe', 'myapp-headless', '--kubernetes'] }).beamReasons, []);
});

test('BEAM by command, release command, env, EPMD port, image', () => {
  assert.ok(analyse({ command: ['erl', '-noshell'] }).beamReasons.some((r) => r.includes('erl')));
  assert.ok(analyse({ command: ['/app/bin/shop', 'start'] }).beamReasons.some((r) => r.includes('release command shop start')));
  assert.ok(analyse({ env: [{ name: 'ERL_AFLAGS', value: '-proto_dist inet6_tcp' }] }).beamReasons.length > 0);
  assert.ok(analyse({ ports: [{ containerPort: 4369 }] }).beamReasons.length > 0);
  assert.ok(analyse({ image: 'docker.io/library/elixir:1.17-otp-27' }).beamReasons.length > 0);
});

test('distribution mode: flags beat RELEASE_DISTRIBUTION; an unset release is the sname default; a Secret is unknown', () => {
  assert.equal(analyse({ command: ['elixir', '--sname', 'a', '-S', 'mix', 'run'] }).distribution.mode, 'sname');
  assert.equal(analyse({ command: ['sh', '-c', 'exec erl -name a@$(hostname -f)'], env: [{ name: 'RELEASE_DISTRIBUTION', value: 'sname' }] }).distribution.mode, 'name');
  assert.equal(analyse({ env: [{ name: 'RELEASE_COOKIE', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }).distribution.mode, 'release-default');
  assert.equal(analyse({ env: [{ name: 'RELEASE_DISTRIBUTION', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }).distribution.mode, 'unknown');
  assert.equal(analyse({ env: [{ name: 'RELEASE_DISTRIBUTION', value: 'name' }] }).distribution.mode, 'name');
  assert.equal(analyse({ env: [{ name: 'ERL_FLAGS', value: '-sname x' }] }).distribution.mode, 'sname');
});

test('host part: hostname -f, the pod IP through fieldRef, $HOSTNAME, literals, ConfigMap values', () => {
  const host = (node: string, extra: Partial<V1Container> = {}, cms = {}) =>
    analyse({ ...extra, env: [...(extra.env ?? []), { name: 'RELEASE_DISTRIBUTION', value: 'name' }, { name: 'RELEASE_NODE', value: node }] }, cms).distribution.host;
  assert.equal(host('app@$(hostname -f)'), 'fqdn');
  assert.equal(host('app'), 'bare');
  assert.equal(host('app@$(MY_IP)', { env: [{ name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }), 'pod-ip');
  assert.equal(host('app@$(POD_NAME)', { env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }), 'hostname');
  assert.equal(host('app@${HOSTNAME}'), 'hostname');
  assert.equal(host('app@10.1.2.3'), 'ip');
  assert.equal(host('app@fd00::1'), 'ip');
  assert.equal(host('app@app.example.com'), 'dotted');
  assert.equal(host('app@box'), 'short');
  assert.equal(host('app@$(DOMAIN)', { envFrom: [{ configMapRef: { name: 'cfg' } }] }, { cfg: { DOMAIN: 'svc.example.com' } }), 'dotted');
  assert.equal(host('app@$(WHATEVER)'), 'variable');
  assert.equal(none(), undefined);
});
