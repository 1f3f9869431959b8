/**
 * beamnode/etf: the Erlang External Term Format. See docs/etf.md.
 */
export { Atom, atom, atomTableSize, setAtomTableLimit, DEFAULT_MAX_ATOMS, Tuple, tuple, Float, ImproperList, BitBinary, Pid, Port, Reference, Fun, ExportFun, NativeRecord } from './types.js';
export { WireMap } from './map/wire-map.js';
export { termEquals } from './equal.js';
export type { Term, Encodable } from './types.js';
export { isTuple, isAtom, isPid, isRef, isPort, isBinary, isBitBinary, isList, isMap, isInteger, isNumber } from './terms/guards.js';
export type { TupleOf, TaggedTupleOf } from './terms/guards.js';
export { formatTerm } from './terms/format.js';
export { decode, decodeAt, decodeBodyAt, DEFAULT_LIMITS } from './decode.js';
export type { DecodeOptions, DecodeLimits } from './decode.js';
export { encode, encodeInto, encodeBodyInto } from './encode.js';
export type { EncodeOptions } from './encode.js';
export { Writer } from './writer.js';
export { DecodeError, LimitError, EncodeError } from './errors.js';
export type { DecodeErrorCode, LimitErrorCode, EncodeErrorCode } from './errors.js';
export { pack, unpack } from './erlpack.js';
export { compareTerms } from './order.js';
export { toJson, fromJson, encodeJson, decodeJson } from './json/convert.js';
export type { JsonOptions, JsonMode, JsonValue, JsonTerm, JsonInput } from './json/convert.js';
