/**
 * External Term Format tags (erts/doc/guides/erl_ext_dist.md). Values are the wire bytes.
 */
export const VERSION = 131;
export const COMPRESSED = 80;
export const DIST_HEADER = 68;
export const DIST_FRAG_HEADER = 69;

/** OTP 29 native records: u32 field count, u8 flags, module, name, field names, values. */
export const RECORD_EXT = 67;
export const NEW_FLOAT_EXT = 70;
export const BIT_BINARY_EXT = 77;
export const ATOM_CACHE_REF = 82;
export const NEW_PID_EXT = 88;
export const NEW_PORT_EXT = 89;
export const NEWER_REFERENCE_EXT = 90;
export const SMALL_INTEGER_EXT = 97;
export const INTEGER_EXT = 98;
export const FLOAT_EXT = 99;
export const ATOM_EXT = 100;
export const REFERENCE_EXT = 101;
export const PORT_EXT = 102;
export const PID_EXT = 103;
export const SMALL_TUPLE_EXT = 104;
export const LARGE_TUPLE_EXT = 105;
export const NIL_EXT = 106;
export const STRING_EXT = 107;
export const LIST_EXT = 108;
export const BINARY_EXT = 109;
export const SMALL_BIG_EXT = 110;
export const LARGE_BIG_EXT = 111;
export const NEW_FUN_EXT = 112;
export const EXPORT_EXT = 113;
export const NEW_REFERENCE_EXT = 114;
export const SMALL_ATOM_EXT = 115;
export const MAP_EXT = 116;
export const FUN_EXT = 117;
export const ATOM_UTF8_EXT = 118;
export const SMALL_ATOM_UTF8_EXT = 119;
export const V4_PORT_EXT = 120;
export const LOCAL_EXT = 121;

/** Human names of the tags, for error messages. */
export const TAG_NAMES: Readonly<Record<number, string>> = {
  67: 'RECORD_EXT', 70: 'NEW_FLOAT_EXT', 77: 'BIT_BINARY_EXT', 80: 'COMPRESSED', 82: 'ATOM_CACHE_REF', 88: 'NEW_PID_EXT',
  89: 'NEW_PORT_EXT', 90: 'NEWER_REFERENCE_EXT', 97: 'SMALL_INTEGER_EXT', 98: 'INTEGER_EXT', 99: 'FLOAT_EXT',
  100: 'ATOM_EXT', 101: 'REFERENCE_EXT', 102: 'PORT_EXT', 103: 'PID_EXT', 104: 'SMALL_TUPLE_EXT',
  105: 'LARGE_TUPLE_EXT', 106: 'NIL_EXT', 107: 'STRING_EXT', 108: 'LIST_EXT', 109: 'BINARY_EXT',
  110: 'SMALL_BIG_EXT', 111: 'LARGE_BIG_EXT', 112: 'NEW_FUN_EXT', 113: 'EXPORT_EXT', 114: 'NEW_REFERENCE_EXT',
  115: 'SMALL_ATOM_EXT', 116: 'MAP_EXT', 117: 'FUN_EXT', 118: 'ATOM_UTF8_EXT', 119: 'SMALL_ATOM_UTF8_EXT',
  120: 'V4_PORT_EXT', 121: 'LOCAL_EXT',
};
