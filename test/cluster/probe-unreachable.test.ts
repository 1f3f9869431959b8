/**
 * Hosts the probe cannot fully reach, with OTP's own epmd in every pod (the loopback version of
 * this scenario, probe-loopback.test.ts, needs the demo cluster's EPMDs: a real epmd always listens
 * on 127.0.0.1 too, so only one per port can run on loopback). Four pods: a healthy one, one whose
 * distribution port refuses (iptables REJECT with a reset, as a NetworkPolicy or a firewall that
 * lets 4369 through), one without epmd, one whose epmd lists no node. Root only; host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCluster, type Cluster } from './rig.js';
import { cookieDir, label, otp, probeCli, skip } from './probe-support.js';

interface JsonReport {
  verdict: string;
  nodes: { name: string; host: string; nameKnown: boolean; firstContact?: string; attempts: { forms: string[]; accepted: boolean; reason: string | null }[] }[];
  hosts: { ip: string; epmd: string; error?: string }[];
  advice: { code: string; text: string }[];
}

describe(`probe: a refused distribution port, a pod without epmd, an epmd with no node (${label})`, { skip }, () => {
  const secret = randomBytes(12).toString('hex');
  let cookie: ReturnType<typeof cookieDir>;
  let c: Cluster;
  let blockedPort = 0;
  before(async () => {
    cookie = cookieDir(secret);
    c = await createCluster({
      name: 'bnprobeu', otp, subnet: '10.231.91.0/24', dnsMode: 'endpoint_pod_names',
      pods: [
        { podName: 'myapp-0', hostname: 'myapp-0', subdomain: 'myapp-headless' },
        { podName: 'myapp-1', hostname: 'myapp-1', subdomain: 'myapp-headless' },
        { podName: 'myapp-2', hostname: 'myapp-2', subdomain: 'myapp-headless', epmd: false },
        { podName: 'myapp-3', hostname: 'myapp-3', subdomain: 'myapp-headless', erl: false },
      ],
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    // What OTP's epmd in myapp-1 says the node listens on; then that port refuses.
    const names = await c.exec(['epmd', '-names'], { pod: 'myapp-1', timeoutMs: 10_000 });
    blockedPort = Number(/name myapp at port (\d+)/.exec(names.stdout)?.[1]);
    assert.ok(blockedPort > 0, names.stdout);
    const r = await c.exec(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(blockedPort), '-j', 'REJECT', '--reject-with', 'tcp-reset'], { pod: 'myapp-1' });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await c?.destroy();
    cookie?.remove();
  });

  test(`epmd-unreachable for the pod without epmd, dist-port for the refused port, no-nodes for the empty epmd; the healthy node accepted; broken, exit 1 (${label})`, async () => {
    const { code, report } = await probeCli<JsonReport>(c, cookie.file, secret);
    const out = JSON.stringify({ hosts: report.hosts, advice: report.advice.map((a) => a.code) });
    assert.equal(code, 1, out);
    assert.equal(report.verdict, 'broken');
    const host = (pod: string) => report.hosts.find((h) => h.ip === c.pod(pod).ip);
    const node = (pod: string) => report.nodes.find((n) => n.host === c.pod(pod).ip);
    const viaDns = (n: JsonReport['nodes'][number]) => n.attempts.find((a) => a.forms.includes('dns'))!;

    assert.equal(viaDns(node('myapp-0')!).accepted, true, 'the healthy node is accepted under its SRV name');

    const blocked = node('myapp-1')!;
    assert.equal(host('myapp-1')?.epmd, 'ok', 'its epmd answers and names the node');
    assert.equal(blocked.nameKnown, false, 'no challenge was ever read');
    assert.match(blocked.firstContact ?? '', /ECONNREFUSED/);
    assert.equal(viaDns(blocked).reason, 'unreachable');
    assert.equal(blocked.attempts.find((a) => a.forms.includes('ip'))!.reason, 'unreachable');
    assert.ok(!blocked.attempts.some((a) => a.accepted));

    assert.equal(host('myapp-2')?.epmd, 'unreachable', out);
    assert.match(host('myapp-2')?.error ?? '', /ECONNREFUSED|refused/i);
    assert.equal(node('myapp-2'), undefined);

    assert.equal(host('myapp-3')?.epmd, 'ok', 'an epmd with no node still answers NAMES');
    assert.equal(node('myapp-3'), undefined, 'an EPMD with no node gives no node');

    const codes = report.advice.map((a) => a.code);
    for (const code of ['epmd-unreachable', 'dist-port', 'no-nodes']) assert.ok(codes.includes(code), `${code} in ${codes.join()}`);
    assert.match(report.advice.find((a) => a.code === 'no-nodes')!.text, new RegExp(c.pod('myapp-3').ip.replace(/\./g, '\\.')));
  });
});
