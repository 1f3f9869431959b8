// node.rpc() as rpc:call does it (SPAWN_REQUEST of erpc:execute_call/4, erpc.ts): every outcome
// judged by the real BEAM: the erl node compares what rpc:call gives it for the same call with
// the term our rpc() produced (the value, or {badrpc, Reason} from RpcError), by =:=.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { atom, tuple, type Term } from '../../src/etf/types.js';
import { encode } from '../../src/etf/encode.js';
import { RpcError } from '../../src/dist/runtime/errors.js';
import { TimeoutError } from '../../src/errors.js';
import { termEquals } from '../../src/dist/runtime/terms.js';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

const cases: [string, string, Term[], string][] = [
  ['lists', 'reverse', [[1, 2, 3]], '[1,2,3]'],
  ['erlang', 'throw', [atom('x')], 'x'],
  ['erlang', 'throw', [tuple(atom('EXIT'), atom('y'))], "{'EXIT',y}"],
  ['erlang', 'exit', [atom('z')], 'z'],
  ['erlang', 'error', [tuple(atom('my'), 1)], '{my,1}'],
  ['no_such_module', 'f', [1], '1'],
  ['lists', 'seq', [atom('a'), 2], 'a,2'],
  ['erlang', 'binary_to_atom', [Buffer.from('not utf8 \xff', 'latin1'), atom('utf8')], '<<"not utf8 ",255>>,utf8'],
];

for (const otp of otpMatrix()) {
  describe(`rpc through erpc with ${otp.label}`, () => {
    let p: Peers;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erpc${otp.release}`, jsAlive: `jserpc${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: values, throws, exits and errors come back as rpc:call gives them (compared by the BEAM)`, async () => {
      for (const [i, [m, f, args, argText]] of cases.entries()) {
        let ours: Term;
        try {
          ours = await p.node.rpc(p.erlName, m, f, args);
        } catch (e) {
          assert.ok(e instanceof RpcError, `${m}:${f}: ${String(e)}`);
          ours = tuple(atom('badrpc'), e.reason);
        }
        const bytes = [...encode(ours)].join(',');
        // Fresh variable names: the erl shell keeps its bindings between evaluations.
        const same = await p.erl.evalText(`Ours${i}__ = binary_to_term(<<${bytes}>>), Theirs${i}__ = rpc:call(node(), ${m}, ${f}, [${argText}]), {Ours${i}__ =:= Theirs${i}__, Theirs${i}__}`);
        assert.match(same, /^\{true,/, `${m}:${f}: ours ${same}`);
      }
    });

    test(`${otp.label}: the spawned process's group leader is ours; with output its io:format text is captured`, async () => {
      const out: string[] = [];
      assert.equal(await p.node.rpc(p.erlName, 'io', 'format', ['hello ~p~n', [42]], { output: (t) => out.push(t) }), atom('ok'));
      assert.deepEqual(out, ['hello 42\n']);
      // Without output: the node's I/O server answers (nothing on the peer's console).
      assert.equal(await p.node.rpc(p.erlName, 'io', 'format', ['quiet~n', []]), atom('ok'));
      assert.doesNotMatch(p.erl.logText(), /quiet/);
    });

    test(`${otp.label}: a call killed on the peer is {badrpc, {'EXIT', killed}}; a timeout is TimeoutError (phase rpc)`, async () => {
      const call = p.node.rpc(p.erlName, 'timer', 'sleep', [20_000]);
      call.catch(() => {});
      let killed = '[]';
      for (let i = 0; i < 100 && killed === '[]'; i++) {
        killed = await p.erl.evalText(`[exit(P, kill) || P <- processes(), process_info(P, current_function) =:= {current_function, {timer, sleep, 1}}]`);
        if (killed === '[]') await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(killed, '[true]');
      await assert.rejects(call, (e: unknown) => e instanceof RpcError && termEquals(e.reason, tuple(atom('EXIT'), atom('killed'))));
      await assert.rejects(
        p.node.rpc(p.erlName, 'timer', 'sleep', [5000], { timeout: 200 }),
        (e: unknown) => e instanceof TimeoutError && e.phase === 'rpc',
      );
    });
  });
}
