/**
 * Run by security-cookie.test.ts in a child process with DEBUG=beamnode:* (debug writes to
 * stderr). It makes a good connection to a real erl, fails a handshake with a wrong cookie both
 * ways, and runs the probe with a wrong cookie against the demo cluster, printing every error
 * (util.inspect with hidden properties and causes, and JSON) and the probe's JSON and table to
 * stdout. The parent then looks for the cookies in everything this process wrote.
 * Env: LEAK_EPMD_PORT, LEAK_ERL, LEAK_GOOD, LEAK_BAD, LEAK_DNS, LEAK_DEMO_EPMD_PORT, LEAK_SEARCH.
 */
import { inspect } from 'node:util';
import { DnsClient } from '../../src/discovery/index.js';
import { Node } from '../../src/dist/node/node.js';
import { runProbe } from '../../src/probe/probe.js';
import { renderJson, renderTable } from '../../src/probe/render.js';
import { atom } from '../../src/etf/types.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const show = (what: string, e: unknown) => {
  console.log(`${what}: ${inspect(e, { depth: 10, showHidden: true })}`);
  console.log(`${what} json: ${JSON.stringify(e, Object.getOwnPropertyNames(e as object))}`);
};

const epmdPort = Number(env('LEAK_EPMD_PORT'));
const erl = env('LEAK_ERL');
const good = await Node.start({ name: 'leakgood@127.0.0.1', cookie: env('LEAK_GOOD'), epmd: { port: epmdPort }, listen: { address: '127.0.0.1' } });
const bad = await Node.start({ name: 'leakbad@127.0.0.1', cookie: env('LEAK_BAD'), epmd: { port: epmdPort }, listen: { address: '127.0.0.1' } });
bad.on('handshakeFailed', (e, initiator) => show(`handshakeFailed ${initiator ? 'out' : 'in'}`, e));
try {
  console.log('good rpc:', inspect(await good.rpc(erl, 'erlang', 'node', [])));
  try {
    await bad.connect(erl);
  } catch (e) {
    show('bad connect', e);
  }
  try {
    await bad.rpc(erl, 'erlang', 'node', []);
  } catch (e) {
    show('bad rpc', e);
  }
  // erl dials the bad node: an inbound wrong-cookie handshake on our side (wait for its failure, bounded).
  let timer: NodeJS.Timeout | undefined;
  const inbound = new Promise<string>((r) => {
    bad.on('handshakeFailed', (_e, initiator) => !initiator && r('seen'));
    timer = setTimeout(() => r('not seen in 10 s'), 10_000);
  });
  console.log('erl pings bad:', inspect(await good.rpc(erl, 'net_adm', 'ping', [atom(bad.name)])));
  console.log('inbound handshake failure:', await inbound);
  clearTimeout(timer);
  // The probe with a wrong cookie against the demo cluster.
  const dns = new DnsClient({ nameserver: env('LEAK_DNS'), resolvConf: { nameservers: [], search: env('LEAK_SEARCH').split(','), ndots: 5, timeout: 2, attempts: 1, useVc: false } });
  const report = await runProbe({ service: 'myapp-headless', dns, cookie: env('LEAK_BAD'), epmdPort: Number(env('LEAK_DEMO_EPMD_PORT')), timeoutMs: 2000, probeName: { longHost: '127.0.0.1' } });
  console.log(renderJson(report));
  console.log(renderTable(report, { color: false }));
  console.log('probe verdict:', report.verdict);
} finally {
  await bad.stop();
  await good.stop();
}
