// The pg scope without sockets: the exact messages it sends (pg.erl's shapes only, never an empty
// pid list, a leave only for announced members), what it does with each message a peer scope sends,
// and that anything else is ignored rather than crashing the scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Atom, Pid, Reference, Tuple, atom, type Term } from '../../src/etf/types.js';
import { Runtime } from '../../src/dist/runtime/runtime.js';
import type { OutSignal, Outbox } from '../../src/dist/runtime/signals.js';
import { PgScope } from '../../src/dist/node/pg.js';
import { formatTerm, termEquals } from '../../src/dist/runtime/terms.js';
import { sleep } from '../support/otp.js';

const ME = atom('js@127.0.0.1');
const PEER = atom('erl@127.0.0.1');
const T = (...e: Term[]) => new Tuple(e);
const rpid = (id: number) => new Pid(PEER, id, 0, 5);

class Host extends EventEmitter implements Outbox {
  sent: OutSignal[] = [];
  connected = [PEER.name];
  readonly runtime = new Runtime({ node: ME, creation: 3, outbox: this });
  signal(_node: Atom, sig: OutSignal): Promise<void> {
    this.sent.push(sig);
    return Promise.resolve();
  }
  nodes(): string[] {
    return this.connected;
  }
  /** Messages sent, as `[to, msg]` text (monitors as `monitor <pid>`). */
  take(): string[] {
    const out = this.sent.map((s) => {
      if (s.kind === 'send') return `${String(s.to)} ! ${formatTerm(s.msg)}`;
      if (s.kind === 'reg_send') return `{${s.toName.name}} ! ${formatTerm(s.msg)}`;
      return `${s.kind} ${'to' in s ? String(s.to) : ''}`;
    });
    this.sent = [];
    return out;
  }
}

const tick = () => sleep(5);

function setup() {
  const host = new Host();
  const pg = new PgScope(host, 'pg');
  const me = String(pg.pid);
  const peerScope = rpid(40);
  return { host, pg, me, peerScope, rt: host.runtime };
}

test('pg: discover on start and on nodeup, sync with local members, join/leave shapes as pg.erl expects', async () => {
  const { host, pg, me, peerScope, rt } = setup();
  assert.deepEqual(host.take(), [`{pg} ! {discover,${me}}`]);
  host.emit('nodeup', 'other@h');
  assert.deepEqual(host.take(), [`{pg} ! {discover,${me}}`]);

  const a = host.runtime.spawn();
  const b = host.runtime.spawn();
  await pg.join(atom('g'), a); // no peer known yet: nothing to broadcast
  assert.deepEqual(host.take(), []);

  // The peer answers our discover with its sync (it has one member), then discovers us back.
  rt.deliver(pg.pid, T(atom('$gen_cast'), T(atom('sync'), peerScope, [T(atom('g'), [rpid(7)])])));
  rt.deliver(pg.pid, T(atom('discover'), peerScope));
  await tick();
  assert.deepEqual(host.take(), [`monitor ${String(peerScope)}`, `${String(peerScope)} ! {'$gen_cast',{sync,${me},[{g,[${String(a.pid)}]}]}}`]);
  assert.deepEqual(pg.getMembers(atom('g')).map(String), [String(a.pid), String(rpid(7))]);
  assert.deepEqual(pg.getLocalMembers(atom('g')).map(String), [String(a.pid)]);

  await pg.join(atom('g'), [a, b]);
  await pg.join(atom('h'), []); // an empty list: nothing sent (pg would store an empty group)
  assert.deepEqual(host.take(), [`${String(peerScope)} ! {join,${me},g,[${String(a.pid)},${String(b.pid)}]}`]);
  assert.equal(await pg.leave(atom('g'), b), true);
  assert.equal(await pg.leave(atom('nope'), a), false);
  assert.deepEqual(host.take(), [`${String(peerScope)} ! {leave,${me},${String(b.pid)},[g]}`]);
  // b was in g once and left: not a member any more, and its monitor is gone.
  assert.equal(await pg.leave(atom('g'), b), false);
  assert.deepEqual(host.take(), []);

  a.close(); // in g twice: one leave naming g twice, as pg.erl's DOWN handler sends
  await tick();
  assert.deepEqual(host.take(), [`${String(peerScope)} ! {leave,${me},${String(a.pid)},[g,g]}`]);
  assert.deepEqual(pg.getMembers(atom('g')).map(String), [String(rpid(7))]);
  await assert.rejects(pg.join(atom('g'), rpid(3)), { code: 'BEAM_ERR_NODE_BAD_DEST' });
  pg.close();
});

test('pg: remote join/leave/sync/DOWN update the view and the monitors; unknown scopes and bad shapes are ignored', async () => {
  const { host, pg, peerScope, rt } = setup();
  const g = T(atom('room'), Buffer.from('x'));
  const m = pg.monitor(g);
  const all = pg.monitorScope();
  // A join from a scope that has not been through discover is ignored (pg.erl does the same).
  rt.deliver(pg.pid, T(atom('join'), rpid(41), g, rpid(1)));
  for (const bad of [atom('junk'), T(atom('join'), peerScope), T(atom('leave'), peerScope, rpid(1), atom('notalist')), T(atom('$gen_cast'), atom('x')), T(atom('discover'), atom('notapid'))]) {
    rt.deliver(pg.pid, bad);
  }
  rt.deliver(pg.pid, T(atom('discover'), peerScope));
  await tick();
  rt.deliver(pg.pid, T(atom('join'), peerScope, g, [rpid(1), rpid(2)]));
  rt.deliver(pg.pid, T(atom('join'), peerScope, g, rpid(3)));
  await tick();
  assert.equal(pg.getMembers(g).length, 3);
  const j1 = await m.next({ timeout: 1000 });
  assert.equal(j1.kind, 'join');
  assert.deepEqual(j1.pids.map(String), [String(rpid(1)), String(rpid(2))]);
  assert.deepEqual((await m.next({ timeout: 1000 })).pids.map(String), [String(rpid(3))]);
  rt.deliver(pg.pid, T(atom('leave'), peerScope, [rpid(1), rpid(99)], [g, atom('unknown_group')]));
  await tick();
  const l = await m.next({ timeout: 1000 });
  assert.deepEqual([l.kind, l.pids.map(String)], ['leave', [String(rpid(1))]]);
  // A sync replaces what we knew: 2 and 3 leave, 4 joins.
  rt.deliver(pg.pid, T(atom('$gen_cast'), T(atom('sync'), peerScope, [T(g, [rpid(4)])])));
  await tick();
  const s1 = await m.next({ timeout: 1000 });
  const s2 = await m.next({ timeout: 1000 });
  assert.deepEqual([s1.kind, s1.pids.map(String).sort(), s2.kind, s2.pids.map(String)], ['leave', [String(rpid(2)), String(rpid(3))], 'join', [String(rpid(4))]]);
  assert.ok(termEquals(pg.whichGroups()[0], g));
  // The scope monitor saw all of it.
  assert.equal(all.groups.length, 0);
  let n = 0;
  while (n < 5) {
    await all.next({ timeout: 1000 });
    n++;
  }
  // The peer scope goes DOWN (connection lost): its members are gone.
  const mon = host.sent.find((s): s is Extract<OutSignal, { kind: 'monitor' }> => s.kind === 'monitor');
  assert.ok(mon);
  rt.remoteMonitorExit(peerScope, pg.pid, mon.ref as Reference, atom('noconnection'));
  await tick();
  assert.deepEqual(pg.getMembers(g), []);
  assert.deepEqual((await m.next({ timeout: 1000 })).kind, 'leave');
  assert.deepEqual(pg.peers(), []);
  m.stop();
  all.stop();
  pg.close();
});

test('pg: a peer scope that restarts (DOWN, not noconnection) is discovered again until it answers', async () => {
  const host = new Host();
  const pg = new PgScope(host, 'pg', { rediscoverWindow: 5000 });
  const peerScope = rpid(40);
  host.runtime.deliver(pg.pid, T(atom('discover'), peerScope));
  await tick();
  const mon = host.sent.find((s): s is Extract<OutSignal, { kind: 'monitor' }> => s.kind === 'monitor');
  assert.ok(mon);
  host.take();
  host.runtime.remoteMonitorExit(peerScope, pg.pid, mon.ref as Reference, atom('killed'));
  const deadline = Date.now() + 5000;
  while (host.sent.filter((s) => s.kind === 'reg_send').length < 3 && Date.now() < deadline) await sleep(20);
  assert.ok(host.take().filter((x) => x === `{pg} ! {discover,${String(pg.pid)}}`).length >= 3);
  // The new scope answers: the retries stop.
  host.runtime.deliver(pg.pid, T(atom('$gen_cast'), T(atom('sync'), rpid(50), [])));
  await sleep(300);
  host.take();
  await sleep(2200);
  assert.deepEqual(host.take().filter((x) => x.includes('discover')), []);
  pg.close();
});

test('pg: a monitor nobody reads ends at its bound instead of growing', async () => {
  const host = new Host();
  const pg = new PgScope(host, 'pg', { monitorBuffer: 3 });
  const m = pg.monitor(atom('g'));
  for (let i = 0; i < 5; i++) await pg.join(atom('g'), host.runtime.spawn());
  await assert.rejects(m.next(), { code: 'BEAM_ERR_QUEUE_OVERFLOW' });
  const ac = new AbortController();
  const m2 = pg.monitor(atom('g'), { signal: ac.signal });
  ac.abort(new Error('stop'));
  await assert.rejects(m2.next(), /stop/);
  // `break` out of a for await ends the monitor (the iterator's return()).
  const m3 = pg.monitor(atom('h'));
  const x = host.runtime.spawn();
  await pg.join(atom('h'), x);
  for await (const ch of m3) {
    assert.equal(ch.kind, 'join');
    break;
  }
  await assert.rejects(m3.next(), { code: 'BEAM_ERR_QUEUE_ENDED' });
  pg.close();
  // A closed scope: its monitors end, new ones are refused.
  assert.throws(() => pg.monitor(atom('h')), { code: 'BEAM_ERR_NODE_STOPPED' });
});
