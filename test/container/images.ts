/**
 * The images the container tests run, each built once and cached in podman's store under a tag
 * derived from its inputs (a rebuild happens only when an input changed):
 *   - the base: .ci/prepare-images (debootstrapped Debian trixie with nodejs and npm, imported);
 *   - the probe: the repository's Dockerfile on that base (`--build-arg NODE_IMAGE`);
 *   - the app: a real Elixir `mix release myapp` (Debian's elixir, its ERTS bundled) on that base,
 *     at /app as examples/k8s/deployment.yaml expects (`/app/bin/myapp start`).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { run } from '../cluster/netns.js';
import { BASE_IMAGE, REPO, imageExists, podmanOk } from './podman.js';

/** The Dockerfile's inputs (its COPY lines and .dockerignore): a change to any rebuilds the image. */
const PROBE_INPUTS = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src'];
/** Where the build's `npm ci` finds the machine's CA bundle (a TLS-re-signing path to the registry needs it). */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function hashTree(h: ReturnType<typeof createHash>, path: string): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) hashTree(h, join(path, name));
    return;
  }
  h.update(relative(REPO, path)).update('\0').update(readFileSync(path)).update('\0');
}

async function imageId(image: string): Promise<string> {
  return podmanOk(['image', 'inspect', '--format', '{{.Id}}', image], { timeoutMs: 30_000 });
}

/**
 * After a build under a new tag: drops the other `test-*` tags of the same repository (their inputs
 * changed) and dangling build stages older than a week, so the cache does not grow run after run.
 */
async function dropOlderTags(tag: string): Promise<void> {
  const repo = tag.slice(0, tag.lastIndexOf(':'));
  const listed = await podmanOk(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${repo}`], { timeoutMs: 60_000 });
  const old = listed.split('\n').filter((t) => t.startsWith(`${repo}:test-`) && t !== tag);
  if (old.length) await podmanOk(['rmi', '--force', ...old], { timeoutMs: 120_000 });
  await podmanOk(['image', 'prune', '--force', '--filter', 'until=168h'], { timeoutMs: 120_000 });
}

/** The base image; made (or re-imported from its cached rootfs) by .ci/prepare-images when absent. */
export async function ensureBaseImage(): Promise<string> {
  if (!(await imageExists(BASE_IMAGE))) {
    const r = await run(['bash', join(REPO, '.ci/prepare-images')], { timeoutMs: 900_000 });
    if (r.code !== 0) throw new Error(`.ci/prepare-images failed (exit ${r.code}):\n${r.stderr}`);
  }
  return BASE_IMAGE;
}

export interface BuiltImage {
  /** `localhost/…:<input hash>` */
  tag: string;
  /** false when the tag was already in the store (no build ran). */
  built: boolean;
}

/** The repository's Dockerfile, built on the local base image; cached by a hash of its inputs. */
export async function buildProbeImage(): Promise<BuiltImage> {
  const base = await ensureBaseImage();
  const h = createHash('sha256').update(await imageId(base));
  for (const p of PROBE_INPUTS) hashTree(h, join(REPO, p));
  const tag = `localhost/beamnode:test-${h.digest('hex').slice(0, 16)}`;
  if (await imageExists(tag)) return { tag, built: false };
  await podmanOk([
    'build', '--quiet', '--build-arg', `NODE_IMAGE=${base}`, '-v', `${CA_BUNDLE}:${CA_BUNDLE}:ro`,
    '--layers', '-t', tag, '-f', join(REPO, 'Dockerfile'), REPO,
  ], { timeoutMs: 900_000 });
  await dropOlderTags(tag);
  return { tag, built: true };
}

const RELEASE_CONTAINERFILE = (base: string) => `FROM ${base}
COPY myapp/_build/prod/rel/myapp /app
WORKDIR /app
`;

/**
 * A real Elixir release named myapp (`mix new` + `mix release`, no dependencies: builds offline),
 * its ERTS bundled, copied to /app on the base image. Cached by Elixir/OTP versions and base id.
 */
export async function buildReleaseImage(): Promise<BuiltImage> {
  const base = await ensureBaseImage();
  const versions = await run(['elixir', '--version'], { timeoutMs: 60_000 });
  if (versions.code !== 0) throw new Error(`elixir --version failed: ${versions.stderr}`);
  const h = createHash('sha256').update(await imageId(base)).update(versions.stdout).update(RELEASE_CONTAINERFILE(base));
  const tag = `localhost/beamnode-myapp-release:test-${h.digest('hex').slice(0, 16)}`;
  if (await imageExists(tag)) return { tag, built: false };
  const work = mkdtempSync(join(tmpdir(), 'beamnode-release-image-'));
  try {
    const env = { ...process.env, MIX_ENV: 'prod', MIX_HOME: join(work, 'mix-home'), HOME: work };
    for (const [args, cwd] of [[['new', 'myapp'], work], [['release', '--quiet'], join(work, 'myapp')]] as const) {
      const r = await run(['sh', '-c', `cd "$1" && shift && exec mix "$@"`, 'sh', cwd, ...args], { timeoutMs: 300_000, env });
      if (r.code !== 0) throw new Error(`mix ${args.join(' ')} failed (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    writeFileSync(join(work, 'Containerfile'), RELEASE_CONTAINERFILE(base));
    await podmanOk(['build', '--quiet', '-t', tag, '-f', join(work, 'Containerfile'), work], { timeoutMs: 300_000 });
    await dropOlderTags(tag);
    return { tag, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
