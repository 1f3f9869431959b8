import { BeamnodeError } from '../errors.js';

/** The codes of DecodeError (bad ETF input). */
export type DecodeErrorCode =
  | 'BEAM_ERR_ETF_TRUNCATED'
  | 'BEAM_ERR_ETF_TRAILING'
  | 'BEAM_ERR_ETF_BAD_VERSION'
  | 'BEAM_ERR_ETF_BAD_OFFSET'
  | 'BEAM_ERR_ETF_BAD_TAG'
  | 'BEAM_ERR_ETF_LOCAL_EXT'
  | 'BEAM_ERR_ETF_ATOM_CACHE'
  | 'BEAM_ERR_ETF_BAD_ATOM'
  | 'BEAM_ERR_ETF_BAD_UTF8'
  | 'BEAM_ERR_ETF_BAD_INTEGER'
  | 'BEAM_ERR_ETF_BAD_FLOAT'
  | 'BEAM_ERR_ETF_BAD_BITS'
  | 'BEAM_ERR_ETF_BAD_REFERENCE'
  | 'BEAM_ERR_ETF_BAD_FUN'
  | 'BEAM_ERR_ETF_BAD_COMPRESSED'
  | 'BEAM_ERR_ETF_DUPLICATE_KEY'
  | 'BEAM_ERR_ETF_BAD_KEY'
  | 'BEAM_ERR_ETF_BAD_RECORD'
  | 'BEAM_ERR_ETF_INVALID';

/** The codes of LimitError (a DecodeError: a configured decode limit was passed). */
export type LimitErrorCode = 'BEAM_ERR_ETF_LIMIT_DEPTH' | 'BEAM_ERR_ETF_LIMIT_TERMS' | 'BEAM_ERR_ETF_LIMIT_INFLATED_SIZE' | 'BEAM_ERR_ETF_LIMIT_ATOMS';

/** The codes of EncodeError (a JS value with no Erlang term, or a bad encode option). */
export type EncodeErrorCode =
  | 'BEAM_ERR_ETF_UNENCODABLE'
  | 'BEAM_ERR_ETF_ATOM_TOO_LONG'
  | 'BEAM_ERR_ETF_TOO_BIG'
  | 'BEAM_ERR_ETF_TOO_DEEP'
  | 'BEAM_ERR_ETF_BAD_OPTION'
  | 'BEAM_ERR_ETF_ENCODE_BAD_FLOAT'
  | 'BEAM_ERR_ETF_ENCODE_BAD_BITS'
  | 'BEAM_ERR_ETF_ENCODE_BAD_REFERENCE'
  | 'BEAM_ERR_ETF_ENCODE_BAD_FUN'
  | 'BEAM_ERR_ETF_ENCODE_DUPLICATE_KEY'
  | 'BEAM_ERR_ETF_ENCODE_BAD_RECORD';

/** Bad ETF input: `offset` is the byte (in the buffer given to decode) where decoding failed; -1 outside a decode. */
export class DecodeError extends BeamnodeError {
  static override readonly brand: string = 'DecodeError';
  declare readonly code: DecodeErrorCode | LimitErrorCode;
  readonly offset: number;
  constructor(code: DecodeErrorCode | LimitErrorCode, message: string, offset: number, options?: ErrorOptions) {
    super(code, offset < 0 ? message : `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}

const CODE_OF = { maxDepth: 'DEPTH', maxTerms: 'TERMS', maxInflatedSize: 'INFLATED_SIZE', maxAtoms: 'ATOMS' } as const;

/** The input is well-formed so far but exceeds a configured limit (depth, inflated size, terms; the process's atom table). */
export class LimitError extends DecodeError {
  static override readonly brand: string = 'LimitError';
  declare readonly code: LimitErrorCode;
  readonly limit: string;
  readonly max: number;
  constructor(limit: 'maxDepth' | 'maxInflatedSize' | 'maxTerms' | 'maxAtoms', max: number, message: string, offset: number, options?: ErrorOptions) {
    super(`BEAM_ERR_ETF_LIMIT_${CODE_OF[limit]}`, message, offset, options);
    this.limit = limit;
    this.max = max;
  }
}

/** A JS value that has no Erlang term (undefined, NaN, a class instance, an over-long atom…). */
export class EncodeError extends BeamnodeError {
  static override readonly brand: string = 'EncodeError';
  declare readonly code: EncodeErrorCode;
  /** Where in the value the encoder failed (`$.items[3].at`; `{1}` is a tuple element), when known. */
  declare path?: string;
  constructor(code: EncodeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
