import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { digest, digestEquals, newChallenge, parseCookieBytes, readCookieFile, resolveCookie } from '../../src/dist/net/cookie.js';
import { DistError } from '../../src/dist/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'beamnode-cookie-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cookieFile(name: string, text: string | Buffer, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

test('digest = md5(cookie ++ integer_to_list(Challenge)), vectors from erlang:md5 on OTP 25', () => {
  assert.equal(digest(4294967295, 'sekrit').toString('hex'), 'c38503c315a79e656c40184f444e59d6');
  assert.equal(digest(12345, 'ABCDEFGHIJKLMNOPQRST').toString('hex'), '0acb0f7d54bf18bdf4d452ca4a787107');
  // the challenge is unsigned even when given as a negative int32
  assert.deepEqual(digest(-1, 'sekrit'), digest(4294967295, 'sekrit'));
});

test('digestEquals compares in constant time and refuses other lengths', () => {
  const d = digest(1, 'x');
  assert.equal(digestEquals(d, Buffer.from(d)), true);
  assert.equal(digestEquals(d, digest(2, 'x')), false);
  assert.equal(digestEquals(d, d.subarray(0, 15)), false);
});

test('challenges are 32-bit unsigned', () => {
  for (let i = 0; i < 100; i++) {
    const c = newChallenge();
    assert.ok(Number.isInteger(c) && c >= 0 && c <= 0xffffffff);
  }
});

test('cookie text as erl checks it: printable, then only newlines/CR/spaces', () => {
  assert.equal(parseCookieBytes(Buffer.from('ABC\n'), 'f'), 'ABC');
  assert.equal(parseCookieBytes(Buffer.from('AB C  \r\n \n'), 'f'), 'AB C  ');
  assert.throws(() => parseCookieBytes(Buffer.from('AB\nC'), 'f'), /bad characters in cookie/);
  assert.throws(() => parseCookieBytes(Buffer.from('AB\tC'), 'f'), /bad characters/);
  assert.throws(() => parseCookieBytes(Buffer.from('\n'), 'f'), /too short cookie string/);
  assert.throws(() => parseCookieBytes(Buffer.alloc(0), 'f'), /too short/);
});

test('a cookie file readable by group or others is refused, as erl does', () => {
  const p = cookieFile('loose', 'SECRETCOOKIE', 0o644);
  assert.throws(
    () => readCookieFile(p),
    (e: unknown) =>
      e instanceof DistError && e.code === 'BEAM_ERR_COOKIE_FILE_MODE' && /accessible by owner only/.test(e.message) && !e.message.includes('SECRETCOOKIE'),
  );
  assert.throws(() => readCookieFile(cookieFile('g', 'X', 0o640)), /owner only/);
  assert.throws(() => readCookieFile(cookieFile('o', 'X', 0o604)), /owner only/);
  assert.equal(readCookieFile(cookieFile('tight', 'SECRETCOOKIE\n', 0o400)), 'SECRETCOOKIE');
  assert.equal(readCookieFile(cookieFile('rw', 'SECRETCOOKIE', 0o600)), 'SECRETCOOKIE');
});

test('a cookie file that is not a regular file is refused; a symlink is followed', () => {
  const d = join(dir, 'adir');
  mkdirSync(d, { mode: 0o700 });
  assert.throws(() => readCookieFile(d), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_COOKIE_FILE_TYPE');
  const target = cookieFile('target', 'LINKED', 0o400);
  symlinkSync(target, join(dir, 'link'));
  assert.equal(readCookieFile(join(dir, 'link')), 'LINKED');
});

test('resolution order: option, ERLANG_COOKIE, $HOME/.erlang.cookie, $XDG_CONFIG_HOME/erlang/.erlang.cookie', () => {
  const home = join(dir, 'home');
  const xdg = join(dir, 'xdg');
  mkdirSync(join(xdg, 'erlang'), { recursive: true });
  mkdirSync(home, { recursive: true });
  const env = { HOME: home, XDG_CONFIG_HOME: xdg } as Record<string, string | undefined>;
  assert.throws(() => resolveCookie({ env }), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_COOKIE_MISSING');
  writeFileSync(join(xdg, 'erlang', '.erlang.cookie'), 'FROMXDG', { mode: 0o400 });
  assert.equal(resolveCookie({ env }), 'FROMXDG');
  writeFileSync(join(home, '.erlang.cookie'), 'FROMHOME\n', { mode: 0o400 });
  assert.equal(resolveCookie({ env }), 'FROMHOME');
  assert.equal(resolveCookie({ env: { ...env, ERLANG_COOKIE: 'FROMENV' } }), 'FROMENV');
  assert.equal(resolveCookie({ cookie: 'FROMOPTION', env: { ...env, ERLANG_COOKIE: 'FROMENV' } }), 'FROMOPTION');
});

test('cookie errors never contain the cookie', () => {
  const secret = 'TOPSECRET\u0101';
  try {
    resolveCookie({ cookie: secret });
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof DistError);
    assert.ok(!String((e as Error).message).includes('TOPSECRET'));
  }
  assert.throws(() => resolveCookie({ cookie: '' }), DistError);
});
