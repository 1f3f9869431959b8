/**
 * `beamnode demo`: runs the probe against 3 local erl nodes named like Kubernetes pods, with the
 * cluster DNS first without and then with CoreDNS's endpoint_pod_names, and prints the lesson.
 * Needs only `erl`; no root, no cluster. Everything started is stopped at the end or on SIGINT
 * (with --keep: it runs until SIGINT/SIGTERM, which then ends the demo normally).
 * Exit status: 0 the demo showed broken → ok, 1 otherwise (or it could not run), 2 usage.
 */
import { parseArgs } from 'node:util';
import { runDemo } from '../emulation/demo.js';
import { wantColor } from '../probe/render.js';

const USAGE = `usage: beamnode demo [--net 127.A.B] [--erl PATH] [--keep]

  Starts 3 erl nodes named myapp@<pod>.myapp-headless.default.svc.cluster.local on 127.A.B.11-13
  (default 127.77.0), each with its own EPMD, serves their DNS records as CoreDNS would, and runs
  the probe twice: without endpoint_pod_names (broken) and with it (ok). Everything is stopped at
  the end, unless --keep: then it keeps running until Ctrl-C and the demo prints the beamnode probe
  commands that reach it from another terminal.`;

export async function run(argv: string[]): Promise<number> {
  let values: { net?: string; erl?: string; keep?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { net: { type: 'string' }, erl: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`beamnode demo: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await runDemo({ net: values.net, erl: values.erl, keep: values.keep, color: wantColor(), print: (s) => process.stdout.write(s), signal: ac.signal });
    return r.before.verdict === 'broken' && r.after.verdict === 'ok' ? 0 : 1;
  } catch (e) {
    const err = e as Error & { code?: string };
    console.error(`beamnode demo: ${ac.signal.aborted ? 'interrupted; everything started was stopped' : err.message}`);
    return err.code === 'BEAM_ERR_PROBE_USAGE' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
