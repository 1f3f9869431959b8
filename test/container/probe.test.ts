/**
 * The probe image run as examples/k8s/probe-job.yaml runs it (probe-job.ts), inside the cluster
 * rig's probe pod (network namespaces as pods, dnsmasq as CoreDNS, real `erl -name myapp` in each
 * pod), on every scenario test/cluster/probe.test.ts covers natively: CoreDNS default then
 * endpoint_pod_names, a wrong cookie, short names, IP names, a Service without ports, a ClusterIP
 * Service. Each time the container's verdict, exit code and advice are asserted, and its whole
 * report (every name tried, every reason) must equal the native probe's in the same pod.
 * Root only (podman, namespaces); host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostOtp } from '../support/otp.js';
import { createCluster, type Cluster, type ClusterOptions } from '../cluster/rig.js';
import { dashedIp } from '../cluster/k8s-model.js';
import { rigUnavailableReason } from '../cluster/netns.js';
import { buildProbeImage } from './images.js';
import { cleanupContainers, containerUnavailableReason } from './podman.js';
import { comparable, loadProbeJob, runProbeContainer, runProbeNative, type ProbeJob, type ProbeRun } from './probe-job.js';

const skip = containerUnavailableReason() ?? rigUnavailableReason() ?? false;
const SVC = 'myapp-headless.default.svc.cluster.local';
const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij'];
const label = skip ? 'no podman' : hostOtp().label;

describe(`the probe image as the Job runs it, in a rig pod (${label})`, { skip }, () => {
  const secret = randomBytes(12).toString('hex');
  let image: string;
  let job: ProbeJob;

  before(async () => {
    await cleanupContainers();
    [image, job] = await Promise.all([buildProbeImage().then((b) => b.tag), loadProbeJob()]);
  });
  after(() => cleanupContainers({ mine: true }));

  /** The container's run, after asserting that the native probe in the same pod says exactly the same. */
  async function probeBoth(c: Cluster, what: string, cookie = secret): Promise<ProbeRun> {
    const native = await runProbeNative(c, job, cookie);
    const inContainer = await runProbeContainer(c, image, job, cookie, what);
    assert.deepEqual(comparable(inContainer), comparable(native), `container vs native\n${inContainer.stderr}`);
    return inContainer;
  }
  const codes = (r: ProbeRun) => r.report.advice.map((a) => a.code);
  const byForms = (n: ProbeRun['report']['nodes'][number]) => Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));

  async function withRig(o: Omit<ClusterOptions, 'pods' | 'otp'> & { subdomain?: boolean }, body: (c: Cluster) => Promise<void>): Promise<void> {
    const { subdomain = true, ...rest } = o;
    const c = await createCluster({
      otp: hostOtp(), pods: PODS.map((podName) => ({ podName, ...(subdomain ? { subdomain: 'myapp-headless' } : {}) })),
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' }, ...rest,
    });
    try {
      await body(c);
    } finally {
      await c.destroy();
    }
  }

  describe('Deployment pods with subdomain, -name myapp', () => {
    let c: Cluster;
    before(async () => {
      c = await createCluster({
        name: 'bnctprobe', otp: hostOtp(), subnet: '10.233.61.0/24', dnsMode: 'default',
        pods: PODS.map((podName) => ({ podName, subdomain: 'myapp-headless' })),
        erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
      });
    });
    after(() => c?.destroy());

    test('CoreDNS default: dashed-IP names mismatch; broken, exit 1, endpoint_pod_names advice', async () => {
      await c.setDnsMode('default');
      const r = await probeBoth(c, 'probe-default');
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.report.verdict, 'broken');
      assert.equal(r.report.dnsMode, 'default');
      assert.deepEqual(r.report.nodes.map((n) => n.name).sort(), c.pods.map((p) => p.expectedNodeName).sort());
      for (const n of r.report.nodes) {
        const pod = c.pods.find((p) => p.ip === n.host)!;
        const f = byForms(n);
        assert.deepEqual([f.dns.dialed, f.dns.reason, f.dns.actual], [`myapp@${dashedIp(pod.ip)}.${SVC}`, 'mismatch', `myapp@${pod.podName}.${SVC}`]);
      }
      assert.ok(codes(r).includes('endpoint_pod_names'), codes(r).join());
    });

    test('CoreDNS endpoint_pod_names: every node accepted under its discovered name; ok, exit 0, no advice', async () => {
      await c.setDnsMode('endpoint_pod_names');
      const r = await probeBoth(c, 'probe-epn');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.report.verdict, 'ok');
      assert.equal(r.report.nodes.length, PODS.length);
      for (const n of r.report.nodes) {
        const pod = c.pods.find((p) => p.ip === n.host)!;
        const d = n.attempts.find((a) => a.forms.includes('dns'))!;
        assert.deepEqual([d.dialed, d.accepted], [`myapp@${pod.podName}.${SVC}`, true]);
      }
      assert.deepEqual(r.report.advice, []);
    });

    test('a Secret with another cookie: bad-cookie under the pod name, cookie advice, exit 1', async () => {
      await c.setDnsMode('endpoint_pod_names');
      const r = await probeBoth(c, 'probe-cookie', 'wrong-cookie-in-the-secret');
      assert.equal(r.code, 1);
      for (const n of r.report.nodes) assert.equal(n.attempts.find((a) => a.forms.includes('dns'))!.reason, 'bad-cookie');
      assert.ok(codes(r).includes('cookie'), codes(r).join());
    });
  });

  test('-sname pods: dotted names illegal for a short-names node; name-mode advice, exit 1', async () => {
    await withRig({ name: 'bnctsname', subnet: '10.233.71.0/24', dnsMode: 'endpoint_pod_names', erl: { alive: 'myapp', cookie: secret, nameMode: 'sname' } }, async (c) => {
      const r = await probeBoth(c, 'probe-sname');
      assert.equal(r.code, 1);
      for (const n of r.report.nodes) assert.equal(byForms(n).dns.reason, 'illegal-host');
      assert.ok(codes(r).includes('name-mode') && !codes(r).includes('endpoint_pod_names'), codes(r).join());
    });
  });

  test('-name myapp@<pod IP>: IP accepted, dashed name mismatch; ip-name-mismatch advice, exit 1', async () => {
    await withRig({ name: 'bnctip', subnet: '10.233.72.0/24', subdomain: false, dnsMode: 'default', erl: { alive: 'myapp', cookie: secret, nameMode: 'ip' } }, async (c) => {
      const r = await probeBoth(c, 'probe-ip');
      assert.equal(r.code, 1);
      for (const n of r.report.nodes) {
        assert.equal(byForms(n)['ip=fqdn'].accepted, true);
        assert.equal(byForms(n).dns.reason, 'mismatch');
      }
      assert.ok(codes(r).includes('ip-name-mismatch'), codes(r).join());
    });
  });

  test('a Service without ports: no SRV, A-record IPs against FQDN names; no-ports and name-ip-mismatch advice, exit 1', async () => {
    await withRig({ name: 'bnctports', subnet: '10.233.73.0/24', dnsMode: 'endpoint_pod_names', ports: [] }, async (c) => {
      const r = await probeBoth(c, 'probe-ports');
      assert.equal(r.code, 1);
      assert.equal(r.report.nodes.length, PODS.length);
      assert.ok(codes(r).includes('no-ports') && codes(r).includes('name-ip-mismatch'), codes(r).join());
    });
  });

  test('a ClusterIP Service: no node found behind it; not-headless advice, exit 1', async () => {
    await withRig({ name: 'bnctcip', subnet: '10.233.74.0/24', dnsMode: 'endpoint_pod_names', headless: false }, async (c) => {
      const r = await probeBoth(c, 'probe-clusterip');
      assert.equal(r.code, 1);
      assert.equal(r.report.nodes.length, 0);
      assert.ok(codes(r).includes('not-headless'), codes(r).join());
    });
  });
});
