/**
 * `beamnode lint <files or dirs…>`: checks Kubernetes manifests for BEAM clustering mistakes.
 *
 *   beamnode lint PATH… [--json] [--namespace NS] [--cluster-domain D] [--quiet]
 *   kubectl get deploy,sts,svc -o yaml | beamnode lint -      (`-` reads stdin)
 *
 * Exit status: 0 clean (info notes allowed), 1 errors or warnings, 2 usage (or a path that does not exist).
 */
import { parseArgs } from 'node:util';
import { lintPaths } from '../lint/lint.js';
import { renderJson, renderText, exitStatus } from '../lint/report.js';
import { LintError } from '../lint/errors.js';
import { DEFAULT_LOAD_LIMITS, type ManifestText } from '../lint/load.js';

const USAGE = `usage: beamnode lint PATH… [--json] [--namespace NS] [--cluster-domain D] [--quiet]
  check Kubernetes manifests (YAML/JSON files, directories walked for *.yaml, *.yml, *.json;
  - reads stdin, e.g. helm template . | beamnode lint -, kubectl get deploy,svc -o yaml | beamnode lint -)
  for the mistakes that keep BEAM nodes from clustering; all inputs are linted as one set

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
    const texts: ManifestText[] = positionals.includes('-') ? [{ file: '<stdin>', text: await readStdin(DEFAULT_LOAD_LIMITS.maxFileBytes) }] : [];
    const paths = positionals.filter((p) => p !== '-');
    const result = await lintPaths(paths, { namespace: values.namespace, clusterDomain: values['cluster-domain'] }, DEFAULT_LOAD_LIMITS, texts);
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

/** All of stdin as text, refusing more than `max` bytes (checked as chunks arrive, before keeping them). */
async function readStdin(max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > max) throw new LintError('BEAM_ERR_LINT_LIMIT', '<stdin>', `<stdin>: more than ${max} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
