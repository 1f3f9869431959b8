// examples/discovery.ts run as a child process, the way a user runs it: against its own
// in-process cluster DNS (--local, both CoreDNS modes), and against a cluster DNS this test starts
// (--nameserver / BEAMNODE_NAMESERVER with a pod's search list). Loopback only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startClusterDns, type ClusterDns } from '../../src/emulation/dns-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEARCH = 'default.svc.cluster.local,svc.cluster.local,cluster.local';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the example; the child is killed (by its pid, through execFile) if it outlives 30 s. */
function runExample(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/discovery.ts', ...args],
      { cwd: ROOT, timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, ...env, DEBUG: '' }, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface JsonOut {
  service: string;
  srv: { epmd: string; bare: string };
  hosts: { target: string; port: number; kind: string; ip?: string; workload?: string; addresses: string[]; candidates: { node: string; forms: string[]; long: boolean }[] }[];
}

const servers: ClusterDns[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

test('examples/discovery.ts --local: CoreDNS default gives dashed-IP targets; the dns candidate is the dashed name', async () => {
  const r = await runExample(['--local']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^service {5}myapp-headless\.default\.svc\.cluster\.local$/m);
  assert.match(r.stdout, /SRV {9}_epmd\._tcp: ok \(3\), bare name: ok \(3\)/);
  for (const n of [11, 12, 13]) {
    assert.match(r.stdout, new RegExp(`^10-99-0-${n}\\.myapp-headless\\.default\\.svc\\.cluster\\.local:4369  dashed-ipv4  10\\.99\\.0\\.${n}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  dns +myapp@10-99-0-${n}\\.myapp-headless\\.default\\.svc\\.cluster\\.local +-name$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  ip +myapp@10\\.99\\.0\\.${n} +-name$`, 'm'));
  }
});

test('examples/discovery.ts --local --endpoint-pod-names --json: pod-name targets, candidates per form', async () => {
  const r = await runExample(['--local', '--endpoint-pod-names', '--json', '--alive', 'shop']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as JsonOut;
  assert.equal(out.service, 'myapp-headless.default.svc.cluster.local');
  assert.deepEqual(out.srv, { epmd: 'ok', bare: 'ok' });
  assert.deepEqual(out.hosts.map((h) => h.target).sort(), ['abcde', 'fghij', 'klmno'].map((p) => `myapp-7d9f8b6c5-${p}.myapp-headless.default.svc.cluster.local`));
  for (const h of out.hosts) {
    assert.equal(h.kind, 'pod-name');
    assert.equal(h.workload, 'myapp');
    assert.equal(h.port, 4369);
    assert.equal(h.addresses.length, 1);
    const dns = h.candidates.find((c) => c.forms.includes('dns'));
    assert.deepEqual(dns, { node: `shop@${h.target}`, forms: ['dns'], long: true });
    assert.deepEqual(h.candidates.find((c) => c.forms.includes('ip')), { node: `shop@${h.addresses[0]}`, forms: ['ip'], long: true });
    assert.equal(h.candidates.find((c) => c.forms.includes('short'))?.node, `shop@${h.target.split('.')[0]}`);
  }
});

test('examples/discovery.ts --nameserver with a pod search list: StatefulSet hostnames, a ClusterIP service, a missing one', async () => {
  const dns = await startClusterDns({
    address: '127.0.0.1',
    port: 0,
    zone: 'cluster.local',
    services: [
      {
        name: 'db-headless',
        namespace: 'default',
        ports: [{ name: 'epmd', port: 4369 }],
        endpoints: [
          { ip: '10.99.1.10', hostname: 'db-0', podName: 'db-0' },
          { ip: '10.99.1.11', hostname: 'db-1', podName: 'db-1' },
        ],
      },
      { name: 'web', namespace: 'default', headless: false, clusterIP: '10.96.0.50', ports: [{ name: 'epmd', port: 4369 }] },
    ],
  });
  servers.push(dns);

  const sts = await runExample(['db-headless', '--nameserver', dns.nameserver, '--search', SEARCH, '--json', '--alive', 'db']);
  assert.equal(sts.code, 0, sts.stderr);
  const out = JSON.parse(sts.stdout) as JsonOut;
  assert.equal(out.service, 'db-headless.default.svc.cluster.local');
  assert.deepEqual(
    out.hosts.map((h) => [h.target, h.kind, h.workload, h.addresses]).sort(),
    [
      ['db-0.db-headless.default.svc.cluster.local', 'pod-name', 'db', ['10.99.1.10']],
      ['db-1.db-headless.default.svc.cluster.local', 'pod-name', 'db', ['10.99.1.11']],
    ],
  );

  // The nameserver from the environment; a non-headless Service's SRV target is the Service itself.
  const web = await runExample(['web', '--search', SEARCH], { BEAMNODE_NAMESERVER: dns.nameserver });
  assert.equal(web.code, 0, web.stderr);
  assert.match(web.stdout, /^web\.default\.svc\.cluster\.local:4369  service-itself  10\.96\.0\.50$/m);

  const missing = await runExample(['nosuch', '--nameserver', dns.nameserver, '--search', SEARCH]);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /no SRV records for .*nosuch.*: nxdomain/);
});

test('examples/discovery.ts: usage errors exit 2', async () => {
  assert.equal((await runExample([])).code, 2);
  assert.equal((await runExample(['svc', '--timeout', 'soon'])).code, 2);
  assert.equal((await runExample(['svc', '--no-such-option'])).code, 2);
});
