/**
 * The watch with the real probe against real erl nodes on loopback (the demo cluster: erl pods on
 * 127.x addresses, their own EPMDs, a CoreDNS-like server), no root: default mode gives verdict 0,
 * switching endpoint_pod_names on turns it to 1 on a later run with the mesh and the held
 * connections up; a pod whose erl dies loses its series and its held connection. Host OTP only
 * (the demo cluster runs the host's erl).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient } from '../../src/discovery/index.js';
import { DemoCluster } from '../../src/emulation/demo-cluster.js';
import { startWatch, type RunningWatch } from '../../src/probe/watch/index.js';
import { hostOtp } from '../support/otp.js';
import { parseMetrics, samples, type Sample } from '../probe/watch-support.js';

const otp = hostOtp();
const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij', 'myapp-7d9f8b6c5-klmno'];
const FORMS = ['ip', 'localhost', 'short', 'dns', 'fqdn'];

describe(`probe --watch against loopback erl pods (${otp.label})`, () => {
  let c: DemoCluster;
  let w: RunningWatch;
  before(async () => {
    c = await DemoCluster.start({ net: '127.79.0', pods: PODS.map((podName) => ({ podName })) });
    w = await startWatch({
      probe: {
        service: 'myapp-headless', cookie: c.cookie, epmdPort: c.epmdPort, timeoutMs: 2000, mesh: true, probeName: { longHost: '127.0.0.1' },
        dns: new DnsClient({ nameserver: c.dns.nameserver, resolvConf: { nameservers: [], search: c.search, ndots: 5, timeout: 2, attempts: 1, useVc: false } }),
      },
      intervalMs: 200,
      listen: { host: '127.0.0.1', port: 0 },
      defaultMetrics: false,
    });
  });
  after(async () => {
    await w?.stop();
    await c?.stop();
  });

  /** Runs until `ok` holds for the metrics after a run (bounded: 60 runs). */
  async function untilRun(what: string, ok: (s: Sample[]) => boolean): Promise<Sample[]> {
    let s: Sample[] = [];
    for (let i = 0; i < 60; i++) {
      await w.nextRun(AbortSignal.timeout(60_000));
      s = parseMetrics((await w.metrics.text()).body);
      if (ok(s)) return s;
    }
    throw new Error(`${what}: not after 60 runs; last:\n${s.filter((x) => x.name.startsWith('beamnode_')).map((x) => JSON.stringify(x)).join('\n')}`);
  }

  const verdict = (s: Sample[]) => samples(s, 'beamnode_probe_verdict')[0]?.value;

  test('default CoreDNS: verdict 0, a series per node and form, all 0; nothing held', async () => {
    const s = await untilRun('a run', () => true);
    assert.equal(verdict(s), 0);
    const names = c.pods.map((p) => p.nodeName).sort();
    assert.deepEqual(samples(s, 'beamnode_probe_name_accepted').map((x) => `${x.labels.node} ${x.labels.form}`).sort(), names.flatMap((n) => FORMS.map((f) => `${n} ${f}`)).sort());
    assert.ok(samples(s, 'beamnode_probe_name_accepted').every((x) => x.value === 0));
    assert.equal(samples(s, 'beamnode_dist_node_state').length, 0);
  });

  test('endpoint_pod_names on: verdict 1 on a later run, every pair pongs, every node held up', async () => {
    c.setEndpointPodNames(true);
    const s = await untilRun('verdict 1 and three held connections', (x) => verdict(x) === 1 && samples(x, 'beamnode_dist_node_state', {}).filter((d) => d.value === 3).length === 3);
    assert.equal(samples(s, 'beamnode_mesh_pair_up').length, 6);
    assert.ok(samples(s, 'beamnode_mesh_pair_up').every((x) => x.value === 1));
    assert.deepEqual(samples(s, 'beamnode_dist_node_state').map((x) => x.labels.peer).sort(), c.pods.map((p) => p.nodeName).sort());
    for (const p of c.pods) assert.equal(samples(s, 'beamnode_probe_name_accepted', { node: p.nodeName, form: 'dns' })[0].value, 1);
    const report = JSON.parse(w.latest()!.json) as { verdict: string };
    assert.equal(report.verdict, 'ok');
  });

  test('a pod whose erl dies: its true-name series and its held connection go; verdict 0', async () => {
    const gone = c.pods[2];
    await c.killErl(gone.podName);
    const s = await untilRun('the dead node gone from the series', (x) => !x.some((m) => m.labels.node === gone.nodeName || m.labels.peer === gone.nodeName || m.labels.from === gone.nodeName));
    assert.equal(verdict(s), 0);
    assert.deepEqual(samples(s, 'beamnode_dist_node_state').map((x) => x.labels.peer).sort(), c.pods.slice(0, 2).map((p) => p.nodeName).sort());
    assert.equal(samples(s, 'beamnode_cluster_nodes', { state: 'reachable' })[0].value, 2);
    assert.equal(samples(s, 'beamnode_cluster_nodes', { state: 'discovered' })[0].value, 3, 'EPMD still lists it');
  });
});
