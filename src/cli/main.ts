#!/usr/bin/env node
/**
 * The `beamnode` command. Thin: each sub-command lives in its own module under src/cli/ and
 * exports `run(argv: string[]): Promise<number>` (the exit status: 0 ok, 1 findings/failure,
 * 2 usage error). This file only picks the module.
 */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  probe: { module: './probe.js', summary: 'discover a headless service and try every node under every name' },
  demo: { module: './demo.js', summary: 'run the probe against local erl nodes with and without endpoint_pod_names' },
  epmd: { module: './epmd.js', summary: 'epmd names [HOST] | epmd serve: talk to or be an EPMD' },
  lint: { module: './lint.js', summary: 'check Kubernetes manifests for BEAM clustering mistakes' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: beamnode <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nbeamnode <command> --help for its options`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-v') {
    const { createRequire } = await import('node:module');
    console.log((createRequire(import.meta.url)('../../package.json') as { version: string }).version);
    return 0;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    console.error(`beamnode: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(entry.module)) as { run(argv: string[]): Promise<number> };
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`beamnode: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
