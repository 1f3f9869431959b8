/**
 * The rig reproduces Kubernetes' naming behaviour with real erl, epmd and dnsmasq (root only).
 * These are the findings the probe must later report: facts §0 and §5 of
 * /work/shared/k8s-discovery-facts.md, observed on pods made of network namespaces.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { otpMatrix, type ErlNode, type Otp } from '../support/otp.js';
import { createCluster, removeRig, rigId, type Cluster } from './rig.js';
import { dashedIp } from './k8s-model.js';
import { NETNS_ETC_DIR, listNetns, rigUnavailableReason } from './netns.js';
import { skipUnlessEnv } from '../support/env.js';

const skip = skipUnlessEnv(rigUnavailableReason());
// Every OTP of the matrix (host 25, chroot roots 27/29 when prepared) runs the naming suites.
const matrix: (Otp | undefined)[] = skip ? [undefined] : otpMatrix();
const labelOf = (otp: Otp | undefined) => otp?.label ?? 'no erl';
const rigName = (base: string, otp: Otp | undefined) => `${base}o${otp?.release ?? 0}`;
const SVC = 'myapp-headless.default.svc.cluster.local';
const cookie = () => randomBytes(12).toString('hex');
const q = (nodeName: string) => `'${nodeName}'`;

/** The SRV targets (sorted) and the record lines' `priority weight port` fields. */
function srvTargets(answers: string[]): { targets: string[]; fields: string[] } {
  const srv = answers.map((l) => l.split(/\s+/)).filter((f) => f[3] === 'SRV');
  return { targets: srv.map((f) => f[7].replace(/\.$/, '')).sort(), fields: [...new Set(srv.map((f) => f.slice(4, 7).join(' ')))] };
}

async function ping(from: ErlNode, nodeName: string): Promise<string> {
  return from.evalText(`net_adm:ping(${q(nodeName)})`, 30_000);
}

for (const otp of matrix) describe(`rig: Deployment pods with subdomain, CoreDNS default then endpoint_pod_names (${labelOf(otp)})`, { skip }, () => {
  let c: Cluster;
  let probe: ErlNode;
  const secret = cookie();
  const podNames = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij', 'myapp-7d9f8b6c5-klmno'];
  const fqdn = (pod: string) => `${pod}.${SVC}`;

  before(async () => {
    c = await createCluster({
      name: rigName('bnrig1', otp), otp, subnet: '10.231.41.0/24', namespace: 'default', service: 'myapp-headless',
      pods: [
        { podName: podNames[0], subdomain: 'myapp-headless' },
        { podName: podNames[1], subdomain: 'myapp-headless' },
        { podName: podNames[2], subdomain: 'myapp-headless', ready: false },
      ],
      dnsMode: 'default',
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    probe = await c.startErl({ name: `probe@${c.probe.ip}`, cookie: secret, args: ['-hidden'] });
  });
  after(() => c?.destroy());

  test('each pod has the kubelet hostname, /etc/hosts FQDN and resolv.conf', async () => {
    for (const p of c.pods) {
      const r = await c.exec(['sh', '-c', 'hostname; hostname -f; cat /etc/resolv.conf'], { pod: p.podName });
      assert.equal(r.code, 0, r.stderr);
      const [short, long] = r.stdout.split('\n');
      assert.equal(short, p.podName);
      assert.equal(long, fqdn(p.podName));
      assert.match(r.stdout, new RegExp(`nameserver ${c.dns.ip.replaceAll('.', '\\.')}\\n`));
      assert.match(r.stdout, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\noptions ndots:5/);
    }
  });

  test('each pod\'s erl -name myapp calls itself myapp@<pod>.myapp-headless.default.svc.cluster.local', async () => {
    for (const p of c.pods) {
      assert.ok(p.erl, `erl in ${p.podName} did not start: ${p.erlError}`);
      assert.equal(await p.erl.evalText('node()'), q(`myapp@${fqdn(p.podName)}`));
      assert.equal(p.expectedNodeName, `myapp@${fqdn(p.podName)}`);
    }
  });

  test('default mode: SRV targets (bare name and _epmd._tcp) are dashed-IP names of ready pods, weight floor(100/N)', async () => {
    const ready = c.pods.filter((p) => p.spec.ready !== false);
    const want = ready.map((p) => `${dashedIp(p.ip)}.${SVC}`).sort();
    for (const owner of [SVC, `_epmd._tcp.${SVC}`]) {
      const { status, answers } = await c.dig(owner, 'SRV');
      assert.equal(status, 'NOERROR');
      const { targets, fields } = srvTargets(answers);
      assert.deepEqual(targets, want);
      assert.deepEqual(fields, ['0 50 4369']);
    }
    const a = await c.dig(SVC, 'A');
    assert.deepEqual(a.answers.map((l) => l.split(/\s+/)[4]).sort(), ready.map((p) => p.ip).sort());
    const ptr = await c.dig(c.pods[0].ip, 'PTR');
    assert.equal(ptr.answers[0]?.split(/\s+/)[4], `${dashedIp(c.pods[0].ip)}.${SVC}.`);
    // The pod's own FQDN is not in DNS: only its /etc/hosts knows it.
    assert.equal((await c.dig(fqdn(podNames[0]), 'A')).status, 'NXDOMAIN');
    // `pods insecure`: a-b-c-d.<ns>.pod.<zone>, not-ready pods included.
    const podA = await c.dig(`${dashedIp(c.pods[2].ip)}.default.pod.cluster.local`, 'A');
    assert.equal(podA.answers[0]?.split(/\s+/)[4], c.pods[2].ip);
  });

  test('default mode: erl\'s resolver in the probe pod (libcluster DNSSRV\'s query) gets dashed-IP targets', async () => {
    const text = await probe.evalText(
      '{ok, {hostent, _, _, srv, _, Srv}} = inet_res:getbyname("myapp-headless", srv), lists:sort([T || {_, _, _, T} <- Srv])');
    const want = c.pods.filter((p) => p.spec.ready !== false).map((p) => `"${dashedIp(p.ip)}.${SVC}"`).sort();
    assert.equal(text, `[${want.join(',')}]`);
  });

  test('default mode: `node` run in the probe pod resolves through the pod\'s resolv.conf (search list applied)', async () => {
    const script = "require('node:dns').promises.resolveSrv('myapp-headless.default.svc.cluster.local')" +
      '.then((r) => console.log(JSON.stringify(r.map((x) => x.name).sort())))';
    const r = await c.exec([process.execPath, '-e', script], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const want = c.pods.filter((p) => p.spec.ready !== false).map((p) => `${dashedIp(p.ip)}.${SVC}`).sort();
    assert.deepEqual(JSON.parse(r.stdout), want);
    // glibc (getent) applies the search list to a relative name, as pods do.
    const g = await c.exec(['getent', 'hosts', 'myapp-headless']);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, new RegExp(`^10\\.231\\.41\\.1[12]\\s+${SVC.replaceAll('.', '\\.')}`));
  });

  test('exec is bounded: a command past its timeout is killed', async () => {
    const r = await c.exec(['sleep', '30'], { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
  });

  test('default mode: probe pings myapp@<ip>, myapp@<dashed-ip name> and the true FQDN: all pang', async () => {
    const p = c.pods[0];
    assert.equal(await ping(probe, `myapp@${p.ip}`), 'pang');
    assert.equal(await ping(probe, `myapp@${dashedIp(p.ip)}.${SVC}`), 'pang');
    assert.equal(await probe.evalText(`inet:gethostbyname(${q(fqdn(p.podName))})`), '{error,nxdomain}');
    assert.equal(await ping(probe, `myapp@${fqdn(p.podName)}`), 'pang');
    // The name mismatch is silent on the target (facts §0.1).
    assert.doesNotMatch(p.erl!.logText(), /Connection attempt|rejected/);
  });

  test('default mode: pods cannot reach each other by their true names', async () => {
    const [a, b] = c.pods;
    assert.equal(await ping(a.erl!, b.expectedNodeName!), 'pang');
    assert.equal(await ping(b.erl!, a.expectedNodeName!), 'pang');
    assert.equal(await ping(a.erl!, `myapp@${dashedIp(b.ip)}.${SVC}`), 'pang');
    assert.equal(await a.erl!.evalText('nodes()'), '[]');
  });

  test('endpoint_pod_names: SRV targets and PTR are the pod names; the not-ready pod stays out', async () => {
    await c.setDnsMode('endpoint_pod_names');
    assert.equal(c.dnsMode, 'endpoint_pod_names');
    const want = [podNames[0], podNames[1]].map(fqdn).sort();
    for (const owner of [SVC, `_epmd._tcp.${SVC}`]) {
      const { targets } = srvTargets((await c.dig(owner, 'SRV')).answers);
      assert.deepEqual(targets, want);
    }
    const ptr = await c.dig(c.pods[1].ip, 'PTR');
    assert.equal(ptr.answers[0]?.split(/\s+/)[4], `${fqdn(podNames[1])}.`);
    assert.equal((await c.dig(fqdn(podNames[2]), 'A')).status, 'NXDOMAIN');
    assert.equal((await c.dig(`${dashedIp(c.pods[0].ip)}.${SVC}`, 'A')).status, 'NXDOMAIN');
  });

  test('setPodReady: a pod turning Ready appears in SRV, and leaves again', async () => {
    const nr = c.pods[2];
    await c.setPodReady(nr.podName, true);
    assert.ok(srvTargets((await c.dig(SVC, 'SRV')).answers).targets.includes(fqdn(nr.podName)));
    assert.equal(srvTargets((await c.dig(SVC, 'SRV')).answers).fields[0], '0 33 4369');
    await c.setPodReady(nr.podName, false);
    assert.ok(!srvTargets((await c.dig(SVC, 'SRV')).answers).targets.includes(fqdn(nr.podName)));
  });

  test('endpoint_pod_names: probe pings the true FQDN: pong; the IP and the dashed name still pang', async () => {
    const p = c.pods[0];
    assert.equal(await ping(probe, `myapp@${fqdn(p.podName)}`), 'pong');
    assert.equal(await ping(probe, `myapp@${p.ip}`), 'pang');
    assert.equal(await ping(probe, `myapp@${dashedIp(p.ip)}.${SVC}`), 'pang');
  });

  test('endpoint_pod_names: pods reach each other by their true names and form a cluster', async () => {
    const [a, b] = c.pods;
    assert.equal(await ping(a.erl!, b.expectedNodeName!), 'pong');
    assert.equal(await ping(b.erl!, a.expectedNodeName!), 'pong');
    assert.equal(await a.erl!.evalText('nodes()'), `[${q(b.expectedNodeName!)}]`);
    // The probe is hidden: it never shows up in the app's nodes().
    assert.doesNotMatch(await b.erl!.evalText('nodes()'), /probe@/);
  });

  test('the dnsmasq query log shows what the pods asked', () => {
    assert.match(c.dnsLog(), new RegExp(`query\\[A\\] ${fqdn(podNames[1]).replaceAll('.', '\\.')} from ${c.pods[0].ip.replaceAll('.', '\\.')}`));
  });
});

for (const otp of matrix) describe(`rig: StatefulSet pods (hostname + subdomain = service) (${labelOf(otp)})`, { skip }, () => {
  let c: Cluster;
  let probe: ErlNode;
  const secret = cookie();

  before(async () => {
    c = await createCluster({
      name: rigName('bnrig2', otp), otp, subnet: '10.231.42.0/24',
      pods: [
        { podName: 'myapp-0', hostname: 'myapp-0', subdomain: 'myapp-headless' },
        { podName: 'myapp-1', hostname: 'myapp-1', subdomain: 'myapp-headless', erl: { cookie: cookie() } },
      ],
      erl: { alive: 'myapp', cookie: secret, nameMode: 'name' },
    });
    probe = await c.startErl({ name: `probe@${c.probe.ip}`, cookie: secret, args: ['-hidden'] });
  });
  after(() => c?.destroy());

  test('SRV targets are the hostnames in both modes, and the probe pings them: pong', async () => {
    const want = [`myapp-0.${SVC}`, `myapp-1.${SVC}`];
    for (const mode of ['default', 'endpoint_pod_names'] as const) {
      if (c.dnsMode !== mode) await c.setDnsMode(mode);
      assert.deepEqual(srvTargets((await c.dig(SVC, 'SRV')).answers).targets, want);
    }
    assert.equal(await c.pods[0].erl!.evalText('node()'), q(`myapp@myapp-0.${SVC}`));
    assert.equal(await ping(probe, `myapp@myapp-0.${SVC}`), 'pong');
  });

  test('a cookie mismatch is pang too, but the target logs it (facts §0.2)', async () => {
    const p = c.pods[1];
    assert.equal(await ping(probe, p.expectedNodeName!), 'pang');
    // Bounded wait for the target's logger to flush the report.
    for (let i = 0; i < 50 && !/Invalid challenge reply/.test(p.erl!.logText()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(p.erl!.logText(), /Connection attempt from node 'probe@[\d.]+' rejected\. Invalid challenge reply\./);
    assert.doesNotMatch(p.erl!.logText(), new RegExp(secret));
  });

  test('updateDns: several ports give N x M SRV records; only named ports have _name._tcp', async () => {
    await c.updateDns({ ports: [{ name: 'epmd', port: 4369 }, { port: 9100 }] });
    const bare = (await c.dig(SVC, 'SRV')).answers.map((l) => l.split(/\s+/).slice(4, 8).join(' ')).sort();
    assert.deepEqual(bare, [
      `0 25 4369 myapp-0.${SVC}.`, `0 25 4369 myapp-1.${SVC}.`, `0 25 9100 myapp-0.${SVC}.`, `0 25 9100 myapp-1.${SVC}.`]);
    assert.equal(srvTargets((await c.dig(`_epmd._tcp.${SVC}`, 'SRV')).answers).fields[0], '0 50 4369');
  });

  test('updateDns: a service without ports has A records but no SRV (NODATA); erl sees nxdomain (libcluster DNSSRV)', async () => {
    await c.updateDns({ ports: [] });
    const s = await c.dig(SVC, 'SRV');
    assert.equal(s.status, 'NOERROR');
    assert.deepEqual(s.answers, []);
    assert.equal((await c.dig(SVC, 'A')).answers.length, 2);
    assert.equal(await probe.evalText(`inet_res:getbyname(${q(SVC)}, srv)`), '{error,nxdomain}');
  });

  test('updateDns: a ClusterIP service answers SRV with its own name and one virtual address (libcluster #149)', async () => {
    await c.updateDns({ headless: false, ports: [{ name: 'epmd', port: 4369 }] });
    const { targets, fields } = srvTargets((await c.dig(SVC, 'SRV')).answers);
    assert.deepEqual(targets, [SVC]);
    assert.deepEqual(fields, ['0 100 4369']);
    assert.deepEqual((await c.dig(SVC, 'A')).answers.map((l) => l.split(/\s+/)[4]), [c.svc.clusterIP]);
    assert.equal((await c.dig(`myapp-0.${SVC}`, 'A')).status, 'NXDOMAIN');
    await c.updateDns({ headless: true });
    assert.deepEqual(srvTargets((await c.dig(SVC, 'SRV')).answers).targets, [`myapp-0.${SVC}`, `myapp-1.${SVC}`]);
  });

  test('updateDns: publishNotReadyAddresses keeps a not-ready pod in DNS', async () => {
    await c.updateDns({ ready: { 'myapp-1': false } });
    assert.deepEqual(srvTargets((await c.dig(SVC, 'SRV')).answers).targets, [`myapp-0.${SVC}`]);
    await c.updateDns({ publishNotReadyAddresses: true });
    assert.deepEqual(srvTargets((await c.dig(SVC, 'SRV')).answers).targets, [`myapp-0.${SVC}`, `myapp-1.${SVC}`]);
  });
});

for (const otp of matrix) describe(`rig: Deployment pods without subdomain (${labelOf(otp)})`, { skip }, () => {
  let c: Cluster;
  let probe: ErlNode;
  const secret = cookie();
  const longName = `myapp-${'x'.repeat(60)}-abcde`; // 72 characters: no DNS label, kubelet cuts the hostname

  before(async () => {
    c = await createCluster({
      name: rigName('bnrig3', otp), otp, subnet: '10.231.43.0/24', dnsMode: 'endpoint_pod_names',
      pods: [
        { podName: 'web-6c9f8d7b5-aaaaa' },
        { podName: 'web-6c9f8d7b5-bbbbb', erl: { nameMode: 'name' } },
        { podName: 'web-6c9f8d7b5-ccccc', erl: { nameMode: 'sname' } },
        { podName: longName, subdomain: 'myapp-headless', erl: { nameMode: 'name' } },
      ],
      erl: { alive: 'myapp', cookie: secret, nameMode: 'ip' },
    });
    probe = await c.startErl({ name: `probe@${c.probe.ip}`, cookie: secret, args: ['-hidden'] });
  });
  after(() => c?.destroy());

  test('erl -name myapp without the FQDN line fails: "Can\'t set long node name!"', async () => {
    const p = c.pods[1];
    assert.equal(p.erl, undefined);
    assert.equal(p.expectedNodeName, undefined);
    assert.match(p.erlError ?? '', /Can't set long node name/);
    const r = await c.exec(['hostname', '-f'], { pod: p.podName });
    assert.equal(r.stdout.trim(), p.podName);
  });

  test('-name myapp@<ip> is reachable by IP (libcluster :ip / K8s.DNS), not by its DNS name', async () => {
    const p = c.pods[0];
    assert.equal(await p.erl!.evalText('node()'), q(`myapp@${p.ip}`));
    assert.equal(await ping(probe, `myapp@${p.ip}`), 'pong');
    assert.equal(await ping(probe, `myapp@${p.podName}.${SVC}`), 'pang');
  });

  test('-sname myapp takes the short pod name; dialing a dotted SRV target from it fails as in libcluster #121', async () => {
    const p = c.pods[2];
    assert.equal(await p.erl!.evalText('node()'), q(`myapp@${p.podName}`));
    // A -name node dialing a short host: pang. OTP 25 logs nothing when the host does not resolve
    // (inet_tcp_dist:select/1 fails before splitnode/3 would complain).
    assert.equal(await ping(probe, `myapp@${p.podName}`), 'pang');
    assert.doesNotMatch(probe.logText(), /fully qualified/);
    // The -sname node dialing a resolvable dotted name (an SRV target) gets splitnode's error.
    assert.equal(await ping(p.erl!, `myapp@web-6c9f8d7b5-aaaaa.${SVC}`), 'pang');
    for (let i = 0; i < 50 && !/Hostname/.test(p.erl!.logText()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(p.erl!.logText(),
      new RegExp(`System NOT running to use fully qualified hostnames \\*\\*\\n\\*\\* Hostname web-6c9f8d7b5-aaaaa\\.${SVC.replaceAll('.', '\\.')} is illegal`));
  });

  test('a pod name over 63 characters: kubelet cuts the hostname, DNS falls back to the dashed IP', async () => {
    const p = c.pods[3];
    assert.equal(p.hostname, longName.slice(0, 63));
    assert.equal(await p.erl!.evalText('node()'), q(`myapp@${longName.slice(0, 63)}.${SVC}`));
    const { targets } = srvTargets((await c.dig(SVC, 'SRV')).answers);
    assert.ok(targets.includes(`${dashedIp(p.ip)}.${SVC}`), targets.join(' '));
    assert.ok(targets.includes(`web-6c9f8d7b5-aaaaa.${SVC}`), targets.join(' '));
    assert.equal(await ping(probe, p.expectedNodeName!), 'pang');
  });
});

describe('rig hygiene: leftovers are cleaned, destroy leaves nothing behind', { skip }, () => {
  test('createCluster removes a crashed run\'s namespaces but not a live run\'s; destroy kills every pid and removes everything', async () => {
    const rootLinks = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    const forwarding = spawnSync('sysctl', ['-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).stdout;
    // A "crashed run" (owner pid above pid_max: gone) with a process inside, and a "live run" of
    // the same rig name owned by our parent (alive).
    const stale = `${rigId('bnrig4', 4_194_304 + 7)}-pod7`;
    const live = `${rigId('bnrig4', process.ppid)}-pod3`;
    for (const ns of [stale, live]) {
      spawnSync('ip', ['netns', 'add', ns]);
      mkdirSync(join(NETNS_ETC_DIR, ns), { recursive: true });
    }
    const sleeper = spawn('ip', ['netns', 'exec', stale, 'sleep', '300'], { stdio: 'ignore' });
    let c: Cluster | undefined;
    try {
      for (let i = 0; i < 50 && !spawnSync('ip', ['netns', 'pids', stale], { encoding: 'utf8' }).stdout.trim(); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      c = await createCluster({
        name: 'bnrig4', subnet: '10.231.44.0/24', pods: [{ podName: 'solo-5f6d7c8b9-zzzzz' }],
        probePod: { podName: 'probe-abc', subdomain: 'probes' },
      });
      const fq = await c.exec(['hostname', '-f']);
      assert.equal(fq.stdout.trim(), 'probe-abc.probes.default.svc.cluster.local');
      assert.equal(c.probe.selfFqdn, 'probe-abc.probes.default.svc.cluster.local');
      assert.ok(!listNetns().includes(stale));
      assert.ok(!existsSync(join(NETNS_ETC_DIR, stale)));
      assert.ok(listNetns().includes(live), 'a live run\'s namespace must survive');
      await new Promise<void>((r) => (sleeper.exitCode !== null || sleeper.signalCode !== null ? r() : sleeper.once('exit', () => r())));
      assert.equal(sleeper.signalCode, 'SIGKILL');
      await assert.rejects(createCluster({ name: 'bnrig4', subnet: '10.231.45.0/24', pods: [] }), /already runs/);

      assert.equal(c.id, rigId('bnrig4'));
      const mine = listNetns().filter((n) => n.startsWith(`${c!.id}-`)).sort();
      assert.deepEqual(mine, ['dns', 'node', 'pod0', 'probe'].map((m) => `${c!.id}-${m}`));
      const pids = mine.flatMap((n) => spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean));
      assert.ok(pids.length >= 2, 'dnsmasq and epmd run'); // dnsmasq + the pod's epmd
      const { dir, id } = c;
      await c.destroy();
      c = undefined;
      assert.deepEqual(listNetns().filter((n) => n.startsWith(`${id}-`)), []);
      assert.deepEqual(existsSync(NETNS_ETC_DIR) ? readdirSync(NETNS_ETC_DIR).filter((n) => n.startsWith(`${id}-`)) : [], []);
      assert.ok(!existsSync(dir));
      for (const pid of pids) assert.throws(() => process.kill(Number(pid), 0), /ESRCH/, `pid ${pid} still runs`);
      // The root namespace is untouched: same links, forwarding as it was.
      assert.equal(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout, rootLinks);
      assert.equal(spawnSync('sysctl', ['-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).stdout, forwarding);
    } finally {
      await c?.destroy();
      sleeper.kill('SIGKILL');
      removeRig(stale.replace(/-pod7$/, ''));
      removeRig(live.replace(/-pod3$/, ''));
    }
  });
});
