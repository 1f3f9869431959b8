/** `beamnode probe --tls-cert/--tls-key/--tls-ca`: all three or none, each a readable file (usage errors, exit 2, before any network). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/cli/probe.js';

async function usage(argv: string[]): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    return { code: await run(argv), stderr: lines.join('\n') };
  } finally {
    console.error = orig;
  }
}

test('one or two of the TLS flags: exit 2 naming the missing ones', async () => {
  const r = await usage(['myapp-headless', '--tls-cert', '/nonexistent/probe.pem']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give --tls-cert, --tls-key and --tls-ca together \(missing --tls-key, --tls-ca\)/);
});

test('an unreadable file: exit 2 with its path and error code', async () => {
  const r = await usage(['myapp-headless', '--tls-cert', '/nonexistent/probe.pem', '--tls-key', '/nonexistent/k', '--tls-ca', '/nonexistent/ca']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--tls-cert \/nonexistent\/probe\.pem: ENOENT/);
});
