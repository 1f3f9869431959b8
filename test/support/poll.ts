/** Bounded polling for conditions no event reports (a peer's state seen through eval). */
import assert from 'node:assert/strict';
import { sleep } from './otp.js';

/** Polls `fn` every 25 ms until it returns true; fails the test after `ms` (default 15 s). */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(25);
  }
  assert.fail(`${what}: not within ${ms} ms`);
}
