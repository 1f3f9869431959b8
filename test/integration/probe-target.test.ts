/**
 * `beamnode probe` of one node or one host, without service discovery (src/probe/target.ts),
 * against real erl nodes on loopback: `-name app@127.0.0.1` and `-sname sapp@localhost`, both
 * registered with a private epmd. No DNS server and no resolv.conf is used: the probe is given a
 * resolv.conf path that does not exist, as on a laptop without one. Host OTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe, type ProbeOptions } from '../../src/probe/probe.js';
import { renderJson, renderTable } from '../../src/probe/render.js';
import { parseTarget } from '../../src/probe/target.js';
import type { NodeReport, ProbeReport } from '../../src/probe/types.js';
import { ErlNode, hostOtp, startEpmd, type Epmd } from '../support/otp.js';

const otp = hostOtp();
const COOKIE = 'probe-target-cookie';
const root = join(import.meta.dirname, '../..');

const byForm = (n: NodeReport) => Object.fromEntries(n.attempts.map((a) => [a.forms.join('='), a]));
const node = (r: ProbeReport, alive: string) => {
  const n = r.nodes.find((x) => x.alive === alive);
  assert.ok(n, `${alive} in the report: ${r.nodes.map((x) => x.name).join(', ')}`);
  return n;
};

describe(`probe of one node or host on loopback (${otp.label})`, () => {
  let epmd: Epmd;
  const erls: ErlNode[] = [];
  const probe = (target: string, o: Partial<ProbeOptions> = {}) =>
    runProbe({ service: target, cookie: COOKIE, epmdPort: epmd.port, timeoutMs: 3000, resolvConf: '/nonexistent/resolv.conf', probeName: { longHost: '127.0.0.1', shortHost: 'localhost' }, ...o });

  before(async () => {
    epmd = await startEpmd();
    erls.push(await ErlNode.start(otp, { name: 'app@127.0.0.1', cookie: COOKIE, epmdPort: epmd.port }));
    erls.push(await ErlNode.start(otp, { name: 'sapp@localhost', sname: true, cookie: COOKIE, epmdPort: epmd.port }));
  });
  after(async () => {
    await Promise.all(erls.map((e) => e.stop()));
    await epmd?.stop();
  });

  test('targets: alive@host is a node, an IP or localhost a host, anything else a service', () => {
    assert.deepEqual(parseTarget('app@127.0.0.1'), { kind: 'node', alive: 'app', host: '127.0.0.1' });
    assert.deepEqual(parseTarget('app@[::1]'), { kind: 'node', alive: 'app', host: '::1' });
    assert.deepEqual(parseTarget('localhost'), { kind: 'host', host: 'localhost' });
    assert.deepEqual(parseTarget('10.1.2.3'), { kind: 'host', host: '10.1.2.3' });
    assert.deepEqual(parseTarget('myapp-headless.default'), { kind: 'service', service: 'myapp-headless.default' });
    assert.throws(() => parseTarget('a b@host'), { code: 'BEAM_ERR_PROBE_USAGE' });
  });

  test('app@127.0.0.1 (-name): accepted under the name as given, localhost illegal for a long-names node; ok', async () => {
    const r = await probe('app@127.0.0.1');
    assert.equal(r.verdict, 'ok', renderTable(r, { color: false }));
    assert.deepEqual(r.discovery.target, { kind: 'node', host: '127.0.0.1', address: '127.0.0.1', alive: 'app' });
    assert.deepEqual(r.nodes.map((n) => n.name), ['app@127.0.0.1']);
    assert.deepEqual(r.hosts[0].skipped, ['sapp'], 'the other node is not dialed');
    const f = byForm(r.nodes[0]);
    assert.deepEqual(Object.keys(f), ['ip=dns=fqdn', 'localhost']);
    assert.equal(f['ip=dns=fqdn'].accepted, true);
    assert.equal(f.localhost.reason, 'illegal-host');
    assert.deepEqual(r.advice, []);
  });

  test('sapp@localhost (-sname): accepted as given, its IP illegal for a short-names node; ok', async () => {
    const r = await probe('sapp@localhost');
    assert.equal(r.verdict, 'ok', renderTable(r, { color: false }));
    const n = node(r, 'sapp');
    assert.equal(n.name, 'sapp@localhost');
    assert.equal(n.longNames, false);
    const f = byForm(n);
    assert.deepEqual(Object.keys(f), ['ip', 'localhost=short=dns=fqdn']);
    assert.equal(f.ip.reason, 'illegal-host');
    assert.match(f.ip.detail!, /Hostname 127\.0\.0\.1 is illegal/);
    assert.equal(f['localhost=short=dns=fqdn'].accepted, true);
  });

  test('127.0.0.1: every node EPMD lists, each under <alive>@127.0.0.1; the -sname node refuses it: broken, with the name to dial', async () => {
    const r = await probe('127.0.0.1');
    assert.equal(r.verdict, 'broken');
    assert.deepEqual(r.nodes.map((n) => n.name).sort(), ['app@127.0.0.1', 'sapp@localhost']);
    assert.equal(byForm(node(r, 'app'))['ip=dns=fqdn'].accepted, true);
    const s = byForm(node(r, 'sapp'));
    assert.deepEqual([s['ip=dns'].dialed, s['ip=dns'].reason], ['sapp@127.0.0.1', 'illegal-host']);
    assert.deepEqual(r.advice.map((a) => a.code), ['node-name']);
    assert.match(r.advice[0].text, /sapp@127\.0\.0\.1 is not a name sapp@localhost accepts.*Dial it as sapp@localhost/);
  });

  test('localhost: resolved without DNS; the -name node refuses app@localhost, the -sname node accepts sapp@localhost: broken', async () => {
    const r = await probe('localhost');
    assert.equal(r.verdict, 'broken');
    assert.deepEqual(r.discovery.target, { kind: 'host', host: 'localhost', address: '127.0.0.1' });
    assert.deepEqual(r.discovery.srv, { epmd: 'skipped', bare: 'skipped', a: 'skipped', aaaa: 'skipped' });
    const a = byForm(node(r, 'app'));
    assert.deepEqual([a['localhost=dns'].dialed, a['localhost=dns'].reason], ['app@localhost', 'illegal-host']);
    assert.equal(a['ip=fqdn'].accepted, true);
    assert.equal(byForm(node(r, 'sapp'))['localhost=short=dns=fqdn'].accepted, true);
    assert.deepEqual(r.advice.map((x) => x.code), ['node-name']);
    assert.match(r.advice[0].text, /Dial it as app@127\.0\.0\.1/);
  });

  test('a node EPMD does not list: nothing dialed, broken, the listed names in the advice', async () => {
    const r = await probe('nope@127.0.0.1');
    assert.equal(r.verdict, 'broken');
    assert.deepEqual(r.nodes, []);
    assert.deepEqual(r.advice.map((a) => a.code), ['no-nodes']);
    assert.match(r.advice[0].text, /no node named nope \(it lists app, sapp\)/);
  });

  test('a wrong cookie: the name matched, the cookie check failed; broken with cookie advice', async () => {
    const r = await probe('app@127.0.0.1', { cookie: 'not-the-cookie' });
    assert.equal(r.verdict, 'broken');
    assert.equal(byForm(r.nodes[0])['ip=dns=fqdn'].reason, 'bad-cookie');
    assert.deepEqual(r.advice.map((a) => a.code), ['cookie']);
    assert.ok(!(renderTable(r, { color: false }) + renderJson(r)).includes('not-the-cookie'));
  });

  test('no EPMD on the host: epmd-unreachable, broken', async () => {
    const r = await probe('127.0.0.1', { epmdPort: 1 });
    assert.equal(r.verdict, 'broken');
    assert.equal(r.hosts[0].epmd, 'unreachable');
    assert.deepEqual(r.advice.map((a) => a.code), ['epmd-unreachable']);
  });

  test('--kubernetes goes with a service only', async () => {
    await assert.rejects(probe('localhost', { kubernetes: {} }), { code: 'BEAM_ERR_PROBE_USAGE' });
  });

  test('the CLI: beamnode probe app@127.0.0.1 exits 0, beamnode probe 127.0.0.1 exits 1 naming the name to dial', () => {
    const dir = mkdtempSync(join(tmpdir(), 'beamnode-probe-target-'));
    try {
      writeFileSync(join(dir, 'cookie'), COOKIE, { mode: 0o600 });
      const cli = (target: string) =>
        spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'probe', target, '--cookie-file', join(dir, 'cookie'), '--epmd-port', String(epmd.port)], {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, NO_COLOR: '1' },
        });
      const ok = cli('app@127.0.0.1');
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /beamnode probe app@127\.0\.0\.1 +verdict: OK/);
      assert.match(ok.stdout, /node +app@127\.0\.0\.1; no service discovery/);
      const broken = cli('127.0.0.1');
      assert.equal(broken.status, 1, broken.stdout + broken.stderr);
      assert.match(broken.stdout, /\[node-name\] sapp@127\.0\.0\.1 is not a name sapp@localhost accepts/);
      assert.ok(!(ok.stdout + broken.stdout).includes(COOKIE));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
