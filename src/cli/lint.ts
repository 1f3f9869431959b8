/**
 * `beamnode lint <files or dirs…>`: checks Kubernetes manifests for BEAM clustering mistakes.
 *
 *   beamnode lint PATH… [--json] [--namespace NS] [--cluster-domain D] [--quiet]
 *
 * Exit status: 0 clean (info notes allowed), 1 errors or warnings, 2 usage (or a path that does not exist).
 */
import { parseArgs } from 'node:util';
import { lintPaths } from '../lint/lint.js';
import { renderJson, renderText, exitStatus } from '../lint/report.js';
import { LintError } from '../lint/errors.js';

const USAGE = `usage: beamnode lint PATH… [--json] [--namespace NS] [--cluster-domain D] [--quiet]
  check Kubernetes manifests (YAML/JSON files, directories walked for *.yaml, *.yml, *.json)
  for the mistakes that keep BEAM nodes from clustering; all files are linted as one set

  --json              machine-readable findings
  --namespace NS      namespace of objects without one (default: default)
  --cluster-domain D  cluster domain for FQDN lengths (default: cluster.local, or the Corefile's)
  --quiet             hide info notes (text output)

exit status: 0 clean (info notes allowed), 1 errors or warnings, 2 usage`;

export async function run(argv: string[]): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        namespace: { type: 'string' },
        'cluster-domain': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`beamnode lint: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    console.error(`beamnode lint: no files or directories given\n\n${USAGE}`);
    return 2;
  }
  try {
    const result = await lintPaths(positionals, { namespace: values.namespace, clusterDomain: values['cluster-domain'] });
    const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
    console.log(values.json ? renderJson(result) : renderText(result, { colour, minSeverity: values.quiet ? 'warning' : 'info' }));
    return exitStatus(result);
  } catch (err) {
    if (err instanceof LintError) {
      console.error(`beamnode lint: ${err.message}`);
      return err.code === 'BEAM_ERR_LINT_PATH' ? 2 : 1; // a limit or the loader: not a usage error
    }
    throw err;
  }
}
