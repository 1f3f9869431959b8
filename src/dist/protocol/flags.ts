/**
 * Distribution capability flags (DFLAG_*), as 64-bit bigints. Values pinned to OTP's
 * lib/kernel/include/dist.hrl and erts/emulator/beam/dist.h.
 */

export const DFLAG = {
  PUBLISHED: 0x1n,
  ATOM_CACHE: 0x2n,
  EXTENDED_REFERENCES: 0x4n,
  DIST_MONITOR: 0x8n,
  FUN_TAGS: 0x10n,
  DIST_MONITOR_NAME: 0x20n,
  HIDDEN_ATOM_CACHE: 0x40n,
  NEW_FUN_TAGS: 0x80n,
  EXTENDED_PIDS_PORTS: 0x100n,
  EXPORT_PTR_TAG: 0x200n,
  BIT_BINARIES: 0x400n,
  NEW_FLOATS: 0x800n,
  UNICODE_IO: 0x1000n,
  DIST_HDR_ATOM_CACHE: 0x2000n,
  SMALL_ATOM_TAGS: 0x4000n,
  ETS_COMPRESSED: 0x8000n,
  UTF8_ATOMS: 0x10000n,
  MAP_TAG: 0x20000n,
  BIG_CREATION: 0x40000n,
  SEND_SENDER: 0x80000n,
  BIG_SEQTRACE_LABELS: 0x100000n,
  PENDING_CONNECT: 0x200000n,
  EXIT_PAYLOAD: 0x400000n,
  FRAGMENTS: 0x800000n,
  HANDSHAKE_23: 0x1000000n,
  UNLINK_ID: 0x2000000n,
  MANDATORY_25_DIGEST: 0x4000000n,
  SPAWN: 1n << 32n,
  NAME_ME: 2n << 32n,
  V4_NC: 4n << 32n,
  ALIAS: 8n << 32n,
  LOCAL_EXT: 0x10n << 32n,
  ALTACT_SIG: 0x20n << 32n,
  /** OTP 29: native records (RECORD_EXT, tag 67). OTP 29 sends them whatever the peer says. */
  NATIVE_RECORDS: 0x40n << 32n,
} as const;

export type DistFlagName = keyof typeof DFLAG;

/** Flags every OTP 25+ peer requires (MANDATORY_DFLAGS_25 = 0x1070F94). */
export const MANDATORY_25: bigint =
  DFLAG.EXTENDED_REFERENCES |
  DFLAG.FUN_TAGS |
  DFLAG.EXTENDED_PIDS_PORTS |
  DFLAG.NEW_FUN_TAGS |
  DFLAG.EXPORT_PTR_TAG |
  DFLAG.BIT_BINARIES |
  DFLAG.NEW_FLOATS |
  DFLAG.UTF8_ATOMS |
  DFLAG.MAP_TAG |
  DFLAG.BIG_CREATION |
  DFLAG.HANDSHAKE_23;

/** OTP 26 and later also require V4_NC and UNLINK_ID (0x4_03070F94). */
export const MANDATORY_26: bigint = MANDATORY_25 | DFLAG.V4_NC | DFLAG.UNLINK_ID;

/** What OTP 25–27 advertise (DFLAG_DIST_DEFAULT, before PUBLISHED): 0xD_07DF7FBC. */
export const OTP_DEFAULT_25: bigint = 0xd07df7fbcn;

/**
 * Our hidden-node profile (OTP 25's mandatory set, UNLINK_ID, V4_NC, the monitor and alias
 * flags, no PUBLISHED) plus SPAWN (the Node emulates erpc), ALTACT_SIG (OTP 28+ alias, priority
 * and exit-to-alias signals as op 37) and NATIVE_RECORDS (the codec reads and writes
 * RECORD_EXT): 0x6D_075F5FBC.
 * DIST_HDR_ATOM_CACHE and FRAGMENTS are added by ourFlags() unless the network's options turn them off (dist-header.ts).
 */
export const DEFAULT_FLAGS: bigint =
  MANDATORY_25 |
  DFLAG.MANDATORY_25_DIGEST |
  DFLAG.UNLINK_ID |
  DFLAG.V4_NC |
  DFLAG.DIST_MONITOR |
  DFLAG.DIST_MONITOR_NAME |
  DFLAG.SEND_SENDER |
  DFLAG.EXIT_PAYLOAD |
  DFLAG.BIG_SEQTRACE_LABELS |
  DFLAG.UNICODE_IO |
  DFLAG.SMALL_ATOM_TAGS |
  DFLAG.ALIAS |
  DFLAG.SPAWN |
  DFLAG.ALTACT_SIG |
  DFLAG.NATIVE_RECORDS;

/** Whether the hot path is on unless a caller says otherwise. */
const HOT_DEFAULT = true;

/** DIST_HDR_ATOM_CACHE | FRAGMENTS: frames start `131, 68/69/70` (dist-header.ts, fragments.ts). */
export const HOT_PATH_FLAGS: bigint = DFLAG.DIST_HDR_ATOM_CACHE | DFLAG.FRAGMENTS;

/** Options for the flags we advertise. */
export interface OurFlagsOptions {
  /**
   * Advertise DIST_HDR_ATOM_CACHE (default on). Chosen per network (Node or DistNetwork option),
   * never process-wide. Checked against OTP 25, 27 and 29 (test/integration/dist-hotpath-*.test.ts).
   */
  atomCache?: boolean;
  /** Advertise FRAGMENTS (default on). */
  fragments?: boolean;
  /** Advertise PUBLISHED: a visible node (OTP's rpc and global then talk to it: they watch visible nodes only). */
  published?: boolean;
  /** Extra flags to add (e.g. DIST_HDR_ATOM_CACHE once a framing for it exists). */
  add?: bigint;
  /** Flags to take away from the default set. */
  remove?: bigint;
}

/** The flags we send in send_name / send_challenge. */
export function ourFlags(o: OurFlagsOptions = {}): bigint {
  let f = DEFAULT_FLAGS | (o.add ?? 0n);
  if (o.atomCache ?? HOT_DEFAULT) f |= DFLAG.DIST_HDR_ATOM_CACHE;
  if (o.fragments ?? HOT_DEFAULT) f |= DFLAG.FRAGMENTS;
  if (o.published) f |= DFLAG.PUBLISHED;
  return f & ~(o.remove ?? 0n);
}

/** OTP 25+: MANDATORY_25_DIGEST stands for all MANDATORY_25 flags (dist_util expand_mandatory_25_flag). */
export function expandMandatory25(flags: bigint): bigint {
  return flags & DFLAG.MANDATORY_25_DIGEST ? flags | MANDATORY_25 : flags;
}

/** Flags both sides use after the handshake: ours AND theirs (dist_util adjust_flags). */
export function negotiate(ours: bigint, theirs: bigint): bigint {
  return expandMandatory25(ours) & expandMandatory25(theirs);
}

const NAMES: readonly [DistFlagName, bigint][] = Object.entries(DFLAG) as [DistFlagName, bigint][];

/** The names of the set flags, lowest bit first; unknown bits as `0x…`. For logs and errors. */
export function flagNames(flags: bigint): string[] {
  const out: string[] = [];
  let rest = flags;
  for (const [name, bit] of NAMES) {
    if (flags & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  for (let bit = 1n; rest !== 0n && bit < 1n << 64n; bit <<= 1n) {
    if (rest & bit) {
      out.push(`0x${bit.toString(16)}`);
      rest &= ~bit;
    }
  }
  return out;
}

/**
 * The names of the mandatory flags `flags` lacks (after DIGEST expansion), as OTP's check_dflags
 * lists them. `mandatory` defaults to the OTP 26+ set.
 */
export function missingMandatory(flags: bigint, mandatory: bigint = MANDATORY_26): string[] {
  return flagNames(mandatory & ~expandMandatory25(flags));
}

/** True when the negotiated flags make the connection hidden (no PUBLISHED; dist_util publish_type). */
export const isHidden = (negotiated: bigint): boolean => (negotiated & DFLAG.PUBLISHED) === 0n;

/** `0x…` text of a flag set, for logs. */
export const flagsHex = (flags: bigint): string => `0x${flags.toString(16)}`;
