/**
 * The probe's Kubernetes path (`--kubernetes`): a node:http server on loopback serves the API
 * server's real JSON shapes (test/fixtures/k8s/, addresses moved to the demo pods' loopback IPs),
 * next to real erl pods (demo-cluster.ts). The not-ready pod is absent from DNS but present in the
 * EndpointSlice: the probe finds it through the API and advises publishNotReadyAddresses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DnsClient } from '../../src/discovery/index.js';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes.js';
import { DemoCluster } from '../../src/emulation/demo-cluster.js';
import { runProbe } from '../../src/probe/probe.js';
import { hostOtp } from '../support/otp.js';

const otp = hostOtp();
const TOKEN = 'test-token-not-a-secret';
const NET = '127.82.0';
const IPS: Record<string, string> = { '10.244.1.11': `${NET}.11`, '10.244.2.12': `${NET}.12`, '10.244.1.13': `${NET}.13` };
const fixture = (f: string) => readFileSync(new URL(`../fixtures/k8s/${f}`, import.meta.url), 'utf8').replace(/10\.244\.\d+\.\d+/g, (ip) => IPS[ip] ?? ip);


describe(`probe --kubernetes (${otp.label})`, () => {
  let c: DemoCluster;
  const api = createServer((req: IncomingMessage, res: ServerResponse) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(body);
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, '{"kind":"Status","apiVersion":"v1","status":"Failure","code":401}');
    if (p === '/api/v1/namespaces/default/services/myapp-headless') return send(200, fixture('service-myapp-headless.json'));
    if (p === '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices') return send(200, fixture('endpointslicelist-myapp-headless.json'));
    if (p === '/api/v1/namespaces/default/pods') return send(200, fixture('podlist-myapp.json'));
    if (p === '/api/v1/namespaces/kube-system/configmaps/coredns') return send(200, fixture('configmap-coredns.json'));
    send(404, '{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}');
  });
  let url: string;

  before(async () => {
    // The fixtures' scenario: three Deployment pods with subdomain, the third not ready.
    c = await DemoCluster.start({
      net: NET,
      pods: [{ podName: 'myapp-7d9f8b6c5-abcde' }, { podName: 'myapp-7d9f8b6c5-fghij' }, { podName: 'myapp-7d9f8b6c5-klmno', ready: false }],
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  after(async () => {
    api.closeAllConnections();
    await new Promise<void>((r) => api.close(() => r()));
    await c?.stop();
  });

  const dns = () => new DnsClient({ nameserver: c.dns.nameserver, resolvConf: { nameservers: [], search: c.search, ndots: 5, timeout: 2, attempts: 1, useVc: false } });
  const probe = (client: () => Promise<KubernetesDiscovery>) =>
    runProbe({
      service: 'myapp-headless', dns: dns(), cookie: c.cookie, epmdPort: c.epmdPort, timeoutMs: 2000, probeName: { longHost: '127.0.0.1' },
      kubernetes: { namespace: 'default', client },
    });

  test(`EndpointSlices add the not-ready pod DNS hides; Corefile decides dnsMode; not-ready advice (the pods have no readiness probe, so publishNotReadyAddresses is not advised) (${otp.label})`, async () => {
    const r = await probe(() => KubernetesDiscovery.create({ server: url, token: TOKEN, namespace: 'default' }));
    const k = r.discovery.kubernetes!;
    assert.equal(k.error, undefined);
    assert.equal(k.headless, true);
    assert.equal(k.endpointPodNames, false, 'kubeadm Corefile');
    assert.equal(r.dnsMode, 'default');
    assert.deepEqual(k.endpoints.map((e) => [e.ip, e.pod, e.ready]), [
      [`${NET}.11`, 'myapp-7d9f8b6c5-abcde', true],
      [`${NET}.12`, 'myapp-7d9f8b6c5-fghij', true],
      [`${NET}.13`, 'myapp-7d9f8b6c5-klmno', false],
    ]);
    const hidden = r.hosts.find((h) => h.ip === `${NET}.13`)!;
    assert.deepEqual(hidden.sources, ['kubernetes'], 'only the API knows the not-ready pod');
    assert.equal(hidden.pod, 'myapp-7d9f8b6c5-klmno');
    assert.equal(r.nodes.length, 3);
    const codes = r.advice.map((a) => a.code);
    assert.ok(codes.includes('endpoint_pod_names') && codes.includes('not-ready') && !codes.includes('publish-not-ready'), codes.join());
    assert.equal(r.verdict, 'broken');
  });

  test(`beamnode probe --kubernetes with a kubeconfig (KUBECONFIG): the API's hosts and advice in the JSON (${otp.label})`, async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'beamnode-probe-k8s-'));
    try {
      const kubeconfig = join(dir, 'config');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          `clusters: [{name: test, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]`,
          `users: [{name: probe, user: {token: ${TOKEN}}}]`,
          'contexts: [{name: test, context: {cluster: test, user: probe, namespace: default}}]',
          'current-context: test',
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'cookie'), c.cookie);
      const args = ['--import', 'tsx', 'src/cli/main.ts', 'probe', 'myapp-headless.default.svc.cluster.local', '--kubernetes', '--json',
        '--nameserver', c.dns.nameserver, '--epmd-port', String(c.epmdPort), '--cookie-file', join(dir, 'cookie'), '--timeout', '2000'];
      const child = spawn(process.execPath, args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(guard);
      assert.equal(code, 1, stderr);
      const j = JSON.parse(stdout);
      assert.equal(j.discovery.kubernetes.namespace, 'default');
      assert.equal(j.discovery.kubernetes.error, undefined, j.discovery.kubernetes.error);
      assert.ok(j.hosts.some((h: { ip: string; sources: string[] }) => h.ip === `${NET}.13` && h.sources.includes('kubernetes')));
      assert.ok(j.advice.some((a: { code: string }) => a.code === 'not-ready'), JSON.stringify(j.advice));
      assert.ok(!(stdout + stderr).includes(c.cookie));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`an API that cannot be used is recorded and advised on; DNS discovery goes on (${otp.label})`, async () => {
    const r = await probe(() => KubernetesDiscovery.create({ server: 'http://127.0.0.1:1', token: TOKEN, namespace: 'default', timeoutMs: 2000 }));
    assert.match(r.discovery.kubernetes!.error!, /ECONNREFUSED|refused|unreachable/i);
    assert.ok(r.advice.some((a) => a.code === 'kubernetes-access'));
    assert.equal(r.nodes.length, 2, 'the two ready pods, from DNS');
  });
});
