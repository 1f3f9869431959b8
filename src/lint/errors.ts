/** Errors of the manifest lint: only for what stops it (a missing path, a limit); problems in manifests are findings. */
import { BeamnodeError } from '../errors.js';

export type LintErrorCode =
  | 'BEAM_ERR_LINT_PATH' // a given path does not exist or cannot be read
  | 'BEAM_ERR_LINT_LIMIT' // too many files, a file too large
  | 'BEAM_ERR_LINT_LOADER'; // the YAML parser (js-yaml) cannot be loaded

export class LintError extends BeamnodeError {
  static override readonly brand: string = 'LintError';
  declare readonly code: LintErrorCode;
  readonly path: string;
  constructor(code: LintErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.path = path;
  }
}
