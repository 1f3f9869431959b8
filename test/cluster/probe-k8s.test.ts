/**
 * `beamnode probe --kubernetes` on Kubernetes shapes DNS alone cannot explain: pods that run but
 * are not ready (absent from DNS, present in the EndpointSlice), with and without a readiness
 * probe; a pod with hostNetwork (the node takes the Kubernetes node's name); a StatefulSet whose
 * serviceName is a ClusterIP Service. Real erl in the pods, dnsmasq as CoreDNS; the API objects
 * from k8s-api.ts (see there). Root only; host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiObjects, type ApiPod } from './k8s-api.js';
import { createCluster, type Cluster } from './rig.js';
import { cookieDir, jsonFromPod, label, otp, skip } from './probe-support.js';

const RUNNER = fileURLToPath(new URL('./probe-k8s-runner.ts', import.meta.url));

interface JsonReport {
  verdict: string;
  nodes: { name: string; host: string; nameKnown: boolean; attempts: { forms: string[]; accepted: boolean; reason: string | null; actual?: string }[] }[];
  advice: { code: string; text: string }[];
  hosts: { ip: string; sources: string[]; ready?: boolean; pod?: string }[];
}

describe(`probe --kubernetes: not-ready pods, hostNetwork, a StatefulSet on a ClusterIP service (${label})`, { skip }, () => {
  const secret = randomBytes(12).toString('hex');
  let cookie: ReturnType<typeof cookieDir>;
  before(() => {
    cookie = cookieDir(secret);
  });
  after(() => cookie?.remove());

  function probe(c: Cluster, service: string, pods: ApiPod[]) {
    const file = join(cookie.dir, `${c.id}.json`);
    writeFileSync(file, JSON.stringify({ service, namespace: 'default', cookieFile: cookie.file, api: apiObjects(c, { pods }) }));
    return jsonFromPod<JsonReport>(c, [process.execPath, '--import', 'tsx', RUNNER, file], secret);
  }

  test(`not ready with a readiness probe: found through the EndpointSlice, publish-not-ready; without one: not-ready (no publishNotReadyAddresses); hostNetwork: host-network (${label})`, async () => {
    const pods = [
      { podName: 'myapp-0', hostname: 'myapp-0', subdomain: 'myapp-headless' },
      { podName: 'myapp-1', hostname: 'myapp-1', subdomain: 'myapp-headless', ready: false },
      { podName: 'myapp-2', hostname: 'myapp-2', subdomain: 'myapp-headless', ready: false, erl: false as const },
      // hostNetwork: the pod's hostname is its Kubernetes node's; no subdomain applies.
      { podName: 'myapp-3', hostname: 'kind-worker2', erl: false as const },
    ];
    const c = await createCluster({
      name: 'bnprobek', otp, subnet: '10.231.85.0/24', dnsMode: 'default', pods,
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    try {
      // The node on the host network takes the node's FQDN (its /etc/hosts is the node's).
      await c.startErl({ pod: 'myapp-3', name: 'myapp@kind-worker2.nodes.example.internal', cookie: secret });
      const { code, report, stdout } = await probe(c, 'myapp-headless', [
        { podName: 'myapp-0', owner: 'StatefulSet', readinessProbe: true },
        { podName: 'myapp-1', owner: 'StatefulSet', readinessProbe: true },
        { podName: 'myapp-2', owner: 'StatefulSet', readinessProbe: false },
        { podName: 'myapp-3', owner: 'StatefulSet', hostNetwork: true, nodeName: 'kind-worker2' },
      ]);
      assert.equal(code, 1, stdout);
      const p1 = c.pod('myapp-1');
      const h1 = report.hosts.find((h) => h.ip === p1.ip)!;
      assert.deepEqual([h1.sources, h1.ready, h1.pod], [['kubernetes'], false, 'myapp-1'], 'only the API knows the not-ready pod');
      const n1 = report.nodes.find((n) => n.host === p1.ip)!;
      assert.equal(n1.name, `myapp@${p1.selfFqdn}`, 'its node runs and is probed');
      const byCode = Object.fromEntries(report.advice.map((a) => [a.code, a.text]));
      assert.match(byCode['publish-not-ready'] ?? '', /myapp-1/, stdout);
      assert.doesNotMatch(byCode['publish-not-ready'], /myapp-2/, 'no publishNotReadyAddresses for a pod without a readiness probe');
      assert.match(byCode['not-ready'] ?? '', /myapp-2.*no readiness probe/, stdout);
      assert.match(byCode['host-network'] ?? '', /myapp-3.*kind-worker2.*myapp@kind-worker2\.nodes\.example\.internal/, stdout);
    } finally {
      await c.destroy();
    }
  });

  test(`a StatefulSet whose serviceName is a ClusterIP Service: pods found through the API, their FQDNs unresolvable; statefulset-service and not-headless (${label})`, async () => {
    const c = await createCluster({
      name: 'bnprobest', otp, subnet: '10.231.86.0/24', dnsMode: 'default', service: 'myapp', headless: false,
      pods: ['myapp-0', 'myapp-1'].map((podName) => ({ podName, hostname: podName, subdomain: 'myapp' })),
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    try {
      const { code, report, stdout } = await probe(c, 'myapp', [
        { podName: 'myapp-0', owner: 'StatefulSet', readinessProbe: true },
        { podName: 'myapp-1', owner: 'StatefulSet', readinessProbe: true },
      ]);
      assert.equal(code, 1, stdout);
      assert.equal(report.nodes.length, 2, stdout);
      for (const n of report.nodes) {
        const pod = c.pods.find((p) => p.ip === n.host)!;
        assert.equal(n.name, `myapp@${pod.podName}.myapp.default.svc.cluster.local`);
        const fqdn = n.attempts.find((a) => a.forms.includes('fqdn'))!;
        assert.equal(fqdn.reason, 'unresolvable');
      }
      const codes = report.advice.map((a) => a.code);
      assert.ok(codes.includes('statefulset-service') && codes.includes('not-headless'), codes.join());
    } finally {
      await c.destroy();
    }
  });
});
