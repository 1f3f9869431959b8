/**
 * podman for the container tests (root only): every call goes through ./podman (this folder's
 * containers.conf, runc, a private image store under BEAMNODE_IMAGES), is bounded by a timeout,
 * and every container a test starts is named `bnct-<owner pid, base 36>-<what>` so that it is
 * removed by name when the test ends, and a crashed run's containers (owner gone) by the next run.
 *
 * A container is placed into a rig pod the way a kubelet places it into a pod sandbox: it joins
 * the pod's network namespace (`--network ns:/run/netns/<ns>`), takes the pod's hostname in its own
 * UTS namespace, and sees the pod's kubelet-written /etc/hosts and /etc/resolv.conf (bind mounts,
 * `--dns none`). Nothing else of the host's network is reachable from it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NETNS_ETC_DIR, NETNS_RUN_DIR, run, type RunResult } from '../cluster/netns.js';
import { pidAlive } from '../cluster/rig.js';

export const PODMAN = fileURLToPath(new URL('./podman', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const IMAGES_DIR = process.env.BEAMNODE_IMAGES ?? '/var/cache/beamnode/images';
/** The local stand-in for node:22-slim, made by .ci/prepare-images (the same name is there). */
export const BASE_IMAGE = 'localhost/beamnode-base-node:trixie-v3';

const OWNER = `bnct-${process.pid.toString(36)}`;

export interface PodmanOptions {
  timeoutMs?: number;
  input?: string;
  signal?: AbortSignal;
}

/** Runs `podman …` (default bound 120 s). Never rejects: look at `code`. */
export function podman(args: readonly string[], o: PodmanOptions = {}): Promise<RunResult> {
  return run([PODMAN, ...args], { timeoutMs: o.timeoutMs ?? 120_000, input: o.input, signal: o.signal });
}

/** `podman …` that must succeed: its stdout, trimmed; throws with its stderr otherwise. */
export async function podmanOk(args: readonly string[], o: PodmanOptions = {}): Promise<string> {
  const r = await podman(args, o);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.timedOut ? 'timeout' : `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

/** Why the container tests cannot run here, or undefined when they can. */
export function containerUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'container tests need Linux';
  if (process.getuid?.() !== 0) return 'container tests need root (run: sudo npm run test:container)';
  for (const cmd of ['podman', 'runc']) {
    const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (r.error || r.status !== 0) return `${cmd} is not installed (apt-get install podman runc)`;
  }
  return undefined;
}

/** A container name owned by this test process: `bnct-<pid36>-<what>`. */
export function containerName(what: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(what)) throw new Error(`bad container name part ${JSON.stringify(what)}`);
  return `${OWNER}-${what}`;
}

/** Force-removes the named containers (running or not); names that do not exist are fine. */
export async function removeContainers(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await podman(['rm', '--force', '--ignore', '--time', '2', ...names], { timeoutMs: 60_000 });
}

/**
 * Removes this process's containers (`mine: true`) or those of crashed runs: every `bnct-<pid36>-…`
 * container whose owner pid is gone. Returns the names removed.
 */
export async function cleanupContainers(o: { mine?: boolean } = {}): Promise<string[]> {
  const r = await podman(['ps', '--all', '--format', '{{.Names}}'], { timeoutMs: 60_000 });
  const names = r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  const gone = names.filter((n) => {
    const m = /^bnct-([0-9a-z]+)-/.exec(n);
    if (!m) return false;
    return o.mine ? `bnct-${m[1]}` === OWNER : !pidAlive(parseInt(m[1], 36));
  });
  await removeContainers(gone);
  return gone;
}

/** A rig pod as a container sees it: its network namespace, hostname, and kubelet-written files. */
export interface PodSandbox {
  netns: string;
  hostname: string;
}

/** `podman run` flags that put a container into a rig pod (see the file comment). */
export function podFlags(pod: PodSandbox): string[] {
  const etc = join(NETNS_ETC_DIR, pod.netns);
  return [
    '--network', `ns:${join(NETNS_RUN_DIR, pod.netns)}`,
    '--uts', 'private', '--hostname', pod.hostname,
    '--dns', 'none',
    '-v', `${join(etc, 'hosts')}:/etc/hosts:ro`,
    '-v', `${join(etc, 'resolv.conf')}:/etc/resolv.conf:ro`,
  ];
}

/** Size of an image in bytes (`podman image inspect`). */
export async function imageSize(image: string): Promise<number> {
  return Number(await podmanOk(['image', 'inspect', '--format', '{{.Size}}', image]));
}

export async function imageExists(image: string): Promise<boolean> {
  return (await podman(['image', 'exists', image], { timeoutMs: 30_000 })).code === 0;
}
