// The JS node against real erl nodes of every OTP release in the matrix: ping, rpc and
// gen_server calls in both directions, erpc emulation, messages by name and by pid.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Atom, Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { TimeoutError } from '../../src/errors.js';
import { CallError, RpcError } from '../../src/dist/runtime/errors.js';
import { ErlangException } from '../../src/dist/node/erpc.js';
import { noReply, type From } from '../../src/dist/node/gen-server.js';
import { isTuple } from '../../src/dist/runtime/terms.js';
import { Node } from '../../src/dist/node/node.js';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

for (const otp of otpMatrix()) {
  describe(`Node interop with ${otp.label}`, () => {
    let p: Peers;
    const JS = () => `'${p.jsName}'`;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erl${otp.release}`, jsAlive: `js${otp.release}` });
      await p.erl.evalText(`{ok, _} = jsnode_peer:start(esrv), ok`);
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: net_adm:ping from erl gets pong (is_auth answered); nodeup seen`, async () => {
      const up = new Promise<string>((r) => p.node.once('nodeup', (n) => r(n)));
      assert.equal(await p.erl.evalText(`net_adm:ping(${JS()})`), 'pong');
      assert.equal(await up, p.erlName);
      assert.ok(p.node.nodes().includes(p.erlName));
      // hidden: erl lists us under nodes(hidden), not nodes()
      assert.equal(await p.erl.evalText(`{lists:member(${JS()}, nodes()), lists:member(${JS()}, nodes(hidden))}`), '{false,true}');
    });

    test(`${otp.label}: rpc out through rex returns the value; badrpc raises RpcError with the reason`, async () => {
      assert.deepEqual(await p.node.rpc(p.erlName, 'lists', 'reverse', [[1, 2, 3]]), [3, 2, 1]);
      assert.equal(await p.node.rpc(p.erlName, 'erlang', 'node', []), atom(p.erlName));
      await assert.rejects(p.node.rpc(p.erlName, 'no_such_module', 'f', [1]), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.ok(isTuple(e.reason, 2, 'EXIT'), String(e.message));
        assert.match(e.message, /undef/);
        return true;
      });
    });

    test(`${otp.label}: gen_server call and cast out to an erl gen_server`, async () => {
      assert.equal(await p.node.call([atom('esrv'), atom(p.erlName)], atom('ping')), atom('pong'));
      const big = Buffer.alloc(100_000, 7);
      assert.deepEqual(await p.node.call({ name: 'esrv', node: p.erlName }, new Tuple([atom('echo'), big])), big);
      await p.node.cast([atom('esrv'), atom(p.erlName)], new Tuple([atom('put'), 'stored']));
      assert.deepEqual(await p.node.call([atom('esrv'), atom(p.erlName)], atom('get')), Buffer.from('stored'));
      // by pid (found with an rpc)
      const esrv = await p.node.rpc(p.erlName, 'erlang', 'whereis', [atom('esrv')]);
      assert.ok(esrv instanceof Pid);
      assert.deepEqual(await p.node.call(esrv, new Tuple([atom('echo'), [1, 'two']])), [1, Buffer.from('two')]);
    });

    test(`${otp.label}: a hand-written server that replies with a plain send to the pid is understood too`, async () => {
      await p.erl.evalText(
        `ManualP_ = self(), spawn(fun() -> register(manual, self()), ManualP_ ! manual_ready, receive {'$gen_call', {From_, Tag_}, Req_} -> From_ ! {Tag_, {plain, Req_}} end end), receive manual_ready -> ok end`,
      );
      const r = await p.node.call(['manual', p.erlName], atom('q'));
      assert.ok(isTuple(r, 2, 'plain') && r.elements[1] === atom('q'));
    });

    test(`${otp.label}: call to a missing name fails noproc at once; a slow server times out; a crashing one gives its exit reason`, async () => {
      const dest: [string, string] = ['no_such_server', p.erlName];
      await assert.rejects(p.node.call(dest, atom('x'), { timeout: 10_000 }), (e: unknown) => e instanceof CallError && e.reason === atom('noproc'));
      await assert.rejects(p.node.call(['esrv', p.erlName], new Tuple([atom('sleep'), 2000]), { timeout: 200 }), TimeoutError);
      // the server survives the timeout and answers the next call
      assert.equal(await p.node.call(['esrv', p.erlName], atom('ping'), { timeout: 5000 }), atom('pong'));
      await p.erl.evalText(`{ok, _} = jsnode_peer:start(crasher), ok`);
      await assert.rejects(p.node.call(['crasher', p.erlName], atom('crash')), (e: unknown) => e instanceof CallError && e.reason === atom('crashed_on_purpose'));
    });

    test(`${otp.label}: gen_server:call from erl reaches a JS server (sync, async via noReply, cast, info)`, async () => {
      const casts: Term[] = [];
      const infos: Term[] = [];
      let pending: From | undefined;
      const srv = p.node.serve('jsrv', {
        call: (req, from) => {
          if (req === atom('later')) {
            pending = from;
            setTimeout(() => void pending!.reply(atom('done_later')), 50);
            return noReply;
          }
          if (req === atom('from')) return from.pid;
          return new Tuple([atom('got'), req]);
        },
        cast: (m) => void casts.push(m),
        info: (m) => void infos.push(m),
      });
      try {
        assert.equal(await p.erl.evalText(`gen_server:call({jsrv, ${JS()}}, hello)`), '{got,hello}');
        assert.equal(await p.erl.evalText(`gen_server:call({jsrv, ${JS()}}, later)`), 'done_later');
        assert.equal(await p.erl.evalText(`gen_server:call({jsrv, ${JS()}}, from) =:= self()`), 'true');
        assert.equal(await p.erl.evalText(`gen_server:cast({jsrv, ${JS()}}, {note, 1}), {jsrv, ${JS()}} ! plain_info, ok`), 'ok');
        for (let i = 0; i < 100 && (casts.length === 0 || infos.length === 0); i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(String((casts[0] as Tuple).elements[0]), 'note');
        assert.equal(infos[0], atom('plain_info'));
        // a call to a JS name nobody registered: erl's monitor gets noproc, gen_server:call exits
        assert.match(await p.erl.evalText(`catch gen_server:call({nobody_here, ${JS()}}, x, 2000)`), /noproc/);
      } finally {
        srv.stop();
      }
    });

    test(`${otp.label}: rpc:call from erl reaches JS handlers via erpc (return, undef, error, throw, exit)`, async () => {
      p.node.handleRpc('jstest', 'add', ([a, b]) => (a as number) + (b as number));
      p.node.handleRpc('jstest', 'slow', async ([x]) => {
        await new Promise((r) => setTimeout(r, 30));
        return new Tuple([atom('slow'), x]);
      });
      p.node.handleRpc('jstest', 'fail', () => {
        throw new Error('js says no');
      });
      p.node.handleRpc('jstest', 'throws', () => {
        throw new ErlangException('throw', atom('thrown_value'));
      });
      p.node.handleRpc('jstest', 'exits', () => {
        throw new ErlangException('exit', atom('bye'));
      });
      assert.equal(await p.erl.evalText(`rpc:call(${JS()}, jstest, add, [2, 40])`), '42');
      assert.equal(await p.erl.evalText(`erpc:call(${JS()}, jstest, slow, [<<"x">>])`), '{slow,<<"x">>}');
      assert.match(await p.erl.evalText(`rpc:call(${JS()}, jstest, missing, [])`), /^\{badrpc,\{'EXIT',\{undef,/);
      assert.match(await p.erl.evalText(`try erpc:call(${JS()}, jstest, fail, []) catch error:{exception, RErr, _} -> {caught, RErr} end`), /^\{caught,\{js_error,<<"js says no">>\}\}$/);
      assert.equal(await p.erl.evalText(`catch erpc:call(${JS()}, jstest, throws, [])`), 'thrown_value');
      assert.equal(await p.erl.evalText(`try erpc:call(${JS()}, jstest, exits, []) catch exit:{exception, RExit} -> {exited, RExit} end`), '{exited,bye}');
      // built-in BIFs: node/0 and whereis/1 (a JS server's pid, then called by pid from erl)
      assert.equal(await p.erl.evalText(`rpc:call(${JS()}, erlang, node, [])`), JS());
      const named = p.node.serve('by_pid_srv', { call: () => atom('by_pid_ok') });
      assert.equal(await p.erl.evalText(`JsSrvPid = rpc:call(${JS()}, erlang, whereis, [by_pid_srv]), gen_server:call(JsSrvPid, x)`), 'by_pid_ok');
      assert.equal(await p.erl.evalText(`rpc:call(${JS()}, erlang, whereis, [nobody])`), 'undefined');
      named.stop();
      // erpc:cast and rpc:block_call (rex gen_server form) reach the same handlers
      assert.equal(await p.erl.evalText(`rpc:block_call(${JS()}, jstest, add, [1, 1])`), '2');
      let casted: Term | undefined;
      p.node.handleRpc('jstest', 'note', ([x]) => {
        casted = x;
        return atom('ok');
      });
      await p.erl.evalText(`erpc:cast(${JS()}, jstest, note, [hello_cast])`);
      for (let i = 0; i < 100 && casted === undefined; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(casted, atom('hello_cast'));
    });

    test(`${otp.label}: spawn requests other than erpc are answered notsup`, async () => {
      assert.equal(
        await p.erl.evalText(`RSpawn = spawn_request(${JS()}, erlang, now, [], []), receive {spawn_reply, RSpawn, error, ESpawn} -> ESpawn after 5000 -> timeout end`),
        'notsup',
      );
    });

    test(`${otp.label}: un-awaited sends made while the first connection is being set up arrive in order`, async () => {
      const fresh = await Node.start({ name: `jsorder${otp.release}@127.0.0.1`, cookie: p.cookie, epmd: { port: p.epmd.port }, listen: { address: '127.0.0.1' } });
      try {
        await p.erl.evalText(`jsnode_peer:collector(ordered), ok`);
        assert.ok(!fresh.nodes().includes(p.erlName));
        const sender = fresh.spawn();
        for (let i = 0; i < 200; i++) void sender.send(['ordered', p.erlName], i);
        await sender.send(['ordered', p.erlName], atom('last'));
        assert.equal(await p.erl.evalText(`jsnode_peer:wait_for(ordered, fun(last) -> true; (_) -> false end, 10000), jsnode_peer:collected(ordered) =:= lists:seq(0, 199) ++ [last]`), 'true');
      } finally {
        await fresh.stop();
      }
    });

    test(`${otp.label}: 64 MB of 1 MB messages arrive in order while senders await the socket's drain`, async () => {
      await p.erl.evalText(
        `Parent_ = self(), Sink_ = spawn(fun() -> register(sink, self()), Parent_ ! sink_ready, (fun L_(I_, B_) -> receive {I_, Bin_} -> L_(I_ + 1, B_ + byte_size(Bin_)); done -> Parent_ ! {sink_total, I_, B_}; {Other_, _} -> Parent_ ! {sink_out_of_order, I_, Other_} end end)(0, 0) end), receive sink_ready -> ok end`,
      );
      const sender = p.node.spawn();
      const mb = Buffer.alloc(1 << 20, 1);
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 64; i++) sends.push(sender.send(['sink', p.erlName], new Tuple([i, mb])));
      await Promise.all(sends);
      await sender.send(['sink', p.erlName], atom('done'));
      assert.equal(await p.erl.evalText(`receive {sink_total, _, _} = T_ -> T_; {sink_out_of_order, _, _} = O_ -> O_ after 30000 -> timeout end`, 40_000), `{sink_total,64,${64 << 20}}`);
      sender.close();
    });

    test(`${otp.label}: messages both ways by registered name and by pid`, async () => {
      const box = p.node.spawn();
      box.register('box');
      try {
        await p.erl.evalText(`jsnode_peer:collector(col), ok`);
        await p.erl.evalText(`{box, ${JS()}} ! {hello, whereis(col)}, ok`);
        const m = await box.receive({ timeout: 5000 });
        assert.ok(isTuple(m, 2, 'hello'));
        const colPid = m.elements[1] as Pid;
        assert.equal(colPid.node, atom(p.erlName));
        // JS → erl by pid and by name
        await box.send(colPid, new Tuple([atom('by_pid'), box.pid]));
        await box.send(['col', p.erlName], atom('by_name'));
        const got = await p.erl.evalText(`jsnode_peer:wait_for(col, fun(by_name) -> true; (_) -> false end, 5000), [X || X <- jsnode_peer:collected(col), X =/= by_name]`);
        assert.match(got, /^\[\{by_pid,<\d+\.\d+\.\d+>\}\]$/);
        // erl → JS by pid (the pid it just received)
        await p.erl.evalText(`[{by_pid, JsBox}] = [X || X <- jsnode_peer:collected(col), X =/= by_name], JsBox ! {reply_to_pid, <<"ok">>}, ok`);
        const back = await box.receive({ timeout: 5000 });
        assert.ok(isTuple(back, 2, 'reply_to_pid'));
        // selective receive: an earlier unmatched message stays queued
        await p.erl.evalText(`JsBox ! first, JsBox ! second, ok`);
        assert.equal(await box.receive({ timeout: 5000, match: (x) => x === atom('second') }), atom('second'));
        assert.equal(await box.receive({ timeout: 5000 }), atom('first'));
        // a message to a JS name nobody has is dropped, not an error on either side
        assert.equal(await p.erl.evalText(`{nobody, ${JS()}} ! x, ok`), 'ok');
      } finally {
        box.close();
        await p.erl.evalText(`exit(whereis(col), kill), ok`);
      }
    });
  });
}

export type { Atom };
