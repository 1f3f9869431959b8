// Phoenix.PubSub between the JS node and an Elixir 1.14 node running a replica of Phoenix.PubSub's
// PG2 adapter (phoenix-fixture.ts; Phoenix itself cannot be installed here). Messages flow both
// ways, through a pool, custom dispatchers, a nodedown, a scope restart and a node restart; the
// scope process survives everything we send it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../src/dist/node/node.js';
import { Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { hostOtp, startEpmd, type Epmd, type ErlNode } from '../support/otp.js';
import { waitUntil } from '../support/wait.js';
import { elixirLib, startPhoenixLike } from './phoenix-fixture.js';


const otp = hostOtp();

describe(`Phoenix.PubSub with Elixir ${elixirLib ? '' : '(not installed) '}on ${otp.label}`, () => {
  let epmd: Epmd;
  let ex: ErlNode;
  let node: Node;
  const cookie = `pubsub_${process.pid}`;
  const exName = `expubsub${process.pid}@127.0.0.1`;
  const startElixir = () => startPhoenixLike(otp, { name: exName, cookie, epmdPort: epmd.port });
  /** Elixir's view: how many members of `group` are on the JS node. */
  const exSeesJs = async (group: string) => Number(await ex.evalText(`length([P || P <- pg:get_members('Elixir.Phoenix.PubSub', '${group}'), node(P) =:= '${node.name}'])`));

  before(async () => {
    assert.ok(elixirLib, 'elixir is not installed');
    epmd = await startEpmd();
    ex = await startElixir();
    node = await Node.start({ name: `jspubsub${process.pid}@127.0.0.1`, cookie, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
    await node.connect(exName);
  });
  after(async () => {
    await node?.stop();
    await ex?.stop();
    await epmd?.stop();
  });

  test('Elixir broadcasts reach a JS subscriber (strings and structs converted on request); JS broadcasts reach Elixir subscribers', async () => {
    const ps = node.phoenixPubSub('MyApp.PubSub');
    assert.equal(ps.adapter, atom('Elixir.MyApp.PubSub.Adapter'));
    const sub = await ps.subscribe('room:1', { strings: true, objects: true });
    const raw = await ps.subscribe('room:1');
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 1, 'Elixir sees our worker', 15_000);
    await ex.evalText(`ok = 'Elixir.Phoenix.PubSub':broadcast('Elixir.MyApp.PubSub', <<"room:1">>, #{'__struct__' => 'Elixir.Phoenix.Socket.Broadcast', topic => <<"room:1">>, event => <<"new_msg">>, payload => #{<<"body">> => <<"héllo"/utf8>>, <<"n">> => 7}})`);
    const m = await sub.receive({ timeout: 10_000 });
    assert.deepEqual(m, { __struct__: 'Elixir.Phoenix.Socket.Broadcast', topic: 'room:1', event: 'new_msg', payload: { body: 'héllo', n: 7 } });
    const r = await raw.receive({ timeout: 10_000 });
    assert.ok(r instanceof Map && r.get(atom('__struct__')) === atom('Elixir.Phoenix.Socket.Broadcast'));
    assert.ok(Buffer.isBuffer(r.get(atom('event'))));

    // Both ways: an Elixir subscriber gets a JS broadcast, and so does the JS subscriber.
    await ex.evalText(`C1 = 'Elixir.Collector':start('Elixir.MyApp.PubSub', <<"room:1">>), ok`);
    await waitUntil(() => ps.remoteWorkers().length === 1, 'our pg sees the Elixir worker', 15_000);
    await ps.broadcast('room:1', new Tuple([atom('from_js'), Buffer.from('hi')]));
    assert.equal(await ex.evalText(`'Elixir.Collector':wait(C1, 1)`), '[{from_js,<<"hi">>}]');
    assert.deepEqual(await sub.receive({ timeout: 5000 }), new Tuple([atom('from_js'), 'hi']));
    await raw.receive({ timeout: 5000 });

    // broadcastFrom skips the sender here only; localBroadcast never leaves the node.
    await ps.broadcastFrom(raw.process, 'room:1', atom('not_to_raw'));
    assert.equal(await sub.receive({ timeout: 5000 }), atom('not_to_raw'));
    ps.localBroadcast('room:1', atom('local_only'));
    assert.equal(await raw.receive({ timeout: 5000 }), atom('local_only'));
    assert.equal(await sub.receive({ timeout: 5000 }), atom('local_only'));
    await ps.broadcast('room:1', atom('marker'));
    assert.equal(await ex.evalText(`'Elixir.Collector':wait(C1, 3)`), '[{from_js,<<"hi">>},not_to_raw,marker]');
    assert.equal(raw.process.queued, 1); // marker only: not_to_raw skipped it
    sub.unsubscribe();
    raw.unsubscribe();
    // The last subscription gone, our workers leave their group.
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 0, 'workers left', 15_000);
  });

  test('a pool of 3 groups: the JS node joins every group, so broadcasts from any Elixir process reach it', async () => {
    const ps = node.phoenixPubSub('Pool.PubSub'); // poolSize 1 given: _2 and _3 are found in the scope
    const sub = await ps.subscribe('jobs');
    for (const g of ['Elixir.Pool.PubSub.Adapter', 'Elixir.Pool.PubSub.Adapter_2', 'Elixir.Pool.PubSub.Adapter_3']) {
      await waitUntil(async () => (await exSeesJs(g)) === 1, `Elixir sees our worker in ${g}`, 15_000);
    }
    const n = 40;
    await ex.evalText(`'Elixir.Collector':burst('Elixir.Pool.PubSub', <<"jobs">>, ${n})`);
    const seen = new Set<number>();
    while (seen.size < n) {
      const m = await sub.receive({ timeout: 10_000 });
      assert.ok(m instanceof Tuple && m.elements[0] === atom('burst'));
      seen.add(m.elements[1] as number);
    }
    assert.equal(seen.size, n);
    sub.unsubscribe();
  });

  test('custom dispatchers: a JS broadcast names an Elixir dispatcher module; a JS dispatcher handles messages that name it', async () => {
    const got: [string, Term, Term][] = [];
    const ps = node.phoenixPubSub('MyApp.PubSub');
    await ex.evalText(`C2 = 'Elixir.Collector':start('Elixir.MyApp.PubSub', <<"tags">>, meta42), ok`);
    await ps.broadcast('tags', atom('hello'), { dispatcher: 'TagDispatcher' });
    assert.equal(await ex.evalText(`'Elixir.Collector':wait(C2, 1)`), '[{tagged,meta42,hello}]');

    const node2ps = node.phoenixPubSub('Other.PubSub', {
      dispatchers: { 'Elixir.TagDispatcher': (subs, _from, message) => subs.forEach((s) => got.push([s.topic, s.metadata ?? atom('nil'), message])) },
    });
    const sub = await node2ps.subscribe('tags', { metadata: atom('js_meta') });
    node2ps.localBroadcast('tags', atom('x'), { dispatcher: 'TagDispatcher' });
    assert.deepEqual(got, [['tags', atom('js_meta'), atom('x')]]);
    assert.equal(sub.process.queued, 0);
    sub.unsubscribe();
  });

  test('direct broadcasts both ways: to one BEAM node, and from Elixir to the registered worker of the JS node', async () => {
    const ps = node.phoenixPubSub('MyApp.PubSub');
    const sub = await ps.subscribe('direct');
    await ex.evalText(`C5 = 'Elixir.Collector':start('Elixir.MyApp.PubSub', <<"direct">>), ok`);
    await ps.directBroadcast(exName, 'direct', atom('to_one_node'));
    assert.equal(await ex.evalText(`'Elixir.Collector':wait(C5, 1)`), '[to_one_node]');
    assert.equal(sub.process.queued, 0); // direct: not delivered here
    // What Phoenix.PubSub.PG2.direct_broadcast/5 sends: to {Adapter, Node}.
    await ex.evalText(`{'Elixir.MyApp.PubSub.Adapter', '${node.name}'} ! {forward_to_local, <<"direct">>, from_elixir, 'Elixir.Phoenix.PubSub'}, ok`);
    assert.equal(await sub.receive({ timeout: 10_000 }), atom('from_elixir'));
    sub.unsubscribe();
  });

  test('a nodedown in the middle: broadcasts resume after reconnecting', async () => {
    const ps = node.phoenixPubSub('MyApp.PubSub');
    const sub = await ps.subscribe('room:2');
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 1, 'Elixir sees our worker', 15_000);
    const down = new Promise((r) => node.once('nodedown', r));
    node.disconnect(exName);
    await down;
    await ps.broadcast('room:2', atom('lost')); // no BEAM member known: only local delivery
    assert.equal(await sub.receive({ timeout: 5000 }), atom('lost'));
    await node.connect(exName);
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 1, 'Elixir sees our worker again', 15_000);
    await ex.evalText(`ok = 'Elixir.Phoenix.PubSub':broadcast('Elixir.MyApp.PubSub', <<"room:2">>, back)`);
    assert.equal(await sub.receive({ timeout: 10_000 }), atom('back'));
    sub.unsubscribe();
  });

  test('the Elixir scope process survived every message we sent', async () => {
    assert.equal(await ex.evalText(`{whereis('Elixir.Phoenix.PubSub') =:= Scope__, is_process_alive(Scope__)}`), '{true,true}');
    assert.doesNotMatch(ex.logText(), /badarg|badkey|badmatch|CRASH REPORT/i, ex.logText());
  });

  test('the Elixir scope restarts (memberships lost there, as in Phoenix): the JS node rediscovers it and messages flow again', async () => {
    const ps = node.phoenixPubSub('MyApp.PubSub');
    const sub = await ps.subscribe('room:3');
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 1, 'Elixir sees our worker', 15_000);
    // Kill the scope, start it again and re-join the Elixir workers (what a restarted Phoenix app does).
    await ex.evalText(`S0__ = whereis('Elixir.Phoenix.PubSub'), M0__ = monitor(process, S0__), exit(S0__, kill), receive {'DOWN', M0__, _, _, _} -> ok end`);
    await ex.evalText(`{ok, _} = pg:start('Elixir.Phoenix.PubSub'), [ok = pg:join('Elixir.Phoenix.PubSub', G, whereis(G)) || G <- ['Elixir.MyApp.PubSub.Adapter', 'Elixir.Pool.PubSub.Adapter', 'Elixir.Pool.PubSub.Adapter_2', 'Elixir.Pool.PubSub.Adapter_3']], ok`);
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 1, 'rediscovered', 15_000);
    await ex.evalText(`ok = 'Elixir.Phoenix.PubSub':broadcast('Elixir.MyApp.PubSub', <<"room:3">>, after_restart)`);
    assert.equal(await sub.receive({ timeout: 10_000 }), atom('after_restart'));
    await ex.evalText(`C3 = 'Elixir.Collector':start('Elixir.MyApp.PubSub', <<"room:3">>), ok`);
    await waitUntil(() => ps.remoteWorkers().length === 1, 'our pg sees the new Elixir worker', 15_000);
    await ps.broadcast('room:3', atom('to_elixir'));
    assert.equal(await ex.evalText(`'Elixir.Collector':wait(C3, 1)`), '[to_elixir]');
    sub.unsubscribe();
  });

  test('the Elixir node restarts: after reconnecting, the new node and the JS node find each other', async () => {
    const ps = node.phoenixPubSub('MyApp.PubSub');
    const sub = await ps.subscribe('room:4');
    const down = new Promise((r) => node.once('nodedown', r));
    await ex.stop();
    await down;
    assert.deepEqual(ps.remoteWorkers(), []);
    ex = await startElixir();
    await node.connect(exName);
    await waitUntil(async () => (await exSeesJs('Elixir.MyApp.PubSub.Adapter')) === 1, 'Elixir sees our worker', 15_000);
    await ex.evalText(`C4 = 'Elixir.Collector':start('Elixir.MyApp.PubSub', <<"room:4">>), ok`);
    await ex.evalText(`ok = 'Elixir.Phoenix.PubSub':broadcast('Elixir.MyApp.PubSub', <<"room:4">>, {hello, self()})`);
    const m = await sub.receive({ timeout: 10_000 });
    assert.ok(m instanceof Tuple && m.elements[1] instanceof Pid && m.elements[1].node === atom(exName));
    await waitUntil(() => ps.remoteWorkers().length === 1, 'our pg sees the Elixir worker', 15_000);
    await ps.broadcast('room:4', atom('welcome_back'));
    assert.match(await ex.evalText(`'Elixir.Collector':wait(C4, 2)`), /welcome_back/);
    assert.equal(await ex.evalText(`{whereis('Elixir.Phoenix.PubSub') =:= Scope__, is_process_alive(Scope__)}`), '{true,true}');
    sub.unsubscribe();
  });
});
