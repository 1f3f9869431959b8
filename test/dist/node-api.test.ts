// Node-layer pieces without sockets: name completion, the op chosen per negotiated flags,
// incoming dispatch (and its sender check), erpc emulation replies, and gen_server call/cast
// between JS processes on one runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Atom, ImproperList, Pid, Reference, Tuple, atom, type Term } from '../../src/etf/types.js';
import { TimeoutError } from '../../src/errors.js';
import { DFLAG, DEFAULT_FLAGS } from '../../src/dist/protocol/flags.js';
import { completeName, resolverDomain } from '../../src/dist/node/node.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallError, NodeError } from '../../src/dist/runtime/errors.js';
import { Runtime } from '../../src/dist/runtime/runtime.js';
import type { OutSignal, Outbox } from '../../src/dist/runtime/signals.js';
import { dispatchControl, toControl } from '../../src/dist/node/wire-adapter.js';
import { handleSpawnRequest, RpcHandlers, ErlangException } from '../../src/dist/node/erpc.js';
import { genCall, genCast } from '../../src/dist/node/calls.js';
import { noReply, replyTo, runServer } from '../../src/dist/node/gen-server.js';
import { formatTerm, termEquals } from '../../src/dist/runtime/terms.js';
import { waitUntil } from '../support/wait.js';

const ME = atom('js@127.0.0.1');
const PEER = atom('erl@127.0.0.1');
const T = (...e: Term[]) => new Tuple(e);
const eq = (a: Term, b: Term) => assert.ok(termEquals(a, b), `${formatTerm(a)} =/= ${formatTerm(b)}`);

class RecordingOutbox implements Outbox {
  sent: OutSignal[] = [];
  signal(_node: Atom, sig: OutSignal): Promise<void> {
    this.sent.push(sig);
    return Promise.resolve();
  }
}
const rt = () => {
  const outbox = new RecordingOutbox();
  return { outbox, runtime: new Runtime({ node: ME, creation: 3, outbox }) };
};
const rpid = (id: number, node = PEER) => new Pid(node, id, 0, 5);
const rref = (n: number) => new Reference(PEER, 5, [n, 0, 0]);

test('completeName: alive@host keeps the name and infers long names from a dot or an IP; a bare alive gets the host', () => {
  assert.deepEqual(completeName('js@127.0.0.1'), { name: 'js@127.0.0.1', longNames: true });
  assert.deepEqual(completeName('js@vm'), { name: 'js@vm', longNames: false });
  assert.deepEqual(completeName('js@a.b.c'), { name: 'js@a.b.c', longNames: true });
  assert.deepEqual(completeName('js'), { name: `js@${hostname().split('.')[0]}`, longNames: false });
  assert.deepEqual(completeName('js', true, { hostname: 'box', domain: 'example.org' }), { name: 'js@box.example.org', longNames: true });
  assert.deepEqual(completeName('js', true, { hostname: 'box.lan', domain: 'example.org' }), { name: 'js@box.lan', longNames: true });
  assert.throws(() => completeName('js', true, { hostname: 'box' }), (e: unknown) => e instanceof NodeError && e.code === 'BEAM_ERR_NODE_BAD_NAME');
});

test('resolverDomain: domain wins over search; a missing file gives undefined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bn-resolv-'));
  try {
    writeFileSync(join(dir, 'a'), 'nameserver 10.0.0.1\nsearch svc.cluster.local cluster.local\n');
    writeFileSync(join(dir, 'b'), 'search x.example\ndomain corp.example.\n');
    assert.equal(resolverDomain(join(dir, 'a')), 'svc.cluster.local');
    assert.equal(resolverDomain(join(dir, 'b')), 'corp.example');
    assert.equal(resolverDomain(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('toControl: the op follows the negotiated flags (SEND_SENDER, EXIT_PAYLOAD, monitors, ALIAS, UNLINK_ID)', () => {
  const from = new Pid(ME, 1, 0, 3);
  const to = rpid(9);
  const ref = rref(1);
  const full = DEFAULT_FLAGS & ~DFLAG.ALTACT_SIG; // an OTP 25-27 peer
  const bare = DEFAULT_FLAGS & ~(DFLAG.SEND_SENDER | DFLAG.EXIT_PAYLOAD | DFLAG.DIST_MONITOR | DFLAG.ALIAS | DFLAG.UNLINK_ID | DFLAG.ALTACT_SIG);
  assert.equal(toControl({ kind: 'send', from, to, msg: 1 }, full)!.control.op, 'send_sender');
  assert.equal(toControl({ kind: 'send', from, to, msg: 1 }, bare)!.control.op, 'send');
  const ex = toControl({ kind: 'exit', from, to, reason: atom('boom') }, full)!;
  assert.equal(ex.control.op, 'payload_exit');
  assert.equal(ex.message, atom('boom'));
  const exOld = toControl({ kind: 'exit', from, to, reason: atom('boom') }, bare)!;
  assert.ok(exOld.control.op === 'exit' && exOld.control.reason === atom('boom') && exOld.message === undefined);
  assert.equal(toControl({ kind: 'exit2', from, to, reason: atom('x') }, full)!.control.op, 'payload_exit2');
  assert.equal(toControl({ kind: 'monitor', from, to, ref }, full)!.control.op, 'monitor_p');
  assert.equal(toControl({ kind: 'monitor', from, to, ref }, bare), undefined, 'no MONITOR_P without DIST_MONITOR+NAME');
  assert.equal(toControl({ kind: 'monitor_exit', from: atom('srv'), to, ref, reason: atom('noproc') }, full)!.control.op, 'payload_monitor_p_exit');
  assert.equal(toControl({ kind: 'alias_send', from, alias: ref, msg: 1 }, full)!.control.op, 'alias_send');
  const fallback = toControl({ kind: 'alias_send', from, alias: ref, msg: 1, pid: to }, bare)!;
  assert.ok(fallback.control.op === 'send' && fallback.control.to.equals(to), 'without ALIAS a reply goes to the pid');
  assert.equal(toControl({ kind: 'alias_send', from, alias: ref, msg: 1 }, bare), undefined);
  assert.equal(toControl({ kind: 'unlink_id', id: 5n, from, to }, full)!.control.op, 'unlink_id');
  assert.equal(toControl({ kind: 'unlink_id', id: 5n, from, to }, bare)!.control.op, 'unlink');
  // without ALTACT_SIG a priority message is an ordinary one and an exit to an alias is dropped (as OTP)
  assert.equal(toControl({ kind: 'send', from, to, msg: 1, priority: true }, full)!.control.op, 'send_sender');
  assert.equal(toControl({ kind: 'reg_send', from, toName: atom('n'), msg: 1, priority: true }, full)!.control.op, 'reg_send');
  assert.equal(toControl({ kind: 'alias_exit', from, alias: ref, reason: atom('x') }, full), undefined);
});

test('toControl with ALTACT_SIG (OTP 28+): alias sends, priority messages and exits to aliases are op 37 with the right flags', () => {
  const from = new Pid(ME, 1, 0, 3);
  const to = rpid(9);
  const ref = rref(1);
  const f = DEFAULT_FLAGS;
  const op37 = (sig: OutSignal) => {
    const c = toControl(sig, f)!;
    assert.equal(c.control.op, 'altact_sig_send');
    return c as { control: { flags: number; to: Term }; message: Term };
  };
  const a = op37({ kind: 'alias_send', from, alias: ref, msg: atom('m'), pid: to });
  assert.ok(a.control.flags === 4 && a.control.to === ref && a.message === atom('m'));
  assert.equal(op37({ kind: 'alias_send', from, alias: ref, msg: 1, priority: true }).control.flags, 4 | 1);
  const p = op37({ kind: 'send', from, to, msg: 1, priority: true });
  assert.ok(p.control.flags === 1 && p.control.to === to);
  const n = op37({ kind: 'reg_send', from, toName: atom('srv'), msg: 1, priority: true });
  assert.ok(n.control.flags === (8 | 1) && n.control.to === atom('srv'));
  const x = op37({ kind: 'alias_exit', from, alias: ref, reason: atom('bye') });
  assert.ok(x.control.flags === (4 | 16) && x.message === atom('bye'));
  // ordinary sends keep their ops
  assert.equal(toControl({ kind: 'send', from, to, msg: 1 }, f)!.control.op, 'send_sender');
  assert.equal(toControl({ kind: 'reg_send', from, toName: atom('n'), msg: 1 }, f)!.control.op, 'reg_send');
});

test('dispatchControl ALTACT_SIG_SEND: to a pid, a name, an alias; priority first only at a priority alias; exits to an alias', async () => {
  const { runtime } = rt();
  const hooks = { spawnRequest: () => assert.fail('no spawn here') };
  const p = runtime.spawn();
  p.register('box');
  const plain = p.alias();
  const prio = p.alias(undefined, { priority: true });
  const from = rpid(1);
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 0, from, to: p.pid }, atom('m1'));
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 8, from, to: atom('box') }, atom('m2'));
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 4 | 1, from, to: plain }, atom('m3'));
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 4 | 1 | 2, from, to: prio, token: atom('tok') }, atom('urgent'));
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 4, from, to: rref(99) }, atom('nobody'));
  const got: Term[] = [];
  for (let i = 0; i < 4; i++) got.push(await p.receive({ timeout: 100 }));
  assert.deepEqual(got, [atom('urgent'), atom('m1'), atom('m2'), atom('m3')]);
  await assert.rejects(p.receive({ timeout: 0 }), TimeoutError);
  // an exit signal to an alias reaches its (trapping) process; to an inactive alias it is dropped
  p.unalias(plain);
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 4 | 16, from, to: plain }, atom('ignored'));
  dispatchControl(runtime, hooks, PEER, { op: 'altact_sig_send', flags: 4 | 16, from, to: prio }, atom('bye'));
  eq(await p.receive({ timeout: 100 }), T(atom('EXIT'), from, atom('bye')));
  await assert.rejects(p.receive({ timeout: 0 }), TimeoutError);
});

test('dispatchControl: routes to the runtime, and drops a signal whose sender is not on the sending node', async () => {
  const { runtime } = rt();
  const p = runtime.spawn();
  p.register('box');
  const hooks = { spawnRequest: () => assert.fail('no spawn here') };
  dispatchControl(runtime, hooks, PEER, { op: 'reg_send', from: rpid(1), toName: atom('box') }, atom('ok'));
  dispatchControl(runtime, hooks, PEER, { op: 'send_sender', from: rpid(1, atom('other@host')), to: p.pid }, atom('forged'));
  dispatchControl(runtime, hooks, PEER, { op: 'send', to: p.pid }, atom('plain'));
  assert.equal(await p.receive({ timeout: 100 }), atom('ok'));
  assert.equal(await p.receive({ timeout: 100 }), atom('plain'));
  await assert.rejects(p.receive({ timeout: 20 }), TimeoutError);
  // a payload exit from a linked remote pid reaches a trapping process with its reason
  runtime.remoteLink(rpid(2), p.pid);
  dispatchControl(runtime, hooks, PEER, { op: 'payload_exit', from: rpid(2), to: p.pid }, T(atom('bad'), 1));
  eq(await p.receive({ timeout: 100 }), T(atom('EXIT'), rpid(2), T(atom('bad'), 1)));
});

test('erpc emulation: execute_call replies SPAWN_REPLY with the monitor flag, then exits {Res, return, V}; undef and JS errors as erpc does', async () => {
  const { runtime, outbox } = rt();
  const handlers = new RpcHandlers();
  handlers.set('m', 'add', ([a, b]) => (a as number) + (b as number));
  handlers.set('m', 'boom', () => {
    throw new Error('no');
  });
  handlers.set('m', 'thr', () => {
    throw new ErlangException('throw', atom('t'));
  });
  const from = rpid(7);
  const res = rref(99);
  const call = (fn: string, args: Term[], req: Reference) =>
    handleSpawnRequest(
      runtime,
      handlers,
      { op: 'spawn_request', reqId: req, from, groupLeader: rpid(8), mfa: { module: atom('erpc'), function: atom('execute_call'), arity: 4 }, options: [atom('monitor')] },
      [res, atom('m'), atom(fn), args],
    );
  // The handler runs in a process of its own: wait until it answered (spawn_reply, then the DOWN).
  const settle = () => waitUntil(() => outbox.sent.length >= 2, 'spawn_reply and monitor_exit');
  call('add', [2, 3], rref(1));
  await settle();
  const [reply, down] = outbox.sent.splice(0);
  assert.ok(reply.kind === 'spawn_reply' && reply.flags === 2 && reply.result instanceof Pid && reply.reqId.equals(rref(1)));
  assert.ok(down.kind === 'monitor_exit' && down.ref.equals(rref(1)) && down.to.equals(from));
  eq(down.kind === 'monitor_exit' ? down.reason : 0, T(res, atom('return'), 5));
  call('nope', [], rref(2));
  await settle();
  const undef = outbox.sent.splice(0)[1];
  eq(undef.kind === 'monitor_exit' ? undef.reason : 0, T(res, atom('error'), atom('undef'), [T(atom('m'), atom('nope'), 0, [])]));
  call('boom', [1], rref(3));
  await settle();
  const boom = outbox.sent.splice(0)[1];
  eq(boom.kind === 'monitor_exit' ? boom.reason : 0, T(res, atom('error'), T(atom('js_error'), Buffer.from('no')), [T(atom('m'), atom('boom'), 1, [])]));
  call('thr', [], rref(4));
  await settle();
  const thr = outbox.sent.splice(0)[1];
  eq(thr.kind === 'monitor_exit' ? thr.reason : 0, T(res, atom('throw'), atom('t')));
  // anything but erpc: notsup, and no process
  handleSpawnRequest(runtime, handlers, { op: 'spawn_request', reqId: rref(5), from, groupLeader: rpid(8), mfa: { module: atom('erlang'), function: atom('now'), arity: 0 }, options: [] }, []);
  const [ns] = outbox.sent.splice(0);
  assert.ok(ns.kind === 'spawn_reply' && ns.result === atom('notsup') && ns.flags === 0);
});

test('erpc emulation: malformed spawn requests are refused without a crash or a process left behind', () => {
  const { runtime, outbox } = rt();
  const before = runtime.processes().length;
  const handlers = new RpcHandlers();
  const mk = (fn: string, arity: number) => ({
    op: 'spawn_request' as const, reqId: rref(1), from: rpid(7), groupLeader: rpid(8),
    mfa: { module: atom('erpc'), function: atom(fn), arity }, options: [atom('monitor')],
  });
  handleSpawnRequest(runtime, handlers, mk('execute_call', 4), 'not a list');
  handleSpawnRequest(runtime, handlers, mk('execute_call', 4), [1, 2]);
  handleSpawnRequest(runtime, handlers, mk('execute_call', 4), [rref(2), 'm', atom('f'), []]);
  handleSpawnRequest(runtime, handlers, mk('execute_call', 4), [rref(2), atom('m'), atom('f'), 'no args list']);
  handleSpawnRequest(runtime, handlers, mk('execute_cast', 3), [atom('m')]);
  const results = outbox.sent.map((s) => (s.kind === 'spawn_reply' ? String(s.result) : s.kind));
  assert.deepEqual(results, ['notsup', 'notsup', 'badarg', 'notsup', 'notsup']);
  assert.equal(runtime.processes().length, before);
});

test('gen_server between JS processes: call (alias tag), async reply, cast, noproc, timeout, a throwing handler fails one call, crash: true ends the server', async () => {
  const { runtime } = rt();
  const ctx = { runtime, peer: () => Promise.reject(new Error('no network in this test')) };
  let casted: Term | undefined;
  const p = runtime.spawn({ trapExit: false });
  runtime.register('srv', p);
  runServer(runtime, atom('srv'), p, {
    call: (req, from) => {
      if (req === atom('later')) {
        setTimeout(() => void from.reply(atom('later_reply')), 5);
        return noReply;
      }
      if (req === atom('silent')) return noReply;
      if (req === atom('fail_later')) {
        setTimeout(() => from.fail(new Error('later failure')), 5);
        return noReply;
      }
      if (req === atom('crash')) throw new Error('handler bug');
      return T(atom('echo'), req);
    },
    cast: (m) => {
      casted = m;
    },
  });
  eq(await genCall(ctx, 'srv', atom('hi')), T(atom('echo'), atom('hi')));
  eq(await genCall(ctx, [atom('srv'), ME], atom('later')), atom('later_reply'));
  const client = runtime.spawn();
  await genCast(client, 'srv', atom('c'));
  await waitUntil(() => casted !== undefined, 'the cast');
  assert.equal(casted, atom('c'));
  await assert.rejects(genCall(ctx, 'nobody', atom('x')), (e: unknown) => e instanceof CallError && e.reason === atom('noproc'));
  await assert.rejects(genCall(ctx, 'srv', atom('silent'), { timeout: 30 }), TimeoutError);
  await assert.rejects(genCall(ctx, 'srv', atom('crash')), (e: unknown) => e instanceof CallError && termEquals(e.reason, T(atom('js_error'), Buffer.from('handler bug'))));
  assert.equal(runtime.whereis('srv'), p, 'a throwing handler failed that call only: the server is still there');
  await assert.rejects(genCall(ctx, 'srv', atom('fail_later')), (e: unknown) => e instanceof CallError && termEquals(e.reason, T(atom('js_error'), Buffer.from('later failure'))));
  eq(await genCall(ctx, 'srv', atom('again')), T(atom('echo'), atom('again')));
  // crash: true is Erlang's semantics: the server ends with the reason
  const q = runtime.spawn({ trapExit: false });
  runtime.register('crasher', q);
  runServer(runtime, atom('crasher'), q, { call: () => { throw new Error('handler bug'); } }, { crash: true });
  await assert.rejects(genCall(ctx, 'crasher', atom('x')), (e: unknown) => e instanceof CallError && termEquals(e.reason, T(atom('js_error'), Buffer.from('handler bug'))));
  assert.equal(runtime.whereis('crasher'), undefined, 'the crashed server is gone');
  // replyTo picks the alias for [alias|Ref] tags and the pid otherwise
  const caller = runtime.spawn();
  const a = caller.alias();
  await replyTo(runtime, client, caller.pid, new ImproperList([atom('alias')], a), 1);
  await replyTo(runtime, client, caller.pid, a, 2);
  eq(await caller.receive({ timeout: 100 }), T(new ImproperList([atom('alias')], a), 1));
  eq(await caller.receive({ timeout: 100 }), T(a, 2));
});
