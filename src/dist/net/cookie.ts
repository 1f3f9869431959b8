/**
 * The magic cookie: where it comes from, and the handshake digest made from it.
 *
 * Resolution order: the `cookie` option, else the ERLANG_COOKIE environment variable (our own
 * convention, handy in containers), else the file erl itself reads (OTP 25 auth:read_cookie/0):
 * `$HOME/.erlang.cookie`, then `$XDG_CONFIG_HOME/erlang/.erlang.cookie` (~/.config when unset).
 * The file rules are erl's: a regular file, not accessible by group or others (mode & 0o077 == 0),
 * characters ' '..'~' followed only by newlines/CRs/spaces, not empty. Unlike erl we never create
 * a random cookie file: a fresh random cookie could not match any peer's.
 *
 * No function here logs, and no error message contains the cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DistError } from '../errors.js';

/** A cookie file bigger than this is refused before reading (erl cookies are ~20 bytes). */
const MAX_COOKIE_FILE = 64 * 1024;

export interface CookieSources {
  /** An explicit cookie: wins over everything else. */
  cookie?: string;
  /** Environment to read ERLANG_COOKIE, HOME and XDG_CONFIG_HOME from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** The cookie to use, from the option, ERLANG_COOKIE, or erl's cookie files (see the file comment). */
export function resolveCookie(o: CookieSources = {}): string {
  if (o.cookie !== undefined) return checkCookieText(o.cookie, 'the cookie option');
  const env = o.env ?? process.env;
  const fromEnv = env.ERLANG_COOKIE;
  if (fromEnv !== undefined && fromEnv !== '') return checkCookieText(fromEnv, 'ERLANG_COOKIE');
  const home = env.HOME ?? homedir();
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(home, '.config');
  const candidates = [join(home, '.erlang.cookie'), join(xdg, 'erlang', '.erlang.cookie')];
  for (const path of candidates) {
    const c = readCookieFile(path, { missingOk: true });
    if (c !== undefined) return c;
  }
  throw new DistError(
    'BEAM_ERR_COOKIE_MISSING',
    `no cookie: pass the cookie option, set ERLANG_COOKIE, or create ${candidates[0]} (mode 0400)`,
  );
}

/**
 * Reads a cookie file with erl's rules (auth:read_cookie/1, check_attributes/4, check_cookie/2).
 * With `missingOk`, a missing file gives undefined instead of an error.
 */
export function readCookieFile(path: string, o: { missingOk?: boolean } = {}): string | undefined {
  let st: Stats;
  try {
    st = statSync(path); // follows symlinks, as erl's raw_read_file_info does
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && o.missingOk) return undefined;
    throw new DistError('BEAM_ERR_COOKIE_FILE', `error when reading cookie file ${path}: ${code ?? String(e)}`, { cause: e });
  }
  // Type first: opening a FIFO would block.
  if (!st.isFile()) throw new DistError('BEAM_ERR_COOKIE_FILE_TYPE', `cookie file ${path} is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new DistError(
      'BEAM_ERR_COOKIE_FILE_MODE',
      `cookie file ${path} must be accessible by owner only (mode ${(st.mode & 0o777).toString(8)}; chmod 400 it), as erl requires`,
    );
  }
  if (st.size > MAX_COOKIE_FILE) {
    throw new DistError('BEAM_ERR_COOKIE_FILE', `cookie file ${path} is ${st.size} bytes (more than ${MAX_COOKIE_FILE})`);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DistError('BEAM_ERR_COOKIE_FILE', `error when reading cookie file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  if (bytes.length > MAX_COOKIE_FILE) throw new DistError('BEAM_ERR_COOKIE_FILE', `cookie file ${path} grew past ${MAX_COOKIE_FILE} bytes`);
  return parseCookieBytes(bytes, `cookie file ${path}`);
}

/** erl's check_cookie/2: printable ASCII, then only '\n', '\r', ' ' until the end; not empty. */
export function parseCookieBytes(bytes: Uint8Array, where: string): string {
  let end = 0;
  while (end < bytes.length && bytes[end] >= 0x20 && bytes[end] <= 0x7e) end++;
  for (let i = end; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x0a && b !== 0x0d && b !== 0x20) throw new DistError('BEAM_ERR_COOKIE_BAD', `${where}: bad characters in cookie`);
  }
  if (end === 0) throw new DistError('BEAM_ERR_COOKIE_BAD', `${where}: too short cookie string`);
  return Buffer.from(bytes.subarray(0, end)).toString('latin1');
}

/** A cookie given as text: erl turns it into an atom and digests its Latin-1 characters. */
function checkCookieText(cookie: string, where: string): string {
  if (cookie.length === 0) throw new DistError('BEAM_ERR_COOKIE_BAD', `${where}: empty cookie`);
  for (let i = 0; i < cookie.length; i++) {
    if (cookie.charCodeAt(i) > 0xff) {
      throw new DistError('BEAM_ERR_COOKIE_BAD', `${where}: the cookie has a character above U+00FF (erlang:md5 cannot digest it)`);
    }
  }
  if (cookie.length > 255) throw new DistError('BEAM_ERR_COOKIE_BAD', `${where}: longer than 255 characters (an atom's limit)`);
  return cookie;
}

/**
 * The handshake digest (dist_util:gen_digest/2): MD5 of the cookie's characters followed by the
 * challenge as an unsigned decimal string.
 */
export function digest(challenge: number, cookie: string): Buffer {
  return createHash('md5')
    .update(Buffer.from(cookie, 'latin1'))
    .update(String(challenge >>> 0), 'latin1')
    .digest();
}

/** Compares two digests in constant time (false when the lengths differ). */
export function digestEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A fresh 32-bit unsigned challenge from the system CSPRNG. */
export function newChallenge(): number {
  return randomBytes(4).readUInt32BE(0);
}
