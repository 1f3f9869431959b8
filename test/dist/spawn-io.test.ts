// Remote spawn and the I/O server without sockets: the SPAWN_REQUEST the runtime sends and the
// control it becomes, what a SPAWN_REPLY sets up (link, monitor with ref = ReqId), noconnection for a
// pending request when the node goes down, undoing a late reply for a dead requester; chardata
// decoding for put_chars.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atom, ImproperList, Pid, Reference, Tuple, atom } from '../../src/etf/types.js';
import { DEFAULT_FLAGS } from '../../src/dist/protocol/flags.js';
import { Runtime } from '../../src/dist/runtime/runtime.js';
import type { OutSignal } from '../../src/dist/runtime/signals.js';
import { dispatchControl, toControl } from '../../src/dist/node/wire-adapter.js';
import { chardataToString } from '../../src/dist/node/io-server.js';
import { isTuple } from '../../src/dist/runtime/terms.js';

const ME = atom('js@127.0.0.1');
const PEER = atom('erl@127.0.0.1');
const rpid = (id: number) => new Pid(PEER, id, 0, 5);

/** A runtime whose signals for other nodes are only recorded (`outbox.sent`). */
const setup = () => {
  const outbox = { sent: [] as OutSignal[], signal: (_node: Atom, sig: OutSignal) => (outbox.sent.push(sig), Promise.resolve()) };
  return { outbox, rt: new Runtime({ node: ME, creation: 3, outbox }) };
};
const mfa = { module: atom('m'), function: atom('f'), arity: 1 };
const hooks = { spawnRequest: () => {} };

test('spawn_request: the signal and its wire control (op 29, the argument list as the message)', () => {
  const { outbox, rt } = setup();
  const p = rt.spawn();
  const gl = rt.spawn();
  const ref = rt.spawnRequest(p, PEER, mfa, [42], [atom('monitor')], gl.pid).reqId;
  const sig = outbox.sent[0];
  assert.equal(sig.kind, 'spawn_request');
  const framed = toControl(sig, DEFAULT_FLAGS);
  assert.ok(framed);
  assert.equal(framed.control.op, 'spawn_request');
  assert.deepEqual(framed.message, [42]);
  if (framed.control.op === 'spawn_request') {
    assert.ok(framed.control.reqId.equals(ref) && framed.control.groupLeader.equals(gl.pid));
    assert.deepEqual(framed.control.options, [atom('monitor')]);
  }
  // A peer without DFLAG_SPAWN cannot take it (OTP fails such a request locally).
  assert.equal(toControl(sig, 0n), undefined);
});

test('spawn_reply: ok sets up the link and the monitor the spawning node made; error and noconnection arrive as messages', async () => {
  const { outbox, rt } = setup();
  const p = rt.spawn();
  const ref = rt.spawnRequest(p, PEER, mfa, [1], [atom('link'), atom('monitor')], p.pid).reqId;
  const child = rpid(9);
  // A reply to another process or an unknown request is ignored.
  dispatchControl(rt, hooks, PEER, { op: 'spawn_reply', reqId: ref, to: rpid(1), flags: 3, result: child }, undefined);
  assert.equal(p.queued, 0);
  dispatchControl(rt, hooks, PEER, { op: 'spawn_reply', reqId: ref, to: p.pid, flags: 3, result: child }, undefined);
  const m = await p.receive({ timeout: 100 });
  assert.ok(isTuple(m, 4, 'spawn_reply') && ref.equals(m.elements[1]) && m.elements[2] === atom('ok') && child.equals(m.elements[3]));
  // The monitor's ref is ReqId: MONITOR_P_EXIT with it gives DOWN; the link breaks with EXIT.
  rt.remoteMonitorExit(child, p.pid, ref, atom('bye'));
  const down = await p.receive({ timeout: 100 });
  assert.ok(isTuple(down, 5, 'DOWN') && ref.equals(down.elements[1]) && down.elements[4] === atom('bye'));
  rt.remoteExit(child, p.pid, atom('bye'), true);
  assert.ok(isTuple(await p.receive({ timeout: 100 }), 3, 'EXIT'));

  const r2 = rt.spawnRequest(p, PEER, mfa, [1], [atom('bogus')], p.pid).reqId;
  rt.remoteSpawnReply(r2, p.pid, 0, atom('badopt'));
  const e = await p.receive({ timeout: 100 });
  assert.ok(isTuple(e, 4, 'spawn_reply') && e.elements[2] === atom('error') && e.elements[3] === atom('badopt'));

  const r3 = rt.spawnRequest(p, PEER, mfa, [1], [], p.pid).reqId;
  rt.nodeDown(PEER);
  const nc = await p.receive({ timeout: 100 });
  assert.ok(isTuple(nc, 4, 'spawn_reply') && (nc.elements[1] as Reference).equals(r3) && nc.elements[3] === atom('noconnection'));

  // A late reply for a requester that died: the link and monitor it set up are undone.
  const q = rt.spawn();
  const r4 = rt.spawnRequest(q, PEER, mfa, [1], [atom('link'), atom('monitor')], q.pid).reqId;
  q.exit(atom('gone'));
  outbox.sent = [];
  rt.remoteSpawnReply(r4, q.pid, 3, child);
  assert.deepEqual(outbox.sent.map((s) => s.kind).sort(), ['demonitor', 'exit']);
  const ex = outbox.sent.find((s) => s.kind === 'exit');
  assert.ok(ex && ex.kind === 'exit' && ex.reason === atom('gone') && ex.to.equals(child));
});

test('chardataToString: unicode chardata and latin1 iodata, improper tails; invalid data is refused', () => {
  assert.equal(chardataToString([Buffer.from('a'), [0x62, 0x2713], new ImproperList([0x63], Buffer.from('d'))], true), 'ab✓cd');
  assert.equal(chardataToString(Buffer.from([233]), false), 'é');
  assert.equal(chardataToString(Buffer.from('é', 'utf8'), true), 'é');
  assert.equal(chardataToString([], true), '');
  assert.equal(chardataToString([0x2713], false), undefined); // > 255 is not latin1
  assert.equal(chardataToString([-1], true), undefined);
  assert.equal(chardataToString([0xd800], true), undefined);
  assert.equal(chardataToString(new Tuple([1]), true), undefined);
  assert.equal(chardataToString(atom('x'), true), undefined);
  // Deep nesting does not recurse (no stack overflow).
  let deep: unknown = [0x41];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(chardataToString(deep as never, true), 'A');
});
