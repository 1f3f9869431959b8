// node.spawnRemote against real erl on every OTP of the matrix: SPAWN_REQUEST/SPAWN_REPLY with
// link and monitor (set up by the spawning node, ref = request id) and their noconnection, the errors Erlang gives
// (badopt for a bad option, noconnection for an unreachable node, undef as the exit reason of a
// spawned call to a missing function), a JS process as the requester, and the output of the
// spawned process reaching JS through its group leader.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { SpawnError } from '../../src/dist/node/spawn-remote.js';
import { formatTerm, isTuple } from '../../src/dist/runtime/terms.js';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

for (const otp of otpMatrix()) {
  describe(`spawnRemote with ${otp.label}`, () => {
    let p: Peers;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `sperl${otp.release}`, jsAlive: `spjs${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: a linked, monitored process; its exit reaches the link and the monitor`, async () => {
      const s = await p.node.spawnRemote(p.erlName, 'timer', 'sleep', [atom('infinity')], { link: true, monitor: true });
      assert.ok(s.pid instanceof Pid && s.pid.node === atom(p.erlName));
      assert.equal(await p.node.rpc(p.erlName, 'erlang', 'is_process_alive', [s.pid]), true);
      // Erlang sees the link and the monitor the spawning node made.
      const info = await p.node.rpc(p.erlName, 'erlang', 'process_info', [s.pid, [atom('links'), atom('monitored_by')]]);
      assert.ok(Array.isArray(info) && info.length === 2);
      // One link and one monitor held by our node (the code server may also monitor it while
      // it loads `timer`: the erpc-based rpc can ask that early).
      const ours = (xs: Term) => (Array.isArray(xs) ? xs.filter((x) => x instanceof Pid && x.node === p.node.atom).length : -1);
      for (const item of info) assert.ok(isTuple(item, 2) && ours(item.elements[1]) === 1, formatTerm(item));
      await p.node.rpc(p.erlName, 'erlang', 'exit', [s.pid, atom('bye')]);
      assert.equal(await s.down, atom('bye'));
      assert.equal(await s.exit, atom('bye'));
    });

    test(`${otp.label}: a JS process requests: it holds the link (EXIT message) and the monitor (DOWN with the request id)`, async () => {
      const me = p.node.spawn();
      const s = await p.node.spawnRemote(p.erlName, 'erlang', 'apply', [atom('erlang'), atom('exit'), [atom('done')]], { link: true, monitor: true, process: me });
      const msgs = [await me.receive({ timeout: 10_000 }), await me.receive({ timeout: 10_000 })];
      const down = msgs.find((m) => isTuple(m, 5, 'DOWN')) as Tuple;
      const exit = msgs.find((m) => isTuple(m, 3, 'EXIT')) as Tuple;
      assert.ok(down && s.ref.equals(down.elements[1]) && down.elements[4] === atom('done'));
      assert.ok(exit && s.pid.equals(exit.elements[1]) && exit.elements[2] === atom('done'));
      me.close();
    });

    test(`${otp.label}: errors as Erlang gives them`, async () => {
      await assert.rejects(p.node.spawnRemote(p.erlName, 'timer', 'sleep', [1], { spawnOptions: [atom('bogus_option')] }), (e: unknown) => {
        assert.ok(e instanceof SpawnError && e.code === 'BEAM_ERR_SPAWN');
        assert.equal(e.reason, atom('badopt')); // erts' answer to an unknown spawn option
        return true;
      });
      await assert.rejects(p.node.spawnRemote('nobody@127.0.0.1', 'timer', 'sleep', [1], { timeout: 3000 }), (e: unknown) => e instanceof SpawnError && e.reason === atom('noconnection'));
      await assert.rejects(p.node.spawnRemote(p.erlName, 'timer', 'sleep', 'x' as never), (e: unknown) => e instanceof SpawnError && e.reason === atom('badarg'));
      // The spawn succeeds; the call to a missing function is the process's exit reason.
      const s = await p.node.spawnRemote(p.erlName, 'no_such_module', 'f', [1], { monitor: true });
      const reason = (await s.down) ?? [];
      assert.ok(isTuple(reason, 2) && reason.elements[0] === atom('undef'), String(reason));
    });

    test(`${otp.label}: a dropped connection fires the link and the monitor with noconnection`, async () => {
      const s = await p.node.spawnRemote(p.erlName, 'timer', 'sleep', [atom('infinity')], { link: true, monitor: true });
      p.node.disconnect(p.erlName);
      assert.equal(await s.down, atom('noconnection'));
      assert.equal(await s.exit, atom('noconnection'));
      await p.node.connect(p.erlName);
    });

    test(`${otp.label}: the spawned process's output reaches JS through its group leader`, async () => {
      const out: string[] = [];
      const s = await p.node.spawnRemote(p.erlName, 'io', 'format', ['spawned ~p ~ts~n', [42, Buffer.from('ünï', 'utf8')]], { monitor: true, output: (t) => out.push(t) });
      assert.equal(await s.down, atom('normal'));
      assert.deepEqual(out, ['spawned 42 ünï\n']);
    });
  });
}
