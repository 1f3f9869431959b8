/**
 * What the probe's scenario tests in the rig share: whether the rig can run, the OTP they use
 * (the host's, first of the matrix), a cookie file, and `beamnode probe --json` run inside the
 * probe pod with its JSON report parsed and the cookie checked never to be printed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { otpMatrix, type Otp } from '../support/otp.js';
import { rigUnavailableReason } from './netns.js';
import type { Cluster } from './rig.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SVC = 'myapp-headless.default.svc.cluster.local';
export const skip = rigUnavailableReason() ?? false;
export const otp: Otp | undefined = skip ? undefined : otpMatrix()[0];
export const label = otp?.label ?? 'no erl';

/** A private folder with the cookie in `cookie` (mode 0600). */
export function cookieDir(secret: string): { dir: string; file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'beamnode-probe-scenario-'));
  writeFileSync(join(dir, 'cookie'), secret, { mode: 0o600 });
  return { dir, file: join(dir, 'cookie'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs argv in the probe pod; its stdout must be the JSON report, and the cookie appears nowhere. */
export async function jsonFromPod<R>(c: Cluster, argv: string[], secret: string, timeoutMs = 90_000): Promise<{ code: number | null; report: R; stdout: string }> {
  const r = await c.exec(argv, { timeoutMs });
  assert.equal(r.timedOut, false);
  assert.ok(!(r.stdout + r.stderr).includes(secret), 'the cookie is never printed');
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as R, stdout: r.stdout };
  } catch {
    throw new Error(`no JSON from the probe (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** `beamnode probe myapp-headless --json --cookie-file F …` in the probe pod. */
export function probeCli<R>(c: Cluster, cookieFile: string, secret: string, extra: string[] = [], timeoutMs?: number) {
  return jsonFromPod<R>(c, [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'probe', 'myapp-headless', '--json', '--cookie-file', cookieFile, ...extra], secret, timeoutMs);
}
