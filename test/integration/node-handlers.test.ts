// Handlers as a Node.js developer expects them, judged by real erl nodes of every OTP release in
// the matrix: a throwing serve() handler fails that call only (gen_server:call exits with the
// reason, the next call is answered by the same pid), crash/restart semantics on request,
// disposers, call<T>/rpc<T> with a validating guard, proc.messages() with match and abort, and
// nodedown reasons as Erlang names them (and no error object for a clean close).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { isAtom, isList, isPid, isTuple } from '../../src/etf/terms/guards.js';
import { UnexpectedReplyError } from '../../src/dist/runtime/errors.js';
import { ErlangException } from '../../src/dist/node/erpc.js';
import { otpMatrix } from '../support/otp.js';
import { waitUntil } from '../support/wait.js';
import { startPeers, type Peers } from './node-fixture.js';

for (const otp of otpMatrix()) {
  describe(`handlers with ${otp.label}`, () => {
    let p: Peers;
    const JS = () => `'${p.jsName}'`;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erlh${otp.release}`, jsAlive: `jsh${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: a throwing call handler fails that call only: gen_server:call exits with {js_error, Msg}, the same server answers the next`, async () => {
      const srv = p.node.serve('hsrv', {
        call(req) {
          if (isTuple(req, 2, 'fail')) throw new Error(String(req.elements[1]));
          if (isTuple(req, 2, 'exit')) throw new ErlangException('exit', req.elements[1]);
          if (isTuple(req, 2, 'throw')) throw new ErlangException('throw', req.elements[1]);
          return new Tuple([atom('ok'), req]);
        },
      });
      try {
        const pid = srv.pid;
        const r = await p.erl.evalText(`catch gen_server:call({hsrv, ${JS()}}, {fail, <<"boom">>}, 5000)`);
        assert.match(r, /^\{'EXIT',\{\{js_error,<<"boom">>\},\{gen_server,call,\[\{hsrv,'jsh\d+@127\.0\.0\.1'\},\{fail,<<"boom">>\},5000\]\}\}\}$/, r);
        assert.equal(await p.erl.evalText(`gen_server:call({hsrv, ${JS()}}, next, 5000)`), '{ok,next}');
        assert.ok(srv.alive && srv.pid.equals(pid), 'the same process served both calls');
        // by pid too (gen_server:call monitors the pid), and the caller's monitor is gone afterwards
        const byPid = await p.erl.evalText(
          `P = rpc:call(${JS()}, erlang, whereis, [hsrv]), R = (catch gen_server:call(P, {fail, <<"again">>}, 5000)), {R, erlang:process_info(self(), monitors)}`,
        );
        assert.match(byPid, /^\{\{'EXIT',\{\{js_error,<<"again">>\},\{gen_server,call,/, byPid);
        assert.match(byPid, /\{monitors,\[\]\}\}$/, byPid);
        // ErlangException picks the reason; a thrown value is the reply, as in a gen_server callback
        assert.match(await p.erl.evalText(`catch gen_server:call({hsrv, ${JS()}}, {exit, my_reason}, 5000)`), /^\{'EXIT',\{my_reason,\{gen_server,call,/);
        assert.equal(await p.erl.evalText(`gen_server:call({hsrv, ${JS()}}, {throw, thrown_reply}, 5000)`), 'thrown_reply');
        assert.equal(await p.erl.evalText(`gen_server:call({hsrv, ${JS()}}, last, 5000)`), '{ok,last}');
        assert.ok(srv.pid.equals(pid));
      } finally {
        srv.close();
      }
      assert.equal(p.node.whereis('hsrv'), undefined, 'close() freed the name');
    });

    test(`${otp.label}: { crash: true } ends the server with the reason; { restart } starts it again under its name, within its intensity`, async () => {
      const crasher = p.node.serve('hcrash', { call: () => { throw new Error('bad'); } }, { crash: true });
      assert.match(await p.erl.evalText(`catch gen_server:call({hcrash, ${JS()}}, x, 5000)`), /^\{'EXIT',\{\{js_error,<<"bad">>\},/);
      await waitUntil(() => !crasher.alive, 'the crashed server to end');
      assert.match(await p.erl.evalText(`catch gen_server:call({hcrash, ${JS()}}, x, 5000)`), /^\{'EXIT',\{noproc,/);

      let n = 0;
      const srv = p.node.serve('hrestart', {
        call: (req) => {
          if (req === atom('crash')) throw new Error(`crash ${++n}`);
          return atom('alive');
        },
      }, { restart: { intensity: 2, period: 60_000 } });
      try {
        const first = srv.pid;
        assert.match(await p.erl.evalText(`catch gen_server:call({hrestart, ${JS()}}, crash, 5000)`), /^\{'EXIT',\{\{js_error,<<"crash 1">>\},/);
        await waitUntil(() => srv.restarts === 1 && srv.alive, 'the first restart');
        assert.ok(!srv.pid.equals(first), 'a new pid');
        assert.equal(await p.erl.evalText(`gen_server:call({hrestart, ${JS()}}, hello, 5000)`), 'alive');
        assert.match(await p.erl.evalText(`catch gen_server:call({hrestart, ${JS()}}, crash, 5000)`), /crash 2/);
        await waitUntil(() => srv.restarts === 2 && srv.alive, 'the second restart');
        // the third crash within the period is past the intensity: it stays down
        assert.match(await p.erl.evalText(`catch gen_server:call({hrestart, ${JS()}}, crash, 5000)`), /crash 3/);
        await waitUntil(() => !srv.alive, 'the server to stay down');
        assert.equal(srv.restarts, 2);
        assert.equal(p.node.whereis('hrestart'), undefined);
      } finally {
        srv.close();
      }
    });

    test(`${otp.label}: a throwing cast or info handler is reported and the server goes on`, async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error & { code?: string }) => void (w.code === 'BEAMNODE_HANDLER_THREW' && warnings.push(w.message));
      process.on('warning', onWarning);
      const srv = p.node.serve('hcast', {
        call: () => atom('still_here'),
        cast: () => { throw new Error('cast broke'); },
        info: () => { throw new Error('info broke'); },
      });
      try {
        await p.erl.evalText(`gen_server:cast({hcast, ${JS()}}, x), {hcast, ${JS()}} ! y, ok`);
        assert.equal(await p.erl.evalText(`gen_server:call({hcast, ${JS()}}, q, 5000)`), 'still_here');
        await waitUntil(() => warnings.length > 0, 'a BEAMNODE_HANDLER_THREW warning');
        assert.match(warnings[0], /serve\(hcast\) cast handler threw \(cast broke\)/);
      } finally {
        process.off('warning', onWarning);
        srv.close();
      }
    });

    test(`${otp.label}: handleRpc returns a disposer: after it, the function is undef again`, async () => {
      const off = p.node.handleRpc('hmod', 'twice', ([x]) => (typeof x === 'number' ? x * 2 : atom('badarg')));
      assert.equal(await p.erl.evalText(`rpc:call(${JS()}, hmod, twice, [21])`), '42');
      off();
      assert.match(await p.erl.evalText(`rpc:call(${JS()}, hmod, twice, [21])`), /undef/);
      {
        using _h = p.node.handleRpc('hmod', 'scoped', () => atom('in_scope'));
        assert.equal(await p.erl.evalText(`rpc:call(${JS()}, hmod, scoped, [])`), 'in_scope');
      }
      assert.match(await p.erl.evalText(`rpc:call(${JS()}, hmod, scoped, [])`), /undef/);
    });

    test(`${otp.label}: rpc<T>/call<T> with a validate guard type and check the reply; a refused reply is UnexpectedReplyError`, async () => {
      const pid: Pid = await p.node.rpc(p.erlName, 'erlang', 'whereis', [atom('code_server')], { validate: isPid });
      assert.ok(pid instanceof Pid);
      const list: Term[] = await p.node.rpc(p.erlName, 'lists', 'seq', [1, 3], { validate: (t) => isList(t) });
      assert.deepEqual(list, [1, 2, 3]);
      await assert.rejects(p.node.rpc(p.erlName, 'erlang', 'whereis', [atom('no_such_name')], { validate: isPid }), (e: unknown) => {
        assert.ok(e instanceof UnexpectedReplyError, String(e));
        assert.equal(e.code, 'BEAM_ERR_UNEXPECTED_REPLY');
        assert.equal(e.reply, atom('undefined'));
        assert.match(e.message, /^rpc erlang:whereis\/1 on erlh\d+@127\.0\.0\.1 replied undefined, which validate \(isPid\) refused$/);
        return true;
      });
      await p.erl.evalText(`{ok, _} = jsnode_peer:start(hval), ok`);
      const pong = await p.node.call(['hval', p.erlName], atom('ping'), { validate: (t) => isAtom(t, 'pong') });
      assert.equal(pong.name, 'pong');
      await assert.rejects(p.node.call(['hval', p.erlName], atom('ping'), { validate: (t): t is Tuple => isTuple(t) }), UnexpectedReplyError);
    });

    test(`${otp.label}: proc.messages({ match, signal }) yields the matching messages as erl sends them and ends on abort`, async () => {
      const proc = p.node.spawn();
      proc.register('hbox');
      const ac = new AbortController();
      const got: number[] = [];
      const loop = (async () => {
        try {
          for await (const m of proc.messages({ signal: ac.signal, match: (m) => isTuple(m, 2, 'n') })) {
            const n = m.elements[1];
            if (typeof n === 'number') got.push(n);
            if (got.length === 5) ac.abort();
          }
          return 'ended';
        } catch (e) {
          return e === ac.signal.reason ? 'aborted' : e;
        }
      })();
      try {
        await p.erl.evalText(`[{hbox, ${JS()}} ! M || M <- [skip_me, {n, 1}, {n, 2}, other, {n, 3}, {n, 4}, {n, 5}, {n, 6}]], ok`);
        assert.equal(await loop, 'aborted');
        assert.deepEqual(got, [1, 2, 3, 4, 5]);
        // the others stay queued, in order, for receive
        assert.equal(await proc.receive({ timeout: 5000 }), atom('skip_me'));
        assert.equal(await proc.receive({ timeout: 5000 }), atom('other'));
        assert.ok(isTuple(await proc.receive({ timeout: 5000 }), 2, 'n'));
        // the loop also ends, quietly, when the process exits
        const seen: Term[] = [];
        const quiet = (async () => {
          for await (const m of proc.messages()) seen.push(m);
          return seen;
        })();
        await p.erl.evalText(`{hbox, ${JS()}} ! last, ok`);
        // Wait for the loop to have it (not for an empty mailbox: that holds before it arrives too).
        await waitUntil(() => seen.length === 1, 'the last message taken');
        proc.close();
        assert.deepEqual(await quiet, [atom('last')]);
      } finally {
        proc.close();
      }
    });

    test(`${otp.label}: nodedown gives Erlang's reason as a short string: disconnect (ours), connection_closed (the peer's)`, async () => {
      const seen: [string, string, Error | undefined][] = [];
      const onDown = (n: string, reason: string, e: Error | undefined) => void (n === p.erlName && seen.push([n, reason, e]));
      p.node.on('nodedown', onDown);
      try {
        await p.node.connect(p.erlName);
        assert.ok(p.node.disconnect(p.erlName));
        await waitUntil(() => seen.length === 1, 'nodedown after disconnect()');
        assert.deepEqual(seen[0].slice(0, 2), [p.erlName, 'disconnect']);
        assert.equal(seen[0][2], undefined, 'no error behind our own disconnect');
        await p.node.connect(p.erlName);
        assert.equal(await p.erl.evalText(`erlang:disconnect_node(${JS()})`), 'true');
        await waitUntil(() => seen.length === 2, 'nodedown after erlang:disconnect_node/1');
        assert.equal(seen[1][1], 'connection_closed');
        assert.equal(seen[1][2], undefined, 'a clean close is no failure: no error to print');
      } finally {
        p.node.off('nodedown', onDown);
      }
    });
  });
}
