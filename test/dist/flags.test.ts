import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DFLAG,
  DEFAULT_FLAGS,
  MANDATORY_25,
  MANDATORY_26,
  OTP_DEFAULT_25,
  expandMandatory25,
  flagNames,
  isHidden,
  missingMandatory,
  negotiate,
  ourFlags,
} from '../../src/dist/protocol/flags.js';

// The facts table (otp-dist-facts.md §2.4), pinned to dist.hrl / dist.h.
const TABLE: [keyof typeof DFLAG, bigint][] = [
  ['PUBLISHED', 0x1n],
  ['ATOM_CACHE', 0x2n],
  ['EXTENDED_REFERENCES', 0x4n],
  ['DIST_MONITOR', 0x8n],
  ['FUN_TAGS', 0x10n],
  ['DIST_MONITOR_NAME', 0x20n],
  ['HIDDEN_ATOM_CACHE', 0x40n],
  ['NEW_FUN_TAGS', 0x80n],
  ['EXTENDED_PIDS_PORTS', 0x100n],
  ['EXPORT_PTR_TAG', 0x200n],
  ['BIT_BINARIES', 0x400n],
  ['NEW_FLOATS', 0x800n],
  ['UNICODE_IO', 0x1000n],
  ['DIST_HDR_ATOM_CACHE', 0x2000n],
  ['SMALL_ATOM_TAGS', 0x4000n],
  ['ETS_COMPRESSED', 0x8000n],
  ['UTF8_ATOMS', 0x10000n],
  ['MAP_TAG', 0x20000n],
  ['BIG_CREATION', 0x40000n],
  ['SEND_SENDER', 0x80000n],
  ['BIG_SEQTRACE_LABELS', 0x100000n],
  ['PENDING_CONNECT', 0x200000n],
  ['EXIT_PAYLOAD', 0x400000n],
  ['FRAGMENTS', 0x800000n],
  ['HANDSHAKE_23', 0x1000000n],
  ['UNLINK_ID', 0x2000000n],
  ['MANDATORY_25_DIGEST', 0x4000000n],
  ['SPAWN', 1n << 32n],
  ['NAME_ME', 2n << 32n],
  ['V4_NC', 4n << 32n],
  ['ALIAS', 8n << 32n],
  ['LOCAL_EXT', 0x10n << 32n],
  ['ALTACT_SIG', 0x20n << 32n],
  ['NATIVE_RECORDS', 0x40n << 32n],
];

test('every DFLAG has the value of dist.hrl', () => {
  for (const [name, value] of TABLE) assert.equal(DFLAG[name], value, name);
  assert.equal(Object.keys(DFLAG).length, TABLE.length);
});

test('mandatory sets are OTP 25 0x1070F94 and OTP 26+ 0x4_03070F94', () => {
  assert.equal(MANDATORY_25, 0x1070f94n);
  assert.equal(MANDATORY_26, 0x403070f94n);
});

test('our default profile is OTP 25 default minus DIST_HDR_ATOM_CACHE and FRAGMENTS (hidden, SPAWN), plus ALTACT_SIG and NATIVE_RECORDS', () => {
  assert.equal(DEFAULT_FLAGS, 0x6d075f5fbcn);
  assert.equal(DEFAULT_FLAGS, (OTP_DEFAULT_25 & ~(DFLAG.DIST_HDR_ATOM_CACHE | DFLAG.FRAGMENTS)) | DFLAG.ALTACT_SIG | DFLAG.NATIVE_RECORDS);
  assert.equal(DEFAULT_FLAGS & DFLAG.PUBLISHED, 0n);
  assert.equal(DEFAULT_FLAGS & DFLAG.SPAWN, DFLAG.SPAWN);
  assert.deepEqual(missingMandatory(DEFAULT_FLAGS, MANDATORY_26), []);
  assert.equal(ourFlags({ published: true, atomCache: false, fragments: false }), DEFAULT_FLAGS | 1n);
  assert.equal(ourFlags({ remove: DFLAG.SPAWN }) & DFLAG.SPAWN, 0n);
  assert.equal(ourFlags({ add: DFLAG.FRAGMENTS }) & DFLAG.FRAGMENTS, DFLAG.FRAGMENTS);
});

test('MANDATORY_25_DIGEST expands to the 25 set (DIGEST-only flags were accepted)', () => {
  assert.equal(expandMandatory25(DFLAG.MANDATORY_25_DIGEST), DFLAG.MANDATORY_25_DIGEST | MANDATORY_25);
  assert.deepEqual(missingMandatory(DFLAG.MANDATORY_25_DIGEST, MANDATORY_25), []);
  assert.deepEqual(missingMandatory(DFLAG.MANDATORY_25_DIGEST, MANDATORY_26), ['UNLINK_ID', 'V4_NC']);
  assert.equal(expandMandatory25(0x10n), 0x10n);
});

test('missingMandatory names what check_dflags would (MAP_TAG)', () => {
  assert.deepEqual(missingMandatory(MANDATORY_26 & ~DFLAG.MAP_TAG), ['MAP_TAG']);
  assert.deepEqual(missingMandatory(0n, MANDATORY_25).length, 11);
});

test('flagNames lists known names and unknown bits in hex', () => {
  assert.deepEqual(flagNames(0xd07df7fbdn).slice(0, 3), ['PUBLISHED', 'EXTENDED_REFERENCES', 'DIST_MONITOR']);
  assert.deepEqual(flagNames(DFLAG.SPAWN | (1n << 40n)), ['SPAWN', '0x10000000000']);
  assert.deepEqual(flagNames(0n), []);
});

test('negotiation is ours AND theirs; hidden iff no PUBLISHED', () => {
  const n = negotiate(DEFAULT_FLAGS, 0xd07df7fbdn);
  assert.equal(n, 0xd075f5fbcn);
  assert.equal(isHidden(n), true);
  assert.equal(isHidden(negotiate(DEFAULT_FLAGS | 1n, 0xd07df7fbdn)), false);
});
