/**
 * The root of every error beamnode throws. Each subclass has a stable `code` (BEAM_ERR_…) that
 * callers switch on; messages are for people. No error message or property ever holds a cookie.
 */
export class BeamnodeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** Thrown when an operation's deadline passes (every network wait has one). */
export class TimeoutError extends BeamnodeError {
  constructor(what: string, ms: number, options?: ErrorOptions) {
    super('BEAM_ERR_TIMEOUT', `${what} timed out after ${ms} ms`, options);
  }
}
