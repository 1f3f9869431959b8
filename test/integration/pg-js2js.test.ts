// Two beamnode nodes share a pg scope and a Phoenix.PubSub through a real epmd: both send
// `discover` on nodeup, so the exchange must settle (no discover loop) and each sees the other's
// members; a JS broadcast reaches a subscriber on the other JS node; a dropped connection drops
// the members, reconnecting syncs them again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { atom } from '../../src/etf/types.js';
import { Node } from '../../src/dist/node/node.js';
import { startEpmd, type Epmd } from '../support/otp.js';
import { waitUntil } from '../support/wait.js';

let epmd: Epmd;
let a: Node;
let b: Node;
before(async () => {
  epmd = await startEpmd();
  const o = { cookie: 'pgjs2js', epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } };
  a = await Node.start({ name: 'pga@127.0.0.1', ...o });
  b = await Node.start({ name: 'pgb@127.0.0.1', ...o });
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await epmd?.stop();
});

test('beamnode ↔ beamnode: pg members both ways, the discover exchange settles, nodedown and reconnect', async () => {
  const pa = a.pg();
  const pb = b.pg();
  const x = a.spawn();
  const y = b.spawn();
  await pa.join(atom('g'), x);
  await a.connect(b.name);
  await pb.join(atom('g'), y);
  await waitUntil(() => pa.getMembers(atom('g')).length === 2 && pb.getMembers(atom('g')).length === 2, 'both see both', 15_000);
  // Settled: no more traffic between the scopes (a loop would keep their mailboxes busy).
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(pa.process.queued + pb.process.queued, 0);
  assert.equal(pa.peers().length, 1);
  assert.equal(pb.peers().length, 1);
  y.close();
  await waitUntil(() => pa.getMembers(atom('g')).length === 1, 'leave on exit', 15_000);
  a.disconnect(b.name);
  await waitUntil(() => pb.getMembers(atom('g')).length === 0 && pb.peers().length === 0, 'dropped', 15_000);
  await b.connect(a.name);
  await waitUntil(() => pb.getMembers(atom('g')).length === 1, 'synced again', 15_000);
});

test('beamnode ↔ beamnode: a Phoenix.PubSub broadcast on one JS node reaches a subscriber on the other', async () => {
  const sub = await b.phoenixPubSub('Chat.PubSub').subscribe('lobby');
  const psa = a.phoenixPubSub('Chat.PubSub');
  await waitUntil(() => psa.remoteWorkers().length === 1, 'a knows b’s worker', 15_000);
  await psa.broadcast('lobby', atom('hello'));
  assert.equal(await sub.receive({ timeout: 5000 }), atom('hello'));
  sub.unsubscribe();
  await waitUntil(() => psa.remoteWorkers().length === 0, 'b’s worker left', 15_000);
});
