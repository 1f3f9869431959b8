/**
 * `beamnode epmd …`: talk to an EPMD or be one.
 *
 *   beamnode epmd names [HOST] [--port N] [--json] [--timeout MS]
 *   beamnode epmd port NAME [HOST] [--port N] [--json] [--timeout MS]
 *   beamnode epmd serve [--port N] [--address A[,B]] [--relaxed-command-check]
 *
 * Exit status: 0 ok, 1 failure (EPMD unreachable, name not registered, …), 2 usage.
 */
import { parseArgs } from 'node:util';
import { names as epmdNames, portPlease, defaultEpmdPort } from '../epmd/client.js';
import { EpmdError } from '../epmd/errors.js';
import { startEpmdServer } from '../epmd/server.js';
import { NODE_TYPE_HIDDEN, NODE_TYPE_NORMAL } from '../epmd/messages.js';

const USAGE = `usage:
  beamnode epmd names [HOST] [--port N] [--json] [--timeout MS]
      list the nodes registered with the EPMD on HOST (default 127.0.0.1)
  beamnode epmd port NAME [HOST] [--port N] [--json] [--timeout MS]
      ask the EPMD on HOST where the node NAME (the part before @) listens
  beamnode epmd serve [--port N] [--address A[,B…]] [--relaxed-command-check]
      run an embedded EPMD until SIGINT/SIGTERM (or a local 'epmd -kill'), logging registrations

  --port N      EPMD port (default: ERL_EPMD_PORT, else 4369)
  --timeout MS  connect + reply deadline (default 5000)
  --address A   addresses to listen on (default: all, as epmd; loopback is always added)`;

class UsageError extends Error {}

function portOption(v: string | undefined, allowZero: boolean): number {
  if (v === undefined) return defaultEpmdPort();
  if (!/^\d+$/.test(v) || Number(v) > 0xffff || (!allowZero && Number(v) === 0)) throw new UsageError(`--port ${v} is not a port number`);
  return Number(v);
}

function timeoutOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new UsageError(`--timeout ${v} is not a positive number of milliseconds`);
  return Number(v);
}

function typeName(t: number): string {
  return t === NODE_TYPE_NORMAL ? 'normal' : t === NODE_TYPE_HIDDEN ? 'hidden' : `type ${t}`;
}

function fail(err: unknown, json: boolean): number {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = e instanceof EpmdError ? e.code : 'BEAM_ERR';
  if (json) console.log(JSON.stringify({ error: { code, message: e.message } }));
  else console.error(`beamnode epmd: ${e.message}`);
  return 1;
}

async function namesCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } },
  });
  if (positionals.length > 1) throw new UsageError('names takes at most one HOST');
  const host = positionals[0] ?? '127.0.0.1';
  const port = portOption(values.port, false);
  const json = values.json ?? false;
  try {
    const nodes = await epmdNames(host, { port, timeout: timeoutOption(values.timeout) });
    if (json) console.log(JSON.stringify({ host, port, nodes }));
    else {
      console.log(`EPMD at ${host}:${port}: ${nodes.length} node${nodes.length === 1 ? '' : 's'}`);
      for (const n of nodes) console.log(`name ${n.name} at port ${n.port}`);
    }
    return 0;
  } catch (err) {
    return fail(err, json);
  }
}

async function portCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } },
  });
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError('port takes NAME [HOST]');
  const [alive, host = '127.0.0.1'] = positionals;
  const port = portOption(values.port, false);
  const json = values.json ?? false;
  try {
    const r = await portPlease(alive, host, { port, timeout: timeoutOption(values.timeout) });
    if (json) console.log(JSON.stringify({ host, epmdPort: port, ...r, extra: r.extra.toString('hex') }));
    else {
      console.log(
        `${r.name} at ${host}: port ${r.port}, ${typeName(r.nodeType)}, protocol ${r.protocol}, versions ${r.lowestVersion}..${r.highestVersion}` +
          (r.extra.length ? `, extra ${r.extra.toString('hex')}` : ''),
      );
    }
    return 0;
  } catch (err) {
    return fail(err, json);
  }
}

async function serveCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: 'string' }, address: { type: 'string' }, 'relaxed-command-check': { type: 'boolean' } },
  });
  if (positionals.length) throw new UsageError(`serve takes no arguments (got ${positionals.join(' ')})`);
  let server;
  try {
    server = await startEpmdServer({
      port: portOption(values.port, true),
      address: values.address,
      relaxedCommandCheck: values['relaxed-command-check'] ?? false,
    });
  } catch (err) {
    return fail(err, false);
  }
  const s = server;
  const stamp = () => new Date().toISOString();
  console.log(`${stamp()} EPMD listening on ${s.addresses.join(', ')}`);
  s.on('register', (n) =>
    console.log(`${stamp()} registered ${n.name} port ${n.port} ${typeName(n.nodeType)} versions ${n.lowestVersion}..${n.highestVersion} creation ${n.creation} from ${n.remoteAddress}`),
  );
  s.on('unregister', ({ node, reason }) => console.log(`${stamp()} unregistered ${node.name} (${reason})`));
  s.on('malformed', (m) => console.log(`${stamp()} closed connection from ${m.remoteAddress}: ${m.error.message}`));
  return new Promise<number>((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      console.log(`${stamp()} ${why}, stopping`);
      void s.close().then(() => resolve(0));
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    s.once('kill', () => stop('killed by a local KILL request'));
  });
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return sub ? 0 : 2;
  }
  try {
    switch (sub) {
      case 'names':
        return await namesCmd(rest);
      case 'port':
        return await portCmd(rest);
      case 'serve':
        return await serveCmd(rest);
      default:
        throw new UsageError(`unknown sub-command '${sub}'`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`beamnode epmd: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
