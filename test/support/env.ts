/**
 * Skips for a missing environment (a tool not installed, not root). Locally such a test is
 * skipped with its reason; under `CI=true` a missing environment is a failure, because CI
 * installs everything the suites need (.ci/run): the file fails to load, naming what is missing.
 * scripts/run-tests.mjs also fails a CI run in which any test was skipped.
 */
export class MissingEnvironmentError extends Error {
  override name = 'MissingEnvironmentError';
}

/**
 * The value for a test's `skip` option: false when nothing is missing, else the reason (and under
 * CI=true it throws instead). `missing` is the reason the environment is unfit, or false/undefined.
 */
export function skipUnlessEnv(missing: string | false | undefined): string | false {
  if (!missing) return false;
  if (process.env.CI === 'true') throw new MissingEnvironmentError(`CI=true, and the test environment lacks: ${missing} (.ci/run installs it)`);
  return missing;
}
