/**
 * Errors of the EPMD layer. Every message names the EPMD (host:port) it concerns, so that a
 * failure in a cluster of many hosts says which one.
 */
import { BeamnodeError } from '../errors.js';

export type EpmdErrorCode =
  | 'BEAM_ERR_EPMD_UNREACHABLE' // connection refused, reset before a reply, connect timed out
  | 'BEAM_ERR_EPMD_NOT_REGISTERED' // PORT_PLEASE2: the alive name is not registered there
  | 'BEAM_ERR_EPMD_NAME_TAKEN' // ALIVE2: epmd answered result > 0 (name in use)
  | 'BEAM_ERR_EPMD_REFUSED' // epmd closed without answering (a request it refuses: DUMP/KILL/STOP from a non-local peer, STOP without -relaxed_command_check)
  | 'BEAM_ERR_EPMD_MALFORMED' // bytes that are not an EPMD message (either direction)
  | 'BEAM_ERR_EPMD_INVALID_NAME' // an alive name epmd would refuse: empty, NUL, > 255 chars, bad UTF-8
  | 'BEAM_ERR_EPMD_USAGE' // a bad argument (port out of range, extra too long, …)
  | 'BEAM_ERR_EPMD_LISTEN'; // the embedded server could not listen (port in use, bad address)

export class EpmdError extends BeamnodeError {
  static override readonly brand: string = 'EpmdError';
  declare readonly code: EpmdErrorCode;
  /** The EPMD's host and port, when the error concerns one (not for pure codec errors). */
  readonly host: string | undefined;
  readonly port: number | undefined;
  constructor(code: EpmdErrorCode, message: string, options?: ErrorOptions & { host?: string; port?: number }) {
    super(code, message, options);
    this.host = options?.host;
    this.port = options?.port;
  }
}
