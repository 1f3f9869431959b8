// Failures, against real erl nodes of every OTP release in the matrix: the peer killed in the
// middle of a call (pending call, monitors, links, nodedown), a wrong cookie both ways, the
// name-mismatch error surfacing through send/connect, and a node nobody registered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { HandshakeError } from '../../src/dist/errors.js';
import { EpmdError } from '../../src/epmd/errors.js';
import { Node } from '../../src/dist/node/node.js';
import { CallError } from '../../src/dist/runtime/errors.js';
import { formatTerm, termEquals } from '../../src/dist/runtime/terms.js';
import { ErlNode, otpMatrix } from '../support/otp.js';
import { loadPeerModule, startPeers, type Peers } from './node-fixture.js';

const T = (...e: Term[]) => new Tuple(e);
const eq = (a: Term, b: Term) => assert.ok(termEquals(a, b), `${formatTerm(a)} =/= ${formatTerm(b)}`);

for (const otp of otpMatrix()) {
  describe(`Node failures with ${otp.label}`, () => {
    let p: Peers;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erlf${otp.release}`, jsAlive: `jsf${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: peer killed mid-call: the call rejects noconnection, DOWN noconnection, EXIT noconnection, nodedown`, async () => {
      const victimName = `victim${otp.release}@127.0.0.1`;
      const victim = await p.extraErl(victimName);
      try {
        await victim.evalText(`{ok, _} = jsnode_peer:start(slow), ok`);
        const slow = await p.node.rpc(victimName, 'erlang', 'whereis', [atom('slow')]);
        assert.ok(slow instanceof Pid);
        const watcher = p.node.spawn();
        const ref = watcher.monitor(slow);
        const linked = p.node.spawn();
        await linked.link(slow);
        const plain = p.node.spawn({ trapExit: false });
        await plain.link(slow);
        const down = new Promise<[string, string, Error | undefined]>((r) => p.node.on('nodedown', (n, reason, why) => n === victimName && r([n, reason, why])));
        const pending = p.node.call(slow, T(atom('sleep'), 60_000), { timeout: 30_000 });
        pending.catch(() => {});
        // wait until the server is inside the call (sleeping), then kill its node
        let where = '';
        for (let i = 0; i < 250 && !where.includes('sleep'); i++) {
          where = await victim.evalText(`element(2, process_info(whereis(slow), current_function))`);
          if (!where.includes('sleep')) await new Promise((r) => setTimeout(r, 20));
        }
        assert.match(where, /sleep/);
        process.kill(victim.pid, 'SIGKILL');
        await assert.rejects(pending, (e: unknown) => e instanceof CallError && e.reason === atom('noconnection'));
        eq(await watcher.receive({ timeout: 10_000 }), T(atom('DOWN'), ref, atom('process'), slow, atom('noconnection')));
        eq(await linked.receive({ timeout: 10_000 }), T(atom('EXIT'), slow, atom('noconnection')));
        assert.equal(await plain.exited, atom('noconnection'));
        const [name, reason, why] = await down;
        assert.equal(name, victimName);
        assert.equal(reason, 'connection_closed', 'a killed peer is a closed connection, as Erlang names it');
        assert.ok(why === undefined || why instanceof Error, 'a closed socket has no error behind it, a reset one has');
        assert.ok(!p.node.nodes().includes(victimName));
        watcher.close();
        linked.close();
      } finally {
        await victim.stop();
      }
    });

    test(`${otp.label}: a wrong cookie is a clear error both ways (BAD_COOKIE for us, pang for erl)`, async () => {
      const bad = await Node.start({ name: `jsbad${otp.release}@127.0.0.1`, cookie: 'not_the_cookie', epmd: { port: p.epmd.port }, listen: { address: '127.0.0.1' } });
      try {
        await assert.rejects(bad.connect(p.erlName), (e: unknown) => {
          assert.ok(e instanceof HandshakeError, String(e));
          assert.equal(e.code, 'BEAM_ERR_HANDSHAKE_BAD_COOKIE');
          assert.match(e.message, /cookie/);
          assert.doesNotMatch(e.message, /not_the_cookie/, 'the cookie never appears in errors');
          return true;
        });
        await assert.rejects(bad.send(['anyone', p.erlName], atom('x')), HandshakeError);
        const failed = new Promise<Error>((r) => bad.once('handshakeFailed', (e) => r(e)));
        assert.equal(await p.erl.evalText(`net_adm:ping('${bad.name}')`), 'pang');
        assert.ok((await failed) instanceof Error);
        assert.match(p.erl.logText(), /Invalid challenge reply|Connection attempt (from|to) .*(rejected|cancelled)/);
      } finally {
        await bad.stop();
      }
    });

    test(`${otp.label}: dialing a node by a name it does not hold gives NAME_MISMATCH through send and connect`, async () => {
      // erl holds `mm<rel>@mm.example`; epmd on 127.0.0.1 knows it as `mm<rel>`, so `mm<rel>@127.0.0.1` reaches it.
      const mm = await ErlNode.start(otp, { name: `mm${otp.release}@mm.example`, cookie: p.cookie, epmdPort: p.epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
      try {
        await loadPeerModule(mm, otp);
        const wrong = `mm${otp.release}@127.0.0.1`;
        const check = (e: unknown) => {
          assert.ok(e instanceof HandshakeError, String(e));
          assert.equal(e.code, 'BEAM_ERR_HANDSHAKE_NAME_MISMATCH');
          assert.equal(e.dialed, wrong);
          assert.equal(e.actual, `mm${otp.release}@mm.example`);
          return true;
        };
        await assert.rejects(p.node.send(['x', wrong], atom('hello')), check);
        await assert.rejects(p.node.connect(wrong), check);
        await assert.rejects(p.node.call(['x', wrong], atom('hello')), check);
        // a link towards it is broken with noconnection, as Erlang's auto-connect does
        const proc = p.node.spawn();
        const ghostPid = new Pid(atom(wrong), 1, 0, 1);
        await assert.rejects(proc.link(ghostPid), HandshakeError);
        eq(await proc.receive({ timeout: 10_000 }), T(atom('EXIT'), ghostPid, atom('noconnection')));
        proc.close();
      } finally {
        await mm.stop();
      }
    });

    test(`${otp.label}: a node that is not registered with EPMD: EpmdError, and a monitor towards it fires noconnection`, async () => {
      const ghost = `ghost${otp.release}@127.0.0.1`;
      await assert.rejects(p.node.send(['x', ghost], 1), (e: unknown) => e instanceof EpmdError && e.code === 'BEAM_ERR_EPMD_NOT_REGISTERED');
      const proc = p.node.spawn();
      const ref = proc.monitor(['srv', ghost]);
      eq(await proc.receive({ timeout: 10_000 }), T(atom('DOWN'), ref, atom('process'), T(atom('srv'), atom(ghost)), atom('noconnection')));
      proc.close();
    });
  });
}
