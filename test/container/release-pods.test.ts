/**
 * BEAM pods as containers: a real Elixir release (`mix release myapp`, images.ts) started in each
 * rig pod exactly as examples/k8s/deployment.yaml starts it: its command and args (a shell that
 * exports RELEASE_NODE=myapp@$(hostname -f), then `exec /app/bin/myapp start`), its env (the
 * cookie Secret's value through secretKeyRef, RELEASE_DISTRIBUTION=name, the pinned distribution
 * port), in the pod's network namespace with the pod's hostname and kubelet-written /etc/hosts.
 * The release brings its own epmd, as in a pod (the rig starts none there).
 *
 * Then the probe container (the Job's arguments, probe-job.ts) checks the cluster, and the
 * release's own nodes look each other up as libcluster's DNSSRV strategy does (SRV
 * _epmd._tcp.<service>, then `Node.ping(:"myapp@<target>")`): with CoreDNS's default dashed-IP
 * names the probe says broken and the nodes do not cluster; with endpoint_pod_names the probe
 * says ok and every node pongs every other. Root only (podman, namespaces).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Deployment, V1Service } from '@kubernetes/client-node';
import { parseManifestText } from '../../src/lint/index.js';
import { createCluster, type Cluster, type ClusterPod, type ServicePort } from '../cluster/rig.js';
import { rigUnavailableReason, run } from '../cluster/netns.js';
import { sleep } from '../support/otp.js';
import { buildProbeImage, buildReleaseImage } from './images.js';
import { REPO, cleanupContainers, containerName, containerUnavailableReason, podFlags, podman, podmanOk, removeContainers } from './podman.js';
import { loadProbeJob, runProbeContainer, type ProbeJob } from './probe-job.js';

const skip = containerUnavailableReason() ?? rigUnavailableReason() ?? false;
const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij', 'myapp-7d9f8b6c5-klmno'];

async function manifest<T>(file: string, kind: string): Promise<T> {
  const { objects } = await parseManifestText(readFileSync(join(REPO, 'examples/k8s', file), 'utf8'), file);
  const o = objects.find((x) => x.kind === kind);
  assert.ok(o, `${file} has a ${kind}`);
  return o.raw as T;
}

describe('release pods from examples/k8s/deployment.yaml as containers, checked by the probe container', { skip }, () => {
  const secret = randomBytes(16).toString('hex');
  let c: Cluster;
  let probeImage: string;
  let releaseImage: string;
  let job: ProbeJob;
  let app: V1Container;
  let service: V1Service;
  let envDir: string;
  const started: string[] = [];

  before(async () => {
    await cleanupContainers();
    const deployment = await manifest<V1Deployment>('deployment.yaml', 'Deployment');
    service = await manifest<V1Service>('headless-service.yaml', 'Service');
    app = deployment.spec!.template.spec!.containers[0];
    const subdomain = deployment.spec!.template.spec!.subdomain;
    assert.equal(subdomain, service.metadata!.name);
    [probeImage, releaseImage, job] = await Promise.all([
      buildProbeImage().then((b) => b.tag), buildReleaseImage().then((b) => b.tag), loadProbeJob(),
    ]);
    const ports: ServicePort[] = service.spec!.ports!.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP' }));
    c = await createCluster({
      name: 'bnctrel', subnet: '10.233.81.0/24', namespace: deployment.metadata!.namespace, service: service.metadata!.name,
      publishNotReadyAddresses: service.spec!.publishNotReadyAddresses, ports, dnsMode: 'default', podEpmd: false,
      pods: PODS.map((podName) => ({ podName, subdomain })),
    });
    // The container's env as the kubelet builds it, the Secret's value filled in: an env file
    // (0600), so the cookie is not on podman's command line.
    envDir = mkdtempSync(join(tmpdir(), 'beamnode-release-env-'));
    const lines = (app.env ?? []).map((e) => {
      if (e.valueFrom?.secretKeyRef) return `${e.name}=${secret}`;
      assert.ok(e.value !== undefined, `env ${e.name}`);
      return `${e.name}=${e.value}`;
    });
    writeFileSync(join(envDir, 'env'), lines.join('\n') + '\n', { mode: 0o600 });
    await Promise.all(c.pods.map((p) => startReleasePod(p)));
  });

  after(async () => {
    await removeContainers(started);
    await cleanupContainers({ mine: true });
    await c?.destroy();
    if (envDir) rmSync(envDir, { recursive: true, force: true });
  });

  const podContainer = (p: ClusterPod) => containerName(`release-${c.pods.indexOf(p)}`);
  /** What `-name myapp` with the pod's `hostname -f` gives (the rig runs no app of its own here). */
  const nodeName = (p: ClusterPod) => `myapp@${p.selfFqdn}`;

  /** deployment.yaml's container in pod `p`; resolves once the distribution port is registered (readiness). */
  async function startReleasePod(p: ClusterPod): Promise<void> {
    const name = podContainer(p);
    started.push(name);
    assert.equal(app.securityContext?.allowPrivilegeEscalation, false);
    await podmanOk([
      'run', '--rm', '--detach', '--name', name, ...podFlags({ netns: p.netns, hostname: p.hostname }),
      '--security-opt', 'no-new-privileges', '--env-file', join(envDir, 'env'),
      '--entrypoint', JSON.stringify(app.command), releaseImage, ...(app.args ?? []),
    ]);
    // The readinessProbe (tcpSocket on `dist`): here, the pod's epmd lists myapp on the pinned port.
    const dist = app.ports!.find((x) => x.name === 'dist')!.containerPort;
    let last = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const r = await run(['ip', 'netns', 'exec', p.netns, 'epmd', '-names'], { timeoutMs: 5000 });
      last = r.stdout + r.stderr;
      if (r.stdout.includes(`name myapp at port ${dist}`)) return;
      await sleep(250);
    }
    const logs = await podman(['logs', name], { timeoutMs: 30_000 });
    throw new Error(`release in ${p.podName} not registered on port ${dist}: ${last}\n${logs.stdout}${logs.stderr}`);
  }

  /** In pod `p`'s release: who am I, the SRV lookup libcluster's DNSSRV makes, a ping to each target, then Node.list(). */
  async function pingPeers(p: ClusterPod): Promise<{ self: string; pings: Record<string, string>; nodes: string[] }> {
    const svc = `${c.svc.service}.${c.svc.namespace}.svc.${c.svc.clusterDomain}`;
    const code = [
      `IO.puts("self #{Node.self()}")`,
      `{:ok, {:hostent, _, _, :srv, _, srvs}} = :inet_res.getbyname('_epmd._tcp.${svc}', :srv)`,
      `for {_, _, _, t} <- Enum.sort(srvs), :"myapp@#{t}" != Node.self(), do: IO.puts("ping myapp@#{t} #{Node.ping(:"myapp@#{t}")}")`,
      `IO.puts("nodes #{Enum.join(Enum.sort(Node.list()), " ")}")`,
    ].join('; ');
    // `bin/myapp rpc`, started as the container's command starts the node (RELEASE_NODE from hostname -f).
    // Without ERL_AFLAGS: the exec'd rpc node inherits the container's env, and would try to
    // listen on the pinned distribution port the release holds (eaddrinuse).
    const r = await podman(['exec', podContainer(p), '/bin/sh', '-c', 'unset ERL_AFLAGS; export RELEASE_NODE="myapp@$(hostname -f)"; exec /app/bin/myapp rpc "$1"', 'sh', code], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes(secret));
    const out = r.stdout.split('\n');
    const self = out.find((l) => l.startsWith('self '))!.slice(5);
    const pings = Object.fromEntries(out.filter((l) => l.startsWith('ping ')).map((l) => l.split(' ').slice(1) as [string, string]));
    const nodes = out.find((l) => l.startsWith('nodes '))!.slice(6).split(' ').filter(Boolean);
    return { self, pings, nodes };
  }

  test('each release took myapp@<pod FQDN> from hostname -f, on the pinned port, with the Secret cookie', async () => {
    for (const p of c.pods) {
      const { self } = await pingPeers(p);
      assert.equal(self, `myapp@${p.podName}.myapp-headless.default.svc.cluster.local`);
    }
  });

  test('CoreDNS default: the probe container says broken (exit 1, endpoint_pod_names advice), and the releases do not cluster', async () => {
    await c.setDnsMode('default');
    const r = await runProbeContainer(c, probeImage, job, secret, 'release-probe-default');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.report.verdict, 'broken');
    assert.deepEqual(r.report.nodes.map((n) => n.name).sort(), c.pods.map(nodeName).sort());
    assert.ok(r.report.advice.some((a) => a.code === 'endpoint_pod_names'));
    for (const p of c.pods) {
      const { pings, nodes } = await pingPeers(p);
      assert.equal(Object.keys(pings).length, PODS.length, JSON.stringify(pings));
      for (const [peer, answer] of Object.entries(pings)) {
        assert.match(peer, /^myapp@10-233-81-\d+\.myapp-headless\./, 'discovery gives dashed-IP names');
        assert.equal(answer, 'pang', `${p.podName} → ${peer}`);
      }
      assert.deepEqual(nodes, [], `${p.podName} is connected to nobody`);
    }
  });

  test('CoreDNS endpoint_pod_names: the probe container says ok (exit 0, no advice), and every release pongs every other', async () => {
    await c.setDnsMode('endpoint_pod_names');
    const r = await runProbeContainer(c, probeImage, job, secret, 'release-probe-epn');
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    assert.equal(r.report.verdict, 'ok');
    assert.deepEqual(r.report.advice, []);
    const all = c.pods.map(nodeName).sort();
    for (const p of c.pods) {
      const { self, pings, nodes } = await pingPeers(p);
      const others = all.filter((n) => n !== self);
      assert.deepEqual(Object.keys(pings).sort(), others, 'discovery gives the names the nodes hold');
      assert.ok(Object.values(pings).every((a) => a === 'pong'), JSON.stringify(pings));
      assert.deepEqual(nodes, others, `${p.podName} is connected to every other release`);
    }
  });
});
