/**
 * examples/k8s/probe-job.yaml, run the way a kubelet would run it inside a rig pod (the rig's probe
 * pod): the container's args, the cookie Secret mounted read-only at its mountPath (one file per
 * item, mode 0644 as a Secret volume), and the security context as podman flags:
 *   runAsUser 1000 + runAsNonRoot      --user 1000 (the image's USER is numeric: asserted)
 *   readOnlyRootFilesystem             --read-only --read-only-tmpfs=false (no tmpfs podman adds itself)
 *   allowPrivilegeEscalation: false    --security-opt no-new-privileges
 *   resources.limits.memory            --memory
 * and, as hardened clusters add, every capability dropped (--cap-drop ALL).
 * `--kubernetes` is left out: the rig has no API server (DNS discovery is what it emulates), and
 * without it the probe reads DNS exactly as with it; the argument list is otherwise the Job's.
 *
 * The same arguments run natively (Node on the host, in the same pod's namespaces) give the
 * reference report: the container must reach the same verdict, exit code, advice and per-name results.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { parseManifestText } from '../../src/lint/index.js';
import type { Cluster } from '../cluster/rig.js';
import { REPO, containerName, podFlags, podman, removeContainers } from './podman.js';

export interface JsonAttempt {
  form: string;
  forms: string[];
  dialed: string;
  accepted: boolean;
  reason: string | null;
  actual?: string;
}
export interface JsonReport {
  verdict: string;
  dnsMode: string;
  nodes: { name: string; host: string; attempts: JsonAttempt[] }[];
  advice: { code: string; text: string }[];
}
export interface ProbeRun {
  code: number | null;
  report: JsonReport;
  stdout: string;
  stderr: string;
}

export interface ProbeJob {
  args: string[];
  cookieMountPath: string;
  cookieItemPath: string;
  podmanFlags: string[];
}

/** The Job's container as podman flags and arguments (see the file comment). */
export async function loadProbeJob(): Promise<ProbeJob> {
  const file = join(REPO, 'examples/k8s/probe-job.yaml');
  const { objects } = await parseManifestText(readFileSync(file, 'utf8'), 'probe-job.yaml');
  const job = objects.find((o) => o.kind === 'Job')?.raw as V1Job | undefined;
  assert.ok(job?.spec?.template.spec, 'probe-job.yaml has a Job');
  const pod = job.spec.template.spec;
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  const flags: string[] = [];
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.runAsUser, 1000);
  flags.push('--user', String(pod.securityContext.runAsUser));
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  flags.push('--read-only', '--read-only-tmpfs=false');
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  flags.push('--security-opt', 'no-new-privileges', '--cap-drop', 'ALL');
  const memory = c.resources?.limits?.memory;
  assert.match(String(memory), /^\d+Mi$/);
  flags.push('--memory', `${parseInt(String(memory), 10)}m`);

  const mount = c.volumeMounts?.find((m) => m.name === 'cookie');
  const volume = pod.volumes?.find((v) => v.name === 'cookie');
  assert.ok(mount && mount.readOnly && volume?.secret?.items?.length === 1, 'the cookie Secret volume');
  const args = [...(c.args ?? [])];
  assert.equal(args.filter((a) => a === '--kubernetes').length, 1);
  return {
    args: args.filter((a) => a !== '--kubernetes'),
    cookieMountPath: mount.mountPath,
    cookieItemPath: volume.secret.items[0].path,
    podmanFlags: flags,
  };
}

/** A Secret volume's contents on the host: a folder with the item as a 0644 file (readable by uid 1000). */
export function secretVolume(item: string, value: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'beamnode-secret-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, item), value, { mode: 0o644 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function parse(what: string, r: { code: number | null; stdout: string; stderr: string; timedOut: boolean }): ProbeRun {
  assert.equal(r.timedOut, false, `${what} timed out`);
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as JsonReport, stdout: r.stdout, stderr: r.stderr };
  } catch {
    throw new Error(`no JSON from the ${what} (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** The Job's container in the rig's probe pod, the Secret holding `cookie`. */
export async function runProbeContainer(c: Cluster, image: string, job: ProbeJob, cookie: string, what: string): Promise<ProbeRun> {
  const secret = secretVolume(job.cookieItemPath, `${cookie}\n`);
  const name = containerName(what);
  try {
    const r = await podman([
      'run', '--rm', '--name', name, ...podFlags({ netns: c.probe.netns, hostname: c.probe.hostname }), ...job.podmanFlags,
      '-v', `${secret.dir}:${job.cookieMountPath}:ro`, image, ...job.args,
    ], { timeoutMs: 120_000 });
    assert.ok(!(r.stdout + r.stderr).includes(cookie), 'the cookie is never printed');
    return parse(`probe container ${name}`, r);
  } finally {
    await removeContainers([name]);
    secret.remove();
  }
}

/** The same arguments, run natively (Node on the host) in the rig's probe pod: the reference. */
export async function runProbeNative(c: Cluster, job: ProbeJob, cookie: string): Promise<ProbeRun> {
  const secret = secretVolume(job.cookieItemPath, `${cookie}\n`);
  try {
    const args = job.args.map((a) => (a === join(job.cookieMountPath, job.cookieItemPath) ? join(secret.dir, job.cookieItemPath) : a));
    const r = await c.exec([process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], { timeoutMs: 120_000 });
    return parse('native probe', r);
  } finally {
    secret.remove();
  }
}

/** What must be equal between two reports: verdict, DNS mode, advice codes, every node's every attempt. */
export function comparable(r: ProbeRun): unknown {
  const nodes = [...r.report.nodes].sort((a, b) => a.host.localeCompare(b.host)).map((n) => ({
    name: n.name, host: n.host,
    attempts: n.attempts.map((a) => ({ forms: a.forms, dialed: a.dialed, accepted: a.accepted, reason: a.reason ?? null, actual: a.actual ?? null })),
  }));
  return { code: r.code, verdict: r.report.verdict, dnsMode: r.report.dnsMode, advice: r.report.advice.map((a) => a.code).sort(), nodes };
}
