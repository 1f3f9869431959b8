/**
 * Headless Chromium for the watch page tests: Debian's `chromium` (.ci/run installs it) driven by
 * playwright-core over its pipe (no browser download). Playwright gives every launch a fresh
 * profile directory and removes it on close. `wrap` runs the browser through a command first
 * (the cluster tests: `ip netns exec <probe pod>`), so it sees the pod's network.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.BEAMNODE_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
];

export async function launchChromium(o: { wrap?: string[] } = {}): Promise<{ browser: Browser; close(): Promise<void> }> {
  let dir: string | undefined;
  let executablePath = CHROMIUM;
  if (o.wrap) {
    // A script that execs the wrapper then chromium: the pid playwright stops is the browser's.
    dir = mkdtempSync(join(tmpdir(), 'beamnode-chromium-'));
    executablePath = join(dir, 'chromium');
    const quoted = [...o.wrap, CHROMIUM].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    writeFileSync(executablePath, `#!/bin/sh\nexec ${quoted} "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  const browser = await chromium.launch({ executablePath, args: ARGS, timeout: 60_000 });
  const close = async () => {
    await browser.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  return { browser, close };
}

/**
 * The few browser globals the page tests read, typed without the DOM lib (tsconfig has none).
 * Use as `() => (globalThis as unknown as PageGlobals).document…` inside page callbacks: the
 * page's CSP forbids string evaluation, so callbacks must be functions.
 */
export interface PageGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null; documentElement: { scrollWidth: number } };
  __sameDocument?: boolean;
  __pwned?: number;
}
