/**
 * The repository's Dockerfile, built for real (podman, on a local Debian trixie base standing in
 * for node:22-slim: no registry is reachable here), and the image checked as a pod would run it:
 * numeric non-root user, read-only root filesystem, no capabilities, no network; `--help`, and
 * `lint` of a folder mounted read-only. Root only (podman).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProbeImage } from './images.js';
import { BASE_IMAGE, REPO, containerName, containerUnavailableReason, imageSize, podman, podmanOk, removeContainers } from './podman.js';

const skip = containerUnavailableReason() ?? false;

/** How examples/k8s/probe-job.yaml's securityContext runs the container, without a network. */
const LOCKED_DOWN = ['--user', '1000', '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--network', 'none'];

describe('the beamnode image (Dockerfile, built with podman)', { skip }, () => {
  let image: string;

  before(async () => {
    const b = await buildProbeImage();
    image = b.tag;
  });

  /** Runs the image once (`--rm`; removed by name too if podman itself is killed). */
  async function runImage(flags: string[], args: string[], what: string) {
    const name = containerName(what);
    try {
      return await podman(['run', '--rm', '--name', name, ...LOCKED_DOWN, ...flags, image, ...args], { timeoutMs: 120_000 });
    } finally {
      await removeContainers([name]);
    }
  }

  test('the image runs as the numeric user 1000:1000 (runAsNonRoot can verify it) with the CLI as entrypoint; size reported', async (t) => {
    const cfg = JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .Config}}', image])) as { User: string; Entrypoint: string[]; Cmd: string[] };
    assert.equal(cfg.User, '1000:1000');
    assert.deepEqual(cfg.Entrypoint, ['node', '/app/dist/cli/main.js']);
    assert.deepEqual(cfg.Cmd, ['--help']);
    const size = await imageSize(image);
    const base = await imageSize(BASE_IMAGE);
    const node = (await runImage(['--entrypoint', 'node'], ['--version'], 'image-node')).stdout.trim();
    t.diagnostic(`image size ${(size / 1e6).toFixed(1)} MB: the local trixie base (node ${node}) ${(base / 1e6).toFixed(1)} MB + beamnode ${((size - base) / 1e6).toFixed(1)} MB`);
    const id = await runImage(['--entrypoint', 'id'], [], 'image-id');
    assert.equal(id.code, 0, id.stderr);
    assert.match(id.stdout, /^uid=1000\b.* gid=1000\b/);
  });

  test('only production dependencies and dist/ are in /app: no sources, no dev dependencies', async () => {
    const r = await runImage(['--entrypoint', 'sh'], ['-c', 'ls /app; ls /app/node_modules; ls /app/node_modules/.bin 2>/dev/null || true'], 'image-ls');
    assert.equal(r.code, 0, r.stderr);
    const entries = r.stdout.split('\n');
    for (const want of ['dist', 'node_modules', 'package.json']) assert.ok(entries.includes(want), `${want} in ${r.stdout}`);
    for (const absent of ['src', 'test', 'typescript', 'tsx', 'erlpack', 'tsc']) assert.ok(!entries.includes(absent), `${absent} must not be in the image`);
    assert.ok(entries.includes('debug') && entries.includes('dns-packet'), r.stdout);
  });

  test('with the root filesystem read-only, nothing can be written, and `--help` (the default command) still works', async () => {
    const write = await runImage(['--entrypoint', 'sh'], ['-c', 'touch /tmp/x /app/x 2>&1; exit 0'], 'image-rofs');
    assert.match(write.stdout, /Read-only file system/);
    const help = await runImage([], [], 'image-help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: beamnode <command>/);
    assert.match(help.stdout, /\bprobe\b.*\n(.*\n)*.*\blint\b/);
  });

  test('`lint` of a folder mounted read-only: examples/k8s is clean (exit 0); a ClusterIP Service carrying EPMD is an error (exit 1)', async () => {
    const clean = await runImage(['-v', `${join(REPO, 'examples/k8s')}:/m:ro`], ['lint', '/m'], 'image-lint');
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /6 files, 11 objects, BEAM workloads: Deployment\/myapp; 0 errors, 0 warnings/);
    const bad = await runImage(['-v', `${join(REPO, 'test/fixtures/lint')}:/m:ro`], ['lint', '/m/service-not-headless.yaml', '--json'], 'image-lint-bad');
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /"service-not-headless"/);
  });
});
