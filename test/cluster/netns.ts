/**
 * Network namespaces as pods: thin wrappers over `ip` (iproute2) and child processes, every one
 * bounded by a timeout. Nothing here touches the root namespace's links or addresses: veth pairs
 * are created inside the "node" namespace with their peer moved straight into the pod namespace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NETNS_RUN_DIR = '/run/netns';
export const NETNS_ETC_DIR = '/etc/netns';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the timeout (or the signal) ended the command. */
  timedOut: boolean;
}

/** Output kept per stream; the rest is dropped (a runaway command cannot exhaust memory). */
const MAX_OUTPUT = 4 * 1024 * 1024;

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with the child once spawned (the rig tracks pids to kill them on destroy). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs a command to completion (SIGKILL at the timeout, default 30 s). Never rejects. */
export function run(argv: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd, args, { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    o.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < MAX_OUTPUT) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < MAX_OUTPUT) stderr += d; });
    const kill = () => { timedOut = true; child.kill('SIGKILL'); };
    const timer = setTimeout(kill, o.timeoutMs ?? 30_000);
    o.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

/** Runs `ip …` (10 s bound) and throws with its stderr when it fails. */
export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || String(r.error ?? '')).trim()}`);
}

/** Why the rig cannot run here, or undefined when it can (root, `ip netns`, dnsmasq, epmd, erl, dig). */
export function rigUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'cluster tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'cluster tests need root (run: sudo npm run test:cluster)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return `\`ip netns\` is unavailable: ${(r.stderr || String(r.error ?? '')).trim()}`;
  for (const [cmd, arg] of [['dnsmasq', '--version'], ['epmd', '-help'], ['unshare', '--version'], ['dig', '-v'], ['erl', '-version']]) {
    const c = spawnSync(cmd, [arg], { encoding: 'utf8', timeout: 30_000 });
    if (c.error) return `${cmd} is not installed (${String(c.error)})`;
  }
  return undefined;
}

/** Namespace names that exist now. */
export function listNetns(): string[] {
  return existsSync(NETNS_RUN_DIR) ? readdirSync(NETNS_RUN_DIR) : [];
}

/** Pids of processes inside a namespace (`ip netns pids`), [] when it is gone. */
export function netnsPids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 1);
}

/** SIGKILLs whatever still runs in the namespace, deletes it and its /etc/netns folder. */
export function removeNetns(ns: string): void {
  for (const pid of netnsPids(ns)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  if (listNetns().includes(ns)) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  rmSync(join(NETNS_ETC_DIR, ns), { recursive: true, force: true });
}
