/**
 * The Kubernetes part of discovery through @kubernetes/client-node, pointed (by a KubeConfig built
 * here) at a node:http server on loopback that serves the API server's real JSON shapes from
 * test/fixtures/k8s/: EndpointSliceList, Service, PodList, ConfigMap, and Status failures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes.js';
import { KubernetesAccessError, KubernetesError } from '../../src/discovery/errors.js';
import { freePort } from '../support/otp.js';
import { skipUnlessEnv } from '../support/env.js';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/k8s/${f}`, import.meta.url), 'utf8');
const TOKEN = 'test-token-not-a-secret';
const SVC = 'myapp-headless.default.svc.cluster.local';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
}

/** A fake API server: routes → fixture files; `locked` namespace and the CoreDNS ConfigMap can be made to 403. */
function apiServer() {
  const seen: Seen[] = [];
  const hanging = new Set<ServerResponse>();
  const state = { corefile: 'configmap-coredns.json' as string | 403, podsForbidden: false };
  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Audit-Id': 'a1b2c3d4-0000-4000-8000-000000000001' });
    res.end(body);
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams });
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return send(res, 401, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
    const p = url.pathname;
    const sel = url.searchParams.get('labelSelector');
    if (p.startsWith('/api/v1/namespaces/slow/')) {
      hanging.add(res); // never answered: the client's timeout must fire
      return;
    }
    if (p === '/api/v1/namespaces/default/services/myapp-headless' || p === '/api/v1/namespaces/locked/services/myapp-headless')
      return send(res, 200, fixture('service-myapp-headless.json'));
    if (p === '/api/v1/namespaces/default/services/nosuch') return send(res, 404, fixture('status-404-service.json'));
    if (p === '/apis/discovery.k8s.io/v1/namespaces/locked/endpointslices') return send(res, 403, fixture('status-403-endpointslices.json'));
    if (p === '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices')
      return send(
        res,
        200,
        sel === 'kubernetes.io/service-name=myapp-headless'
          ? fixture('endpointslicelist-myapp-headless.json')
          : JSON.stringify({ kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: '482355' }, items: [] }),
      );
    if (p === '/api/v1/namespaces/default/pods') {
      if (state.podsForbidden)
        return send(
          res,
          403,
          JSON.stringify({
            kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'pods' },
            message: 'pods is forbidden: User "system:serviceaccount:default:beamnode-probe" cannot list resource "pods" in API group "" in the namespace "default"',
          }),
        );
      return send(res, 200, sel === 'app=myapp' ? fixture('podlist-myapp.json') : JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] }));
    }
    if (p === '/api/v1/namespaces/kube-system/configmaps/coredns')
      return state.corefile === 403 ? send(res, 403, fixture('status-403-configmap-coredns.json')) : send(res, 200, fixture(state.corefile));
    send(res, 404, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 }));
  };
  const server: Server = createServer(handler);
  return { server, seen, state, hanging };
}

// The tests build their KubeConfig with the real client (a devDependency here).
const k8s = await import('@kubernetes/client-node');

function kubeConfig(server: string, token = TOKEN): KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server, skipTLSVerify: true }],
    users: [{ name: 'probe', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'probe', namespace: 'default' }],
    currentContext: 'test',
  });
  return kc;
}

// The package is a dependency and loads here; a user's tree can still lack it (pruned, a broken
// install). A child process whose resolver refuses the package shows that importing discovery
// survives it and that create() fails with a typed error, with no unhandled rejection left over.
test('without a loadable client library, create() fails with BEAM_ERR_K8S_CLIENT, never a crash at import', () => {
  const hooks = `export async function resolve(s, c, next) {
    if (s === '@kubernetes/client-node') throw new Error('simulated: the package is missing');
    return next(s, c);
  }`;
  const refuse = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const script = `
    const { KubernetesDiscovery } = await import(${JSON.stringify(new URL('../../src/discovery/kubernetes.ts', import.meta.url).href)});
    for (let i = 0; i < 2; i++) {
      try { await KubernetesDiscovery.create({ server: 'http://127.0.0.1:1' }); console.log('loaded'); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
    }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(refuse)}`, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; code: string; message: string });
  assert.equal(lines.length, 2, r.stdout);
  for (const e of lines) {
    assert.equal(e.name, 'KubernetesError');
    assert.equal(e.code, 'BEAM_ERR_K8S_CLIENT');
    assert.match(e.message, /cannot be loaded.*simulated: the package is missing/);
  }
});

describe('Kubernetes discovery against a fake API server with real JSON shapes', () => {
  const api = apiServer();
  let url: string;
  before(async () => {
    api.server.listen(0, '127.0.0.1');
    await once(api.server, 'listening');
    url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const r of api.hanging) r.destroy();
    api.server.closeAllConnections();
    await new Promise<void>((r) => api.server.close(() => r()));
  });

  test('EndpointSlices by kubernetes.io/service-name, with conditions, targetRef and nodeName', async () => {
    const k = await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url) });
    assert.equal(k.namespace, 'default', 'from the context');
    const eps = await k.endpointSlices('myapp-headless');
    const last = api.seen.at(-1)!;
    assert.equal(last.path, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices');
    assert.equal(last.query.get('labelSelector'), 'kubernetes.io/service-name=myapp-headless');
    assert.deepEqual(
      eps.map((e) => [e.addresses[0], e.ready, e.serving, e.terminating, e.hostname, e.targetRef?.kind, e.targetRef?.name, e.nodeName, e.slice]),
      [
        ['10.244.1.11', true, true, false, undefined, 'Pod', 'myapp-7d9f8b6c5-abcde', 'kind-worker', 'myapp-headless-x7k2p'],
        ['10.244.2.12', true, true, false, undefined, 'Pod', 'myapp-7d9f8b6c5-fghij', 'kind-worker2', 'myapp-headless-x7k2p'],
        ['10.244.1.13', false, false, false, undefined, 'Pod', 'myapp-7d9f8b6c5-klmno', 'kind-worker', 'myapp-headless-x7k2p'],
      ],
    );
    assert.deepEqual(await k.endpointSlices('other'), [], 'an existing namespace without slices is an empty list');
  });

  test('Service, pods by selector, Corefile; discover() predicts names', async () => {
    const k = await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url) });
    const d = await k.discover('myapp-headless');
    assert.equal(d.service.headless, true);
    assert.equal(d.service.publishNotReadyAddresses, false);
    assert.deepEqual(d.service.ports.map((p) => p.name), ['epmd']);
    assert.equal(api.seen.find((s) => s.path === '/api/v1/namespaces/default/pods')?.query.get('labelSelector'), 'app=myapp');
    assert.deepEqual(d.pods.map((p) => [p.name, p.subdomain, p.hostname, p.podIPs[0], p.ready, p.owner?.kind]), [
      ['myapp-7d9f8b6c5-abcde', 'myapp-headless', undefined, '10.244.1.11', true, 'ReplicaSet'],
      ['myapp-7d9f8b6c5-fghij', 'myapp-headless', undefined, '10.244.2.12', true, 'ReplicaSet'],
      ['myapp-7d9f8b6c5-klmno', 'myapp-headless', undefined, '10.244.1.13', false, 'ReplicaSet'],
    ]);
    assert.equal(d.coreDns.plugin?.endpointPodNames, false);
    assert.equal(d.coreDns.plugin?.podsMode, 'insecure');
    assert.equal(d.coreDns.plugin?.ttl, 30);
    const p0 = d.predictions[0];
    assert.equal(p0.selfFqdn, `myapp-7d9f8b6c5-abcde.${SVC}`);
    assert.equal(p0.dnsName.actual, `10-244-1-11.${SVC}`);
    assert.equal(p0.matches.actual, false);
    assert.deepEqual(p0.problems.map((x) => x.code), ['needs-endpoint-pod-names']);
    assert.deepEqual(d.errors, []);

    api.state.corefile = 'configmap-coredns-endpoint-pod-names.json';
    const e = await k.discover('myapp-headless');
    assert.equal(e.coreDns.plugin?.endpointPodNames, true);
    assert.equal(e.predictions[0].matches.actual, true);
    assert.deepEqual(e.predictions[0].problems, []);
  });

  test('403 on the EndpointSlices is a KubernetesAccessError naming verb, resource and the RBAC fix — never "no nodes"', async () => {
    const k = await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url) });
    await assert.rejects(k.endpointSlices('myapp-headless', { namespace: 'locked' }), (e: unknown) => {
      assert.ok(e instanceof KubernetesAccessError);
      assert.equal(e.code, 'BEAM_ERR_K8S_FORBIDDEN');
      assert.equal(e.status, 403);
      assert.equal(e.verb, 'list');
      assert.equal(e.resource, 'endpointslices.discovery.k8s.io');
      assert.equal(e.namespace, 'locked');
      assert.match(e.apiMessage, /cannot list resource "endpointslices" in API group "discovery.k8s.io"/);
      assert.match(e.fix, /create role .* --verb=list --resource=endpointslices.discovery.k8s.io/);
      assert.match(e.fix, /apiGroups: \["discovery.k8s.io"\]/);
      assert.match(e.message, /RBAC/);
      return true;
    });
    await assert.rejects(k.discover('myapp-headless', { namespace: 'locked' }), KubernetesAccessError);
  });

  test('403 on pods and on the CoreDNS ConfigMap are recorded, discovery goes on', async () => {
    api.state.corefile = 403;
    api.state.podsForbidden = true;
    try {
      const d = await (await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url) })).discover('myapp-headless');
      assert.equal(d.endpoints.length, 3);
      assert.deepEqual(d.pods, []);
      assert.equal(d.errors.length, 1);
      assert.ok(d.errors[0] instanceof KubernetesAccessError && d.errors[0].resource === 'pods');
      assert.ok(d.coreDns.error instanceof KubernetesAccessError);
      assert.equal((d.coreDns.error as KubernetesAccessError).verb, 'get');
      assert.equal((d.coreDns.error as KubernetesAccessError).namespace, 'kube-system');
      assert.equal(d.coreDns.plugin, undefined);
    } finally {
      api.state.corefile = 'configmap-coredns.json';
      api.state.podsForbidden = false;
    }
  });

  test('404, 401, timeout, abort and an unreachable server are typed', async () => {
    const k = await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url) });
    await assert.rejects(k.service('nosuch'), (e: unknown) => e instanceof KubernetesError && e.code === 'BEAM_ERR_K8S_NOT_FOUND' && /services "nosuch" not found/.test(e.message));
    await assert.rejects((await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url, 'wrong') })).service('myapp-headless'), (e: unknown) => e instanceof KubernetesError && e.code === 'BEAM_ERR_K8S_UNAUTHORIZED');
    const slow = await KubernetesDiscovery.create({ kubeConfig: kubeConfig(url), timeoutMs: 200 });
    await assert.rejects(slow.service('x', { namespace: 'slow' }), (e: unknown) => e instanceof KubernetesError && e.code === 'BEAM_ERR_K8S_TIMEOUT');
    const ac = new AbortController();
    const p = k.pods({ namespace: 'slow', signal: ac.signal });
    ac.abort(new Error('user abort'));
    await assert.rejects(p, /user abort/);
    const closed = await freePort();
    await assert.rejects(
      (await KubernetesDiscovery.create({ server: `http://127.0.0.1:${closed}`, token: TOKEN })).service('myapp-headless'),
      (e: unknown) => e instanceof KubernetesError && e.code === 'BEAM_ERR_K8S_UNREACHABLE' && /ECONNREFUSED/.test(e.message),
    );
  });

  test('no kubeconfig and no service account is a CONFIG error, not a request to localhost:8080', { skip: skipUnlessEnv(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token') && 'a process outside a pod (a service account token is mounted here)') }, async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    const home = mkdtempSync(join(tmpdir(), 'beamnode-k8s-home-'));
    process.env.KUBECONFIG = '';
    process.env.HOME = home;
    try {
      await assert.rejects(KubernetesDiscovery.create(), (e: unknown) => e instanceof KubernetesError && e.code === 'BEAM_ERR_K8S_CONFIG');
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('an explicit server URL and token work without a kubeconfig', async () => {
    const k = await KubernetesDiscovery.create({ server: url, token: TOKEN, namespace: 'default' });
    assert.equal((await k.service('myapp-headless')).name, 'myapp-headless');
    assert.equal(k.server, url);
  });
});
