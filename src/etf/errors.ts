import { BeamnodeError } from '../errors.js';

/** Bad ETF input: `offset` is the byte (in the buffer given to decode) where decoding failed. */
export class DecodeError extends BeamnodeError {
  readonly offset: number;
  constructor(code: `BEAM_ERR_ETF_${string}`, message: string, offset: number, options?: ErrorOptions) {
    super(code, `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}

/** The input is well-formed so far but exceeds a configured limit (depth, inflated size, terms). */
export class LimitError extends DecodeError {
  readonly limit: string;
  readonly max: number;
  constructor(limit: 'maxDepth' | 'maxInflatedSize' | 'maxTerms', max: number, message: string, offset: number, options?: ErrorOptions) {
    super(`BEAM_ERR_ETF_LIMIT_${limit === 'maxDepth' ? 'DEPTH' : limit === 'maxTerms' ? 'TERMS' : 'INFLATED_SIZE'}`, message, offset, options);
    this.limit = limit;
    this.max = max;
  }
}

/** A JS value that has no Erlang term (undefined, NaN, a class instance, an over-long atom…). */
export class EncodeError extends BeamnodeError {
  constructor(code: `BEAM_ERR_ETF_${string}`, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
