// examples/k8s/deployment.yaml's start command, run for real against a real Elixir release on
// loopback, the way the kubelet runs the container: its command and args, its env (the cookie
// Secret's value filled in), and a pod's view of its host name (`hostname -f` answering the FQDN
// the kubelet writes into /etc/hosts; an inetrc resolves it to 127.0.0.1, as /etc/hosts would).
// Only two things are substituted, and each is asserted to be there: the release path
// (/app/bin/myapp) and the pinned distribution port (9000 → a free port).
// Then the mistakes the lint reports, run the same way, fail the way the lint says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Container } from '@kubernetes/client-node';
import { parseManifestText } from '../../src/lint/index.js';
import { names } from '../../src/epmd/client.js';
import { freePort, hostOtp, sleep, startEpmd, type Epmd } from '../support/otp.js';
import { skipUnlessEnv } from '../support/env.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/k8s/', import.meta.url));
const POD = 'myapp-7d9f8b6c5-abcde';
const FQDN = `${POD}.myapp-headless.default.svc.cluster.local`;
const COOKIE = 'test-cookie-from-the-secret';

const hasMix = spawnSync('mix', ['--version'], { encoding: 'utf8', timeout: 30_000 }).status === 0;
const skip = skipUnlessEnv(!hasMix && 'mix (Elixir) is not installed');
const elixirVersion = hasMix ? (/Elixir (\S+)/.exec(spawnSync('elixir', ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '')?.[1] ?? '?') : '';
const on = hasMix ? `Elixir ${elixirVersion} release, ${hostOtp().label}` : 'no Elixir';

const work = mkdtempSync(join(tmpdir(), 'beamnode-k8s-example-'));
let epmd: Epmd | undefined;
let releaseBin = '';
let container: V1Container;
const started: ChildProcess[] = [];

before(async () => {
  if (!hasMix) return;
  const { objects } = await parseManifestText(readFileSync(join(EXAMPLES, 'deployment.yaml'), 'utf8'), 'deployment.yaml');
  const deployment = objects.find((o) => o.kind === 'Deployment');
  assert.ok(deployment);
  container = (deployment.raw as { spec: { template: { spec: { containers: V1Container[] } } } }).spec.template.spec.containers[0];

  // A real mix release named myapp (no dependencies: builds offline in about two seconds).
  const mixEnv = { ...process.env, MIX_ENV: 'prod', MIX_HOME: join(work, 'mix-home') };
  const created = spawnSync('mix', ['new', 'myapp'], { cwd: work, encoding: 'utf8', timeout: 60_000, env: mixEnv });
  assert.equal(created.status, 0, created.stderr);
  const built = spawnSync('mix', ['release', '--quiet'], { cwd: join(work, 'myapp'), encoding: 'utf8', timeout: 120_000, env: mixEnv });
  assert.equal(built.status, 0, built.stdout + built.stderr);
  releaseBin = join(work, 'myapp/_build/prod/rel/myapp/bin/myapp');

  // The pod's view of itself: `hostname` / `hostname -f` as in a pod with subdomain myapp-headless.
  mkdirSync(join(work, 'pod-bin'));
  writeFileSync(join(work, 'pod-bin/hostname'), `#!/bin/sh\ncase "$1" in -f|--fqdn) echo ${FQDN};; *) echo ${POD};; esac\n`);
  chmodSync(join(work, 'pod-bin/hostname'), 0o755);
  writeFileSync(join(work, 'inetrc'), `{host, {127,0,0,1}, ["${FQDN}", "${POD}"]}.\n{lookup, [file]}.\n`);
  epmd = await startEpmd();
});

after(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sleep(100);
  await epmd?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The container's environment as the kubelet builds it (the Secret's value filled in), plus the test's loopback plumbing. */
function podEnv(distPort: number, drop: string[] = [], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(work, 'pod-bin')}:${process.env.PATH ?? ''}`,
    HOME: work,
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmd!.port),
    ERL_INETRC: join(work, 'inetrc'),
  };
  for (const e of container.env ?? []) {
    if (drop.includes(e.name)) continue;
    if (e.valueFrom?.secretKeyRef) env[e.name] = COOKIE;
    else if (e.value !== undefined) env[e.name] = e.value;
  }
  assert.equal(env.ERL_AFLAGS, '-kernel inet_dist_listen_min 9000 inet_dist_listen_max 9000');
  env.ERL_AFLAGS = env.ERL_AFLAGS.replaceAll('9000', String(distPort));
  return { ...env, ...extra };
}

/** command + args with /app/bin/myapp pointing at the built release. */
function podArgv(): string[] {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const script = argv.at(-1)!;
  assert.equal(script.split('/app/bin/myapp').length, 2, 'the script names /app/bin/myapp once');
  argv[argv.length - 1] = script.replace('/app/bin/myapp', releaseBin);
  return argv;
}

function run(argv: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(argv[0], argv.slice(1), { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** `p`, or 'timeout' after `ms`; the timer is cleared either way (a pending timer would hold the test process). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if ((await within(exited, 10_000)) === 'timeout') {
    child.kill('SIGKILL');
    await within(exited, 5_000);
  }
}

/** Polls EPMD (bounded) until `alive` is registered or the process exits. */
async function registration(alive: string, exited: Promise<number | null>, ms = 20_000): Promise<number | undefined> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let waited = 0; waited < ms && !gone; waited += 200) {
    const found = (await names('127.0.0.1', { port: epmd!.port, timeout: 2000 }).catch(() => [])).find((n) => n.name === alive);
    if (found) return found.port;
    await sleep(200);
  }
  return undefined;
}

function rpcSelf(cookie: string): { status: number | null; stdout: string; stderr: string } {
  // bin/myapp rpc, started like the container (RELEASE_NODE from hostname -f) with the given cookie.
  const env: NodeJS.ProcessEnv = { ...podEnv(0), RELEASE_COOKIE: cookie };
  delete env.ERL_AFLAGS;
  const r = spawnSync('sh', ['-c', `export RELEASE_NODE="myapp@$(hostname -f)"; exec "${releaseBin}" rpc "IO.puts(Node.self())"`], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

test(`examples/k8s Deployment: the release names itself myapp@<pod FQDN> on the pinned port, and the Secret cookie admits an rpc (${on})`, { skip }, async () => {
  const distPort = await freePort();
  const node = run(podArgv(), podEnv(distPort));
  try {
    const port = await registration('myapp', node.exited);
    assert.equal(port, distPort, `not registered on the pinned port; output:\n${node.output()}`);
    const ok = rpcSelf(COOKIE);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout.trim(), `myapp@${FQDN}`);
    const wrong = rpcSelf('another-cookie');
    assert.notEqual(wrong.status, 0, 'a different cookie must not connect');
  } finally {
    await stop(node.child, node.exited);
  }
});

test(`lint short-names (release default): without RELEASE_DISTRIBUTION the same command fails with "Can't set short node name!" (${on})`, { skip }, async () => {
  const node = run(podArgv(), podEnv(await freePort(), ['RELEASE_DISTRIBUTION']));
  try {
    const code = await within(node.exited, 30_000);
    assert.notEqual(code, 'timeout', 'the node should stop by itself');
    assert.notEqual(code, 0);
    assert.match(node.output(), /Can't set short node name!/);
  } finally {
    await stop(node.child, node.exited);
  }
});

test(`lint env-shell-command: RELEASE_NODE=myapp@$(hostname -f) as an env value (no shell) never becomes the pod FQDN (${on})`, { skip }, async () => {
  const env = podEnv(await freePort(), [], { RELEASE_NODE: 'myapp@$(hostname -f)' });
  const node = run([releaseBin, 'start'], env);
  try {
    const port = await registration('myapp', node.exited, 15_000);
    if (port !== undefined) {
      // Whatever it started as, it is not reachable under the pod FQDN.
      const r = rpcSelf(COOKIE);
      assert.notEqual(r.stdout.trim(), `myapp@${FQDN}`);
    } else {
      const code = await within(node.exited, 15_000);
      assert.notEqual(code, 0, `expected a failed start; output:\n${node.output()}`);
    }
  } finally {
    await stop(node.child, node.exited);
  }
});
