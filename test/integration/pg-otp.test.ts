// pg membership from the hidden JS node against OTP's real pg (lib/kernel/src/pg.erl) on every
// OTP of the matrix: both sides see each other's members, joins/leaves/exits propagate, monitors
// report changes, a restarted scope and a dropped connection are recovered, and the BEAM scope
// process is the same, alive process after the whole file (no message we sent crashed it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pid, Tuple, atom } from '../../src/etf/types.js';
import type { PgScope } from '../../src/dist/node/pg.js';
import { otpMatrix } from '../support/otp.js';
import { waitUntil } from '../support/wait.js';
import { startPeers, type Peers } from './node-fixture.js';


for (const otp of otpMatrix()) {
  describe(`pg with ${otp.label}`, () => {
    let p: Peers;
    let pg: PgScope;
    const erlNode = () => atom(p.erlName);
    // erl side: how many members of Group it sees on the JS node, and in all.
    const erlCount = async (scope: string, group: string): Promise<[number, number]> => {
      const t = await p.erl.evalText(`(fun(Ms) -> {length([M || M <- Ms, node(M) =/= node()]), length(Ms)} end)(pg:get_members(${scope}, ${group}))`);
      const m = /^\{(\d+),(\d+)\}$/.exec(t);
      assert.ok(m, t);
      return [Number(m[1]), Number(m[2])];
    };

    before(async () => {
      p = await startPeers(otp, { erlAlive: `pgerl${otp.release}`, jsAlive: `pgjs${otp.release}` });
      await p.erl.evalText('{ok, Scope__} = pg:start(pg), {ok, _} = pg:start(restart_scope), ok');
      // An Erlang member before we connect: arrives with the first sync.
      await p.erl.evalText('P1 = spawn(fun() -> receive stop -> ok end end), ok = pg:join(pg, {chat, lobby}, P1)');
      pg = p.node.pg();
      await p.node.connect(p.erlName);
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: the JS node sees the Erlang members (sync after discover) and Erlang sees the JS members`, async () => {
      const lobby = new Tuple([atom('chat'), atom('lobby')]);
      await waitUntil(() => pg.getMembers(lobby).length === 1, 'erl member in JS', 15_000);
      assert.equal(pg.getMembers(lobby)[0].node, erlNode());
      assert.deepEqual(pg.getLocalMembers(lobby), []);
      assert.ok(pg.peers().some((s) => s.node === erlNode()));

      const a = p.node.spawn();
      const b = p.node.spawn();
      await pg.join(lobby, a);
      await pg.join('room', [a, b]); // a JS string is an Erlang binary
      assert.equal(pg.getMembers(lobby).length, 2);
      await waitUntil(async () => (await erlCount('pg', '{chat, lobby}'))[0] === 1 && (await erlCount('pg', '<<"room">>'))[0] === 2, 'JS members in erl', 15_000);
      assert.deepEqual(await erlCount('pg', '{chat, lobby}'), [1, 2]);
      // The pids Erlang holds are ours.
      const t = await p.erl.evalText(`lists:sort([P || P <- pg:get_members(pg, <<"room">>)]) =:= lists:sort([P || P <- pg:get_members(pg, <<"room">>), node(P) =:= '${p.jsName}'])`);
      assert.equal(t, 'true');

      assert.equal(await pg.leave('room', b), true);
      assert.equal(await pg.leave('room', b), false); // not_joined
      await waitUntil(async () => (await erlCount('pg', '<<"room">>'))[0] === 1, 'leave seen by erl', 15_000);
      a.close(); // an exiting JS process leaves all its groups
      await waitUntil(async () => (await erlCount('pg', '<<"room">>'))[0] === 0 && (await erlCount('pg', '{chat, lobby}'))[0] === 0, 'exit seen by erl', 15_000);
      assert.deepEqual(pg.getMembers('room'), []);
      assert.equal(await p.erl.evalText(`lists:member(<<"room">>, pg:which_groups(pg))`), 'false');
      b.close();
    });

    test(`${otp.label}: monitors on both sides report joins and leaves; groups are any term`, async () => {
      const group = new Tuple([atom('topic'), Buffer.from('news'), 42, [1.5, atom('x')]]);
      const m = pg.monitor(group);
      assert.deepEqual(m.members, []);
      await p.erl.evalText('P2 = spawn(fun() -> receive stop -> ok end end), ok = pg:join(pg, {topic, <<"news">>, 42, [1.5, x]}, P2)');
      const j = await m.next({ timeout: 10_000 });
      assert.equal(j.kind, 'join');
      assert.equal(j.pids[0].node, erlNode());
      await p.erl.evalText('P2 ! stop');
      const l = await m.next({ timeout: 10_000 });
      assert.equal(l.kind, 'leave');
      assert.ok(l.pids[0].equals(j.pids[0]));
      m.stop();
      await assert.rejects(m.next(), { code: 'BEAM_ERR_QUEUE_ENDED' });

      // Erlang's own pg:monitor sees a JS join.
      await p.erl.evalText('{MRef__, []} = pg:monitor(pg, watched), ok');
      const c = p.node.spawn();
      await pg.join(atom('watched'), c);
      const got = await p.erl.evalText(`receive {MRef__, join, watched, [JP__]} -> node(JP__) after 10000 -> timeout end`);
      assert.equal(got, `'${p.jsName}'`);
      const scope = pg.monitorScope();
      assert.ok(scope.groups.some(([g]) => g === atom('watched')));
      c.close();
      const ch = await scope.next({ timeout: 10_000 });
      assert.deepEqual([ch.kind, ch.group], ['leave', atom('watched')]);
      scope.stop();
      assert.equal(await p.erl.evalText(`receive {MRef__, leave, watched, [JP2__]} -> node(JP2__) after 10000 -> timeout end`), `'${p.jsName}'`);
    });

    test(`${otp.label}: after the Erlang scope restarts, the JS node finds it again and re-announces its members`, async () => {
      const rs = p.node.pg('restart_scope', { rediscoverWindow: 20_000 });
      const d = p.node.spawn();
      await rs.join(atom('g'), d);
      await waitUntil(async () => (await erlCount('restart_scope', 'g'))[0] === 1, 'JS member in restart_scope', 15_000);
      const old = rs.peers().find((s) => s.node === erlNode());
      assert.ok(old);
      await p.erl.evalText('RS__ = whereis(restart_scope), MR__ = monitor(process, RS__), exit(RS__, kill), receive {\'DOWN\', MR__, _, _, _} -> ok end');
      await waitUntil(() => !rs.peers().some((s) => s.equals(old)), 'old scope dropped', 15_000);
      await p.erl.evalText('{ok, _} = pg:start(restart_scope), P3 = spawn(fun() -> receive stop -> ok end end), ok = pg:join(restart_scope, g, P3)');
      await waitUntil(async () => (await erlCount('restart_scope', 'g'))[0] === 1, 'JS member re-announced', 15_000);
      await waitUntil(() => rs.getMembers(atom('g')).some((x) => x.node === erlNode()), 'new erl member seen', 15_000);
      assert.ok(!rs.peers()[0].equals(old));
      d.close();
      rs.close();
    });

    test(`${otp.label}: a dropped connection drops the remote members on both sides; reconnecting syncs again`, async () => {
      const lobby = new Tuple([atom('chat'), atom('lobby')]);
      const e = p.node.spawn();
      await pg.join(lobby, e);
      await waitUntil(async () => (await erlCount('pg', '{chat, lobby}'))[0] === 1, 'JS member in erl', 15_000);
      const down = new Promise((r) => p.node.once('nodedown', r));
      p.node.disconnect(p.erlName);
      await down;
      await waitUntil(() => pg.getMembers(lobby).every((x) => !(x instanceof Pid) || x.node !== erlNode()), 'erl members dropped', 15_000);
      assert.deepEqual(pg.peers(), []);
      await waitUntil(async () => (await erlCount('pg', '{chat, lobby}'))[0] === 0, 'JS member dropped by erl', 15_000);
      await p.node.connect(p.erlName);
      await waitUntil(async () => pg.getMembers(lobby).length === 2 && (await erlCount('pg', '{chat, lobby}'))[0] === 1, 'synced again', 15_000);
      e.close();
    });

    test(`${otp.label}: with a second Erlang node, JS members reach both nodes and both nodes' members reach JS; a node that stops takes its members along`, async () => {
      const e2Name = `pgerl2_${otp.release}@127.0.0.1`;
      const e2 = await p.extraErl(e2Name);
      await e2.evalText(`{ok, _} = pg:start(pg), pong = net_adm:ping('${p.erlName}'), P4 = spawn(fun() -> receive stop -> ok end end), ok = pg:join(pg, trio, P4)`);
      await p.erl.evalText('P5 = spawn(fun() -> receive stop -> ok end end), ok = pg:join(pg, trio, P5)');
      await p.node.connect(e2Name);
      const f = p.node.spawn();
      await pg.join(atom('trio'), f);
      await waitUntil(() => pg.getMembers(atom('trio')).length === 3, 'JS sees both Erlang members', 15_000);
      const seen = (e: typeof e2) => e.evalText(`{length(pg:get_members(pg, trio)), [node(P) || P <- pg:get_members(pg, trio), node(P) =:= '${p.jsName}']}`);
      await waitUntil(async () => (await seen(p.erl)) === `{3,['${p.jsName}']}` && (await seen(e2)) === `{3,['${p.jsName}']}`, 'both Erlang nodes see all three', 15_000);
      await e2.stop();
      await waitUntil(() => pg.getMembers(atom('trio')).length === 2, 'the stopped node’s member is gone', 15_000);
      f.close();
      await waitUntil(async () => (await erlCount('pg', 'trio'))[0] === 0, 'JS member gone on erl', 15_000);
    });

    test(`${otp.label}: the Erlang pg scope process is the one started before the tests, and alive`, async () => {
      assert.equal(await p.erl.evalText('{whereis(pg) =:= Scope__, is_process_alive(Scope__)}'), '{true,true}');
      const logs = p.erl.logText();
      assert.doesNotMatch(logs, /badarg|badkey|badmatch|crash/i, logs);
    });
  });
}
