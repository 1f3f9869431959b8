/** Errors of the probe itself (its own usage and setup); what it finds about a cluster is data, not errors. */
import { BeamnodeError } from '../errors.js';

export type ProbeErrorCode =
  | 'BEAM_ERR_PROBE_USAGE' // a bad option (no service, bad nameserver, bad number)
  | 'BEAM_ERR_PROBE_DEMO' // the demo could not start its local nodes (erl missing, start-up failed)
  | 'BEAM_ERR_PROBE_TIMEOUT'; // --watch: a run went past its run timeout and was aborted

export class ProbeError extends BeamnodeError {
  declare readonly code: ProbeErrorCode;
  constructor(code: ProbeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
