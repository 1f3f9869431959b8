/**
 * The probe against real erl nodes on loopback (src/emulation/demo-cluster.ts: erl pods named like
 * Deployment pods with subdomain, each on its own 127.x address with its own EPMD, and the
 * in-process CoreDNS-like server): name mismatches, illegal hosts, unresolvable FQDNs, the
 * endpoint_pod_names fix, a wrong cookie, unreachable EPMD and dist ports, and the CLI.
 * Host OTP only (the demo cluster runs the host's erl). The same scenarios with OTP's epmd in
 * every pod: test/cluster/probe.test.ts and probe-unreachable.test.ts (root).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsClient } from '../../src/discovery/index.js';
import { DemoCluster } from '../../src/emulation/demo-cluster.js';
import { runProbe, type ProbeOptions } from '../../src/probe/probe.js';
import { renderJson, renderTable } from '../../src/probe/render.js';
import type { NodeReport, ProbeReport } from '../../src/probe/types.js';
import { hostOtp } from '../support/otp.js';

const otp = hostOtp();
const SVC = 'myapp-headless.default.svc.cluster.local';
const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij'];

function dnsOf(c: DemoCluster): DnsClient {
  return new DnsClient({ nameserver: c.dns.nameserver, resolvConf: { nameservers: [], search: c.search, ndots: 5, timeout: 2, attempts: 1, useVc: false } });
}

function probe(c: DemoCluster, o: Partial<ProbeOptions> = {}): Promise<ProbeReport> {
  return runProbe({ service: 'myapp-headless', dns: dnsOf(c), cookie: c.cookie, epmdPort: c.epmdPort, timeoutMs: 2000, probeName: { longHost: '127.0.0.1' }, ...o });
}

const byForm = (n: NodeReport) => Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));

describe(`probe on loopback erl pods (${otp.label})`, () => {
  let c: DemoCluster;
  before(async () => {
    c = await DemoCluster.start({ net: '127.78.0', pods: PODS.map((podName) => ({ podName })) });
  });
  after(() => c?.stop());

  test(`CoreDNS default: ip and dashed names are mismatches naming the true FQDN, localhost/short illegal, FQDN unresolvable; broken (${otp.label})`, async () => {
    c.setEndpointPodNames(false);
    const r = await probe(c);
    assert.equal(r.verdict, 'broken');
    assert.equal(r.dnsMode, 'default');
    assert.equal(r.service, SVC);
    assert.equal(r.nodes.length, 2);
    for (const [i, pod] of PODS.entries()) {
      const n = r.nodes.find((x) => x.host === c.pods[i].ip)!;
      const trueName = `myapp@${pod}.${SVC}`;
      assert.equal(n.name, trueName, 'learnt from the challenge');
      assert.equal(n.nameKnown, true);
      assert.equal(n.longNames, true);
      const f = byForm(n);
      assert.deepEqual(Object.keys(f), ['ip', 'localhost', 'short', 'dns', 'fqdn']);
      assert.deepEqual([f.ip.dialed, f.ip.reason, f.ip.actual], [`myapp@${c.pods[i].ip}`, 'mismatch', trueName]);
      assert.deepEqual([f.localhost.reason, f.short.reason], ['illegal-host', 'illegal-host']);
      assert.match(f.localhost.detail!, /Hostname localhost is illegal/);
      assert.equal(f.short.dialed, `myapp@${pod}`);
      assert.deepEqual([f.dns.dialed, f.dns.reason, f.dns.actual], [`myapp@${c.pods[i].ip.replace(/\./g, '-')}.${SVC}`, 'mismatch', trueName]);
      assert.equal(f.dns.address, c.pods[i].ip, 'the dashed name resolved through the cluster DNS');
      assert.deepEqual([f.fqdn.dialed, f.fqdn.reason], [trueName, 'unresolvable']);
      assert.match(f.fqdn.detail!, /NXDOMAIN/);
    }
    assert.deepEqual(r.advice.map((a) => a.code), ['endpoint_pod_names']);
    const out = renderTable(r, { color: false }) + renderJson(r);
    assert.ok(!out.includes(c.cookie), 'the cookie is never printed');
  });

  test(`CoreDNS with endpoint_pod_names: every node accepted under the name SRV returns; ok (${otp.label})`, async () => {
    c.setEndpointPodNames(true);
    const r = await probe(c);
    assert.equal(r.verdict, 'ok');
    assert.equal(r.dnsMode, 'endpoint_pod_names');
    for (const [i, pod] of PODS.entries()) {
      const n = r.nodes.find((x) => x.host === c.pods[i].ip)!;
      const f = byForm(n);
      assert.deepEqual(Object.keys(f), ['ip', 'localhost', 'short', 'dns=fqdn']);
      assert.equal(f['dns=fqdn'].dialed, `myapp@${pod}.${SVC}`);
      assert.equal(f['dns=fqdn'].accepted, true);
      assert.equal(f.ip.reason, 'mismatch', 'the IP is still not its name');
    }
    assert.deepEqual(r.advice, []);
  });

  test(`--mesh on loopback: the probe reaches each node at its probed address whatever its own resolver; every pair pongs (${otp.label})`, async () => {
    c.setEndpointPodNames(true);
    const r = await probe(c, { mesh: true });
    assert.equal(r.verdict, 'ok', JSON.stringify(r.mesh));
    assert.equal(r.mesh!.matrix.length, PODS.length * (PODS.length - 1));
    assert.ok(r.mesh!.matrix.every((m) => m.result === 'pong'), JSON.stringify(r.mesh));
  });

  test(`wrong cookie: the true name is still learnt, the right name fails as bad-cookie, cookie advice with a hash (${otp.label})`, async () => {
    c.setEndpointPodNames(true);
    const wrong = 'not-the-cluster-cookie';
    const r = await probe(c, { cookie: wrong });
    assert.equal(r.verdict, 'broken');
    for (const n of r.nodes) {
      assert.equal(n.nameKnown, true);
      const f = byForm(n);
      assert.deepEqual([f['dns=fqdn'].accepted, f['dns=fqdn'].reason], [false, 'bad-cookie']);
      assert.equal(f.ip.reason, 'mismatch', 'the name check comes before the cookie');
    }
    const advice = r.advice.find((a) => a.code === 'cookie');
    assert.ok(advice, JSON.stringify(r.advice));
    assert.match(advice.text, new RegExp(r.cookie.hash));
    assert.ok(!(renderTable(r, { color: false }) + renderJson(r)).includes(wrong));
  });
});

describe(`probe: unreachable EPMD and dist port (${otp.label})`, () => {
  let c: DemoCluster;
  before(async () => {
    c = await DemoCluster.start({
      net: '127.79.0',
      endpointPodNames: true,
      pods: [
        { podName: 'myapp-7d9f8b6c5-abcde' },
        { podName: 'myapp-7d9f8b6c5-fghij' },
        { podName: 'myapp-7d9f8b6c5-klmno', epmd: false },
        { podName: 'myapp-7d9f8b6c5-pqrst', erl: false },
      ],
    });
    await c.killErl('myapp-7d9f8b6c5-fghij'); // EPMD still lists it; its dist port refuses
  });
  after(() => c?.stop());

  test(`an EPMD that refuses is reported per host; a refused dist port makes every attempt unreachable; an empty EPMD gives no-nodes; broken (${otp.label})`, async () => {
    const r = await probe(c);
    assert.equal(r.verdict, 'broken');
    const dead = r.hosts.find((h) => h.ip === c.pods[2].ip)!;
    assert.equal(dead.epmd, 'unreachable');
    assert.match(dead.error!, /ECONNREFUSED|refused/i);
    const ok = r.nodes.find((n) => n.host === c.pods[0].ip)!;
    assert.equal(byForm(ok)['dns=fqdn'].accepted, true);
    const blocked = r.nodes.find((n) => n.host === c.pods[1].ip)!;
    assert.equal(blocked.nameKnown, false, 'no challenge was ever read');
    assert.match(blocked.firstContact!, /ECONNREFUSED/);
    const f = byForm(blocked);
    assert.deepEqual([f.dns.reason, f.ip.reason, f.localhost.reason], ['unreachable', 'unreachable', 'illegal-host']);
    const empty = r.hosts.find((h) => h.ip === c.pods[3].ip)!;
    assert.equal(empty.epmd, 'ok');
    assert.ok(!r.nodes.some((n) => n.host === empty.ip), 'an EPMD with no node gives no node');
    const codes = r.advice.map((a) => a.code);
    assert.ok(codes.includes('epmd-unreachable') && codes.includes('dist-port') && codes.includes('no-nodes'), codes.join());
    assert.match(r.advice.find((a) => a.code === 'no-nodes')!.text, new RegExp(c.pods[3].ip.replace(/\./g, '\\.')));
  });
});

describe(`beamnode probe CLI (${otp.label})`, () => {
  let c: DemoCluster;
  let dir: string;
  before(async () => {
    c = await DemoCluster.start({ net: '127.80.0', pods: PODS.map((podName) => ({ podName })) });
    dir = mkdtempSync(join(tmpdir(), 'beamnode-probe-cli-'));
    writeFileSync(join(dir, 'cookie'), `${c.cookie}\n`, { mode: 0o644 });
  });
  after(async () => {
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'probe', ...args], { env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
  }
  const common = () => [SVC, '--nameserver', c.dns.nameserver, '--epmd-port', String(c.epmdPort), '--cookie-file', join(dir, 'cookie'), '--timeout', '2000'];

  test(`exit 1 and the JSON report in default mode; exit 0 with endpoint_pod_names; never the cookie (${otp.label})`, async () => {
    c.setEndpointPodNames(false);
    const broken = await cli([...common(), '--json']);
    assert.equal(broken.code, 1, broken.stderr);
    const j = JSON.parse(broken.stdout);
    assert.equal(j.verdict, 'broken');
    assert.equal(j.dnsMode, 'default');
    assert.ok(j.advice.some((a: { code: string }) => a.code === 'endpoint_pod_names'));
    c.setEndpointPodNames(true);
    const ok = await cli(common());
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /verdict: OK/);
    assert.doesNotMatch(ok.stdout, /\x1b\[/, 'NO_COLOR and no TTY: no colour');
    for (const r of [broken, ok]) assert.ok(!(r.stdout + r.stderr).includes(c.cookie));
  });

  test('usage errors exit 2 (run in-process: no service is contacted); --help exits 0', async () => {
    const { run } = await import('../../src/cli/probe.js');
    const quiet = async (args: string[]) => {
      const errors: string[] = [];
      const [log, error] = [console.log, console.error];
      console.log = () => {};
      console.error = (m: string) => void errors.push(String(m));
      try {
        return { code: await run(args), stderr: errors.join('\n') };
      } finally {
        [console.log, console.error] = [log, error];
      }
    };
    const cases: [string[], number, RegExp?][] = [
      [[], 2, /missing <service>/],
      [[SVC, '--cookie', 'a', '--cookie-file', 'b'], 2, /not both/],
      [[SVC, '--timeout', 'soon'], 2, /--timeout soon/],
      [[SVC, '--concurrency', '0'], 2, /--concurrency 0/],
      [[SVC, '--nameserver', 'not-an-ip'], 2, /--nameserver/],
      [[SVC, '--namespace', 'x'], 2, /--namespace goes with --kubernetes/],
      [[SVC, 'second-service'], 2, /exactly one service/],
      [[SVC, '--bogus'], 2, /bogus/],
      [[SVC, '--cookie-file', join(dir, 'missing')], 2, /ENOENT/],
      [['bad..name', '--nameserver', '127.0.0.1:9'], 2, /bad\.\.name|empty label|not a DNS name/i],
      [[SVC, '--nameserver', '127.0.0.1:9', '--cookie', 'x'.repeat(300)], 2, /255/],
      [['--help'], 0],
    ];
    for (const [args, code, msg] of cases) {
      const r = await quiet(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      if (msg) assert.match(r.stderr, msg);
    }
  });
});

describe(`probe: bounded waits and abort (${otp.label})`, () => {
  test('an EPMD that accepts and never answers is an EPMD error after --timeout, not a hang', async () => {
    const c = await DemoCluster.start({ net: '127.83.0', pods: [{ podName: 'myapp-7d9f8b6c5-abcde', epmd: false }] });
    const { createServer } = await import('node:net');
    const held = new Set<import('node:net').Socket>();
    const silent = createServer((s) => void held.add(s)); // accepts, reads, never answers
    await new Promise<void>((resolve) => silent.listen(c.epmdPort, c.pods[0].ip, resolve));
    try {
      const r = await probe(c, { timeout: 500 });
      assert.equal(r.hosts[0].epmd, 'error');
      assert.match(r.hosts[0].error!, /NAMES to EPMD at .* timed out after 500 ms/);
      assert.equal(r.verdict, 'broken');
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await c.stop();
    }
  });

  test('aborting the run rejects with the signal\'s reason while a DNS question is pending', async () => {
    const { createSocket } = await import('node:dgram');
    const dead = createSocket('udp4'); // a nameserver that never answers
    await new Promise<void>((resolve) => dead.bind(0, '127.0.0.1', resolve));
    try {
      const { port } = dead.address();
      const ac = new AbortController();
      const reason = new Error('stop now');
      dead.once('message', () => ac.abort(reason)); // the question is out, its answer pending
      await assert.rejects(
        runProbe({ service: 'myapp-headless.default.svc.cluster.local', dns: new DnsClient({ nameserver: `127.0.0.1:${port}`, timeoutMs: 10_000, attempts: 1 }), cookie: 'x', signal: ac.signal }),
        (e) => e === reason,
      );
    } finally {
      dead.close();
    }
  });
});

test('a nameserver that never answers: dns-unreachable after one question, not four timeouts in a row', async () => {
  const { createSocket } = await import('node:dgram');
  const dead = createSocket('udp4');
  const asked: string[] = [];
  dead.on('message', (m) => asked.push(m.toString('latin1')));
  await new Promise<void>((resolve) => dead.bind(0, '127.0.0.1', resolve));
  try {
    const r = await runProbe({
      service: 'myapp-headless.default.svc.cluster.local',
      dns: new DnsClient({ nameserver: `127.0.0.1:${dead.address().port}`, attempts: 1 }),
      cookie: 'x',
      timeoutMs: 300,
    });
    assert.equal(r.verdict, 'broken');
    assert.deepEqual(r.advice.map((a) => a.code), ['dns-unreachable']);
    assert.equal(asked.length, 1, 'only the first question was sent');
    assert.match(asked[0], /_epmd/);
  } finally {
    dead.close();
  }
});
