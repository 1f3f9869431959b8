/**
 * resolv-conf.ts's search-list order checked against the real glibc resolver: in a private
 * network + mount namespace (root only), a resolv.conf with `ndots:5` and the pod search list is
 * bind-mounted over /etc/resolv.conf, the in-process cluster DNS listens on 127.0.0.1:53, and
 * `getent hosts NAME` (glibc gethostbyname) asks it; the names glibc asked, in order, must be a
 * prefix of `searchNames(NAME)` (glibc stops at the first answer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResolvConf, searchNames } from '../../src/discovery/resolv-conf.js';
import { skipUnlessEnv } from '../support/env.js';

const RESOLV = 'nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 attempts:1 timeout:1\n';
const NAMES = ['myapp-headless', 'nosuch', 'myapp-headless.default', 'a.b.c.d.e.f', 'x.default.svc.cluster.local.', 'myapp-headless.default.svc.cluster.local'];
const canNamespace = process.getuid?.() === 0 && process.platform === 'linux';

// Runs inside the namespaces: serves DNS on 127.0.0.1:53 and prints, per name, the A queries glibc made.
const CHILD = (serverUrl: string) => `
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startClusterDns } from ${JSON.stringify(serverUrl)};
const run = promisify(execFile);
const dns = await startClusterDns({ port: 53, services: [{ name: 'myapp-headless', namespace: 'default', endpoints: [{ ip: '10.99.0.11' }] }] });
const out = {};
for (const name of ${JSON.stringify(NAMES)}) {
  const before = dns.queries.length;
  const r = await run('getent', ['hosts', name], { timeout: 10000 }).then((x) => x.stdout.trim(), (e) => 'exit ' + e.code);
  out[name] = { asked: dns.queries.slice(before).filter((q) => q.type === 'A').map((q) => q.name), result: r };
}
await dns.close();
console.log(JSON.stringify(out));
`;

test('glibc (getent hosts) asks the search-list names in the order searchNames gives', { skip: skipUnlessEnv(!canNamespace && 'needs root for unshare -n -m') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beamnode-glibc-'));
  try {
    writeFileSync(join(dir, 'resolv.conf'), RESOLV);
    writeFileSync(join(dir, 'nsswitch.conf'), 'hosts: dns\n');
    writeFileSync(join(dir, 'child.mts'), CHILD(new URL('../../src/emulation/dns-server.ts', import.meta.url).href));
    const script =
      `ip link set lo up && mount --bind ${dir}/resolv.conf /etc/resolv.conf && mount --bind ${dir}/nsswitch.conf /etc/nsswitch.conf` +
      ` && exec ${process.execPath} --import tsx ${dir}/child.mts`;
    const child = spawn('unshare', ['-n', '-m', 'sh', '-c', script], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, { asked: string[]; result: string }>;
    const conf = parseResolvConf(RESOLV);
    for (const name of NAMES) {
      const { asked } = seen[name];
      assert.ok(asked.length > 0, `${name}: glibc asked nothing`);
      assert.deepEqual(asked, searchNames(name, conf).slice(0, asked.length), name);
    }
    // names that do not exist make glibc walk the whole list
    assert.deepEqual(seen.nosuch.asked, searchNames('nosuch', conf));
    assert.deepEqual(seen['a.b.c.d.e.f'].asked, searchNames('a.b.c.d.e.f', conf));
    assert.match(seen['myapp-headless'].result, /^10\.99\.0\.11\s+myapp-headless\.default\.svc\.cluster\.local/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
