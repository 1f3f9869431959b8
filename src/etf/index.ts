/**
 * beamnode/etf: the Erlang External Term Format. See docs/etf.md.
 */
export { Atom, atom, atomTableSize, setAtomTableLimit, DEFAULT_MAX_ATOMS, Tuple, tuple, Float, ImproperList, BitBinary, Pid, Port, Reference, Fun, ExportFun, NativeRecord } from './types.js';
export { WireMap } from './map/wire-map.js';
export { termEquals } from './equal.js';
export type { Term } from './types.js';
export { decode, decodeAt, decodeBodyAt, DEFAULT_LIMITS } from './decode.js';
export type { DecodeOptions, DecodeLimits } from './decode.js';
export { encode, encodeInto, encodeBodyInto } from './encode.js';
export type { EncodeOptions } from './encode.js';
export { Writer } from './writer.js';
export { DecodeError, LimitError, EncodeError } from './errors.js';
export type { DecodeErrorCode, LimitErrorCode, EncodeErrorCode } from './errors.js';
export { pack, unpack } from './erlpack.js';
export { compareTerms } from './order.js';
