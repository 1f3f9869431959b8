/**
 * Drop-in replacements for the native `erlpack` addon's `pack`/`unpack`, with its JS mapping
 * (and its bytes, for the values erlpack supports):
 *
 *   pack:   null/undefined → 'nil', booleans → 'true'/'false' (SMALL_ATOM_EXT), int32 → integer,
 *           uint32 → SMALL_BIG, every other number → float, string → binary, array → list
 *           (never STRING_EXT), plain object → map with binary keys in property order.
 *   unpack: atoms → strings (nil/null → null, true/false → booleans), binaries → strings,
 *           tuples → arrays, maps → objects, floats → numbers, integers past 32 bits → decimal
 *           strings.
 *
 * Beyond erlpack: bigint, Buffer (binary), and beamnode's term classes pack as themselves; unpack
 * reads UTF-8 atoms (OTP 26+'s default, which erlpack rejects), pids/refs/ports as beamnode
 * classes, improper lists as ImproperList.
 */
import { decodeCompat } from './decode.js';
import { packTerm } from './encode.js';

/** erlpack.pack(value). */
export function pack(value: unknown): Buffer {
  return packTerm(value);
}

/** erlpack.unpack(buf). The result is erlpack-shaped; its type is loose, as erlpack's is. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- erlpack's own signature
export function unpack<T = unknown>(buf: Uint8Array): T {
  return decodeCompat(buf) as T;
}
