// The Node's process runtime without a network: mailboxes, links, monitors, aliases and the
// signals it would put on the wire (recorded by an Outbox that keeps what it is given).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atom, Float, Pid, Reference, Tuple, atom, type Term } from '../../src/etf/types.js';
import { TimeoutError } from '../../src/errors.js';
import { Mailbox } from '../../src/dist/runtime/mailbox.js';
import { ProcessExitedError, NodeError } from '../../src/dist/runtime/errors.js';
import { Runtime } from '../../src/dist/runtime/runtime.js';
import type { OutSignal, Outbox } from '../../src/dist/runtime/signals.js';
import { formatTerm, termEquals } from '../../src/dist/runtime/terms.js';
import { waitUntil } from '../support/wait.js';

const ME = atom('js@127.0.0.1');
const PEER = atom('erl@127.0.0.1');

class RecordingOutbox implements Outbox {
  sent: [Atom, OutSignal][] = [];
  fail = new Set<Atom>();
  signal(node: Atom, sig: OutSignal): Promise<void> {
    if (this.fail.has(node)) return Promise.reject(new Error(`cannot reach ${node.name}`));
    this.sent.push([node, sig]);
    return Promise.resolve();
  }
  kinds(): string[] {
    return this.sent.map(([, s]) => s.kind);
  }
  take(): OutSignal[] {
    return this.sent.splice(0).map(([, s]) => s);
  }
}

const rt = () => {
  const outbox = new RecordingOutbox();
  return { outbox, runtime: new Runtime({ node: ME, creation: 7, outbox }) };
};
const remotePid = (id: number) => new Pid(PEER, id, 0, 99);
const T = (...e: Term[]) => new Tuple(e);
const eq = (a: Term, b: Term) => assert.ok(termEquals(a, b), `${formatTerm(a)} =/= ${formatTerm(b)}`);

test('mailbox: selective receive takes the oldest match and leaves the rest in order', async () => {
  const mb = new Mailbox(100, () => {});
  mb.push(1);
  mb.push('two');
  mb.push(3);
  assert.equal(await mb.receive({ match: (m) => typeof m === 'string' }), 'two');
  assert.equal(await mb.receive(), 1);
  assert.equal(await mb.receive(), 3);
  assert.equal(mb.size, 0);
});

test('mailbox: a waiting receive gets the first message its match accepts; others queue', async () => {
  const mb = new Mailbox(100, () => {});
  const p = mb.receive({ match: (m) => m === 'b' });
  mb.push('a');
  mb.push('b');
  assert.equal(await p, 'b');
  assert.equal(mb.size, 1);
  assert.equal(mb.take(), 'a');
});

test('mailbox: timeout rejects with TimeoutError, abort with the reason, close with its error', async () => {
  const mb = new Mailbox(100, () => {});
  await assert.rejects(mb.receive({ timeout: 10 }), TimeoutError);
  await assert.rejects(mb.receive({ timeout: 0 }), TimeoutError);
  const ac = new AbortController();
  const p = mb.receive({ signal: ac.signal });
  ac.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  const q = mb.receive();
  mb.close(new Error('closed'));
  await assert.rejects(q, /closed/);
  assert.equal(mb.push(1), false);
});

test('mailbox: past its limit the owner is told and the message is not kept', () => {
  let over = 0;
  const mb = new Mailbox(2, () => over++);
  assert.ok(mb.push(1) && mb.push(2));
  assert.equal(mb.push(3), false);
  assert.equal(over, 1);
  assert.equal(mb.size, 2);
});

test('mailbox: a long queue drained from the head keeps order (deque compaction)', async () => {
  const mb = new Mailbox(10_000, () => {});
  for (let i = 0; i < 5000; i++) mb.push(i);
  for (let i = 0; i < 5000; i++) assert.equal(mb.take(), i);
  assert.equal(mb.size, 0);
});

test('processes: pids carry our node and creation; local send and receive; for await ends at exit', async () => {
  const { runtime } = rt();
  const a = runtime.spawn();
  const b = runtime.spawn();
  assert.equal(a.pid.node, ME);
  assert.equal(a.pid.creation, 7);
  assert.ok(!a.pid.equals(b.pid));
  await a.send(b.pid, 'hi');
  b.register('bee');
  await a.send('bee', 'named');
  await a.send({ name: 'bee', node: ME }, 'tuple-named');
  const got: Term[] = [];
  const loop = (async () => {
    for await (const m of b) got.push(m);
  })();
  await waitUntil(() => got.length === 3, 'the three messages');
  b.close();
  await loop;
  assert.deepEqual(got, ['hi', 'named', 'tuple-named']);
  await assert.rejects(b.receive(), ProcessExitedError);
  assert.equal(runtime.whereis('bee'), undefined, 'the name goes with the process');
  await assert.rejects(a.send('nobody', 1), (e: unknown) => e instanceof NodeError && e.code === 'BEAM_ERR_NODE_NOT_REGISTERED');
});

test('register: a taken name is refused', () => {
  const { runtime } = rt();
  const a = runtime.spawn();
  const b = runtime.spawn();
  a.register('x');
  assert.throws(() => b.register('x'), (e: unknown) => e instanceof NodeError && e.code === 'BEAM_ERR_NODE_NAME_TAKEN');
  assert.ok(runtime.unregister('x'));
  b.register('x');
  assert.equal(runtime.whereis('x'), b);
});

test('local links: a trapping process gets EXIT, a non-trapping one dies with the reason, normal is ignored', async () => {
  const { runtime } = rt();
  const trap = runtime.spawn();
  const plain = runtime.spawn({ trapExit: false });
  const victim = runtime.spawn({ trapExit: false });
  await trap.link(victim.pid);
  await plain.link(victim.pid);
  victim.exit(atom('boom'));
  eq(await trap.receive({ timeout: 100 }), T(atom('EXIT'), victim.pid, atom('boom')));
  assert.equal(await plain.exited, atom('boom'));
  // normal exits do not kill non-trapping linked processes
  const survivor = runtime.spawn({ trapExit: false });
  const quitter = runtime.spawn();
  await survivor.link(quitter.pid);
  quitter.close();
  assert.ok(survivor.alive);
});

test('exit/2: kill cannot be trapped (reason killed); other reasons are trapped', async () => {
  const { runtime } = rt();
  const a = runtime.spawn();
  const b = runtime.spawn();
  const watcher = runtime.spawn();
  const ref = watcher.monitor(b.pid);
  a.exit(b.pid, atom('shutdown'));
  eq(await b.receive({ timeout: 100 }), T(atom('EXIT'), a.pid, atom('shutdown')));
  a.exit(b.pid, atom('kill'));
  assert.equal(await b.exited, atom('killed'));
  eq(await watcher.receive({ timeout: 100 }), T(atom('DOWN'), ref, atom('process'), b.pid, atom('killed')));
});

test('local monitors: DOWN with the reason; by name gives {Name, Node}; noproc for the missing; demonitor flush', async () => {
  const { runtime } = rt();
  const w = runtime.spawn();
  const t = runtime.spawn();
  t.register('srv');
  const r1 = w.monitor(t.pid);
  const r2 = w.monitor('srv');
  const r3 = w.monitor('ghost');
  eq(await w.receive({ timeout: 100 }), T(atom('DOWN'), r3, atom('process'), T(atom('ghost'), ME), atom('noproc')));
  t.exit(atom('bye'));
  const downs = [await w.receive({ timeout: 100 }), await w.receive({ timeout: 100 })];
  const byRef = (r: Reference) => downs.find((d) => (d as Tuple).elements[1] instanceof Reference && r.equals((d as Tuple).elements[1]))!;
  eq(byRef(r1), T(atom('DOWN'), r1, atom('process'), t.pid, atom('bye')));
  eq(byRef(r2), T(atom('DOWN'), r2, atom('process'), T(atom('srv'), ME), atom('bye')));
  const t2 = runtime.spawn();
  const r4 = w.monitor(t2.pid);
  assert.ok(w.demonitor(r4));
  t2.close();
  await assert.rejects(w.receive({ timeout: 20 }), TimeoutError);
  const t3 = runtime.spawn();
  const r5 = w.monitor(t3.pid);
  t3.close();
  assert.equal(w.queued, 1);
  assert.equal(w.demonitor(r5, { flush: true }), false);
  assert.equal(w.queued, 0);
});

test('remote link: LINK out; our exit sends EXIT; their EXIT reaches a trapping process', async () => {
  const { runtime, outbox } = rt();
  const p = runtime.spawn();
  const rp = remotePid(50);
  await p.link(rp);
  eq(outbox.take()[0] as unknown as Term, { kind: 'link', from: p.pid, to: rp } as unknown as Term);
  runtime.remoteExit(rp, p.pid, atom('crash'), true);
  eq(await p.receive({ timeout: 100 }), T(atom('EXIT'), rp, atom('crash')));
  // link again, then our exit goes out as an EXIT signal
  await p.link(rp);
  outbox.take();
  p.exit(atom('done'));
  const [sig] = outbox.take();
  assert.equal(sig.kind, 'exit');
  assert.ok(sig.kind === 'exit' && sig.reason === atom('done') && sig.to.equals(rp) && sig.from.equals(p.pid));
});

test('UNLINK_ID: exit signals during our unlink are ignored; the ack clears the state; their unlink is acked', async () => {
  const { runtime, outbox } = rt();
  const p = runtime.spawn();
  const rp = remotePid(51);
  await p.link(rp);
  outbox.take();
  p.unlink(rp);
  const [u] = outbox.take();
  assert.equal(u.kind, 'unlink_id');
  const id = u.kind === 'unlink_id' ? u.id : 0n;
  assert.ok(id > 0n);
  runtime.remoteExit(rp, p.pid, atom('late'), true); // raced with our unlink: ignored
  await assert.rejects(p.receive({ timeout: 20 }), TimeoutError);
  runtime.remoteUnlinkIdAck(id, rp, p.pid);
  assert.equal(p.state.links.size, 0);
  // their side unlinks: we ack with from/to swapped, and stop treating their EXIT as a link exit
  runtime.remoteLink(rp, p.pid);
  runtime.remoteUnlinkId(42n, rp, p.pid);
  const [ack] = outbox.take();
  assert.ok(ack.kind === 'unlink_id_ack' && ack.id === 42n && ack.from.equals(p.pid) && ack.to.equals(rp));
  runtime.remoteExit(rp, p.pid, atom('x'), true);
  await assert.rejects(p.receive({ timeout: 20 }), TimeoutError);
});

test('incoming LINK/MONITOR_P for a dead pid or unknown name answer noproc', () => {
  const { runtime, outbox } = rt();
  const rp = remotePid(52);
  const dead = runtime.spawn();
  dead.close();
  runtime.remoteLink(rp, dead.pid);
  const ref = new Reference(PEER, 99, [1, 2, 3]);
  runtime.remoteMonitor(rp, atom('no_such_name'), ref);
  const [e, m] = outbox.take();
  assert.ok(e.kind === 'exit' && e.reason === atom('noproc') && e.from.equals(dead.pid) && e.to.equals(rp));
  assert.ok(m.kind === 'monitor_exit' && m.from === atom('no_such_name') && m.reason === atom('noproc') && m.ref.equals(ref));
});

test('incoming MONITOR_P by name: our exit sends MONITOR_P_EXIT from the name; DEMONITOR_P removes it', () => {
  const { runtime, outbox } = rt();
  const rp = remotePid(53);
  const srv = runtime.spawn();
  srv.register('srv');
  const r1 = new Reference(PEER, 99, [1, 0, 0]);
  const r2 = new Reference(PEER, 99, [2, 0, 0]);
  runtime.remoteMonitor(rp, atom('srv'), r1);
  runtime.remoteMonitor(rp, srv.pid, r2);
  runtime.remoteDemonitor(rp, srv.pid, r2);
  srv.exit(atom('stopped'));
  const out = outbox.take();
  assert.equal(out.length, 1);
  const [m] = out;
  assert.ok(m.kind === 'monitor_exit' && m.from === atom('srv') && m.reason === atom('stopped') && m.ref.equals(r1) && m.to.equals(rp));
});

test('outgoing remote monitor: MONITOR_P out, MONITOR_P_EXIT in gives DOWN; demonitor sends DEMONITOR_P', async () => {
  const { runtime, outbox } = rt();
  const p = runtime.spawn();
  const rp = remotePid(54);
  const ref = p.monitor(rp);
  const refByName = p.monitor([atom('rex'), PEER]);
  const [m1, m2] = outbox.take();
  assert.ok(m1.kind === 'monitor' && m1.to instanceof Pid && m1.ref.equals(ref));
  assert.ok(m2.kind === 'monitor' && m2.to === atom('rex'));
  runtime.remoteMonitorExit(rp, p.pid, ref, atom('normal'));
  eq(await p.receive({ timeout: 100 }), T(atom('DOWN'), ref, atom('process'), rp, atom('normal')));
  p.demonitor(refByName);
  const [d] = outbox.take();
  assert.ok(d.kind === 'demonitor' && d.to === atom('rex') && d.ref.equals(refByName));
});

test('nodeDown: links break with noconnection, monitors fire DOWN noconnection, nothing is sent back', async () => {
  const { runtime, outbox } = rt();
  const trap = runtime.spawn();
  const plain = runtime.spawn({ trapExit: false });
  const rp = remotePid(55);
  await trap.link(rp);
  await plain.link(rp);
  const ref = trap.monitor([atom('srv'), PEER]);
  runtime.remoteMonitor(rp, trap.pid, new Reference(PEER, 99, [9, 9, 9]));
  outbox.take();
  runtime.nodeDown(PEER);
  assert.equal(await plain.exited, atom('noconnection'));
  const msgs = [await trap.receive({ timeout: 100 }), await trap.receive({ timeout: 100 })];
  assert.ok(msgs.some((m) => termEquals(m, T(atom('DOWN'), ref, atom('process'), T(atom('srv'), PEER), atom('noconnection')))));
  assert.ok(msgs.some((m) => termEquals(m, T(atom('EXIT'), rp, atom('noconnection')))));
  trap.close();
  assert.deepEqual(outbox.kinds(), [], 'no signal goes towards the node that went down');
});

test('aliases: active aliases deliver, unalias and exit deactivate them', async () => {
  const { runtime } = rt();
  const p = runtime.spawn();
  const a = p.alias();
  assert.ok(runtime.deliverAlias(a, 'via-alias'));
  assert.equal(await p.receive({ timeout: 100 }), 'via-alias');
  assert.ok(p.unalias(a));
  assert.equal(runtime.deliverAlias(a, 'dropped'), false);
  const b = p.alias();
  p.close();
  assert.equal(runtime.deliverAlias(b, 'dropped'), false);
});

test('mailbox overflow ends the process with mailbox_overflow', async () => {
  const { runtime } = rt();
  const p = runtime.spawn({ mailboxLimit: 3 });
  for (let i = 0; i < 4; i++) runtime.deliver(p.pid, i);
  assert.equal(await p.exited, atom('mailbox_overflow'));
});

test('terms: termEquals is =:= (1 vs 1.0, bigint vs number) and formatTerm is bounded', () => {
  assert.ok(termEquals(T(1, [atom('a')], Buffer.from('x')), T(1, [atom('a')], Buffer.from('x'))));
  assert.ok(termEquals(5n, 5));
  assert.ok(!termEquals(T(1), T(2)));
  assert.equal(formatTerm(T(atom('a'), atom('B c'), [1, 2], Buffer.from('hi'))), "{a,'B c',[1,2],<<\"hi\">>}");
  assert.ok(formatTerm(new Array(1000).fill(123456), 50).length <= 51);
});

test('termEquals is =:= for floats: 1 vs 1.0 differ, -0 is the float -0.0, 0.0 and -0.0 differ', () => {
  assert.ok(termEquals(-0, new Float(-0)));
  assert.ok(!termEquals(-0, 0));
  assert.ok(!termEquals(new Float(1), 1));
  assert.ok(termEquals(new Float(1), new Float(1)));
  assert.ok(termEquals(2n ** 70n, 2n ** 70n) && termEquals(5n, 5));
  assert.equal(formatTerm(new Float(-0)), '-0.0');
});
