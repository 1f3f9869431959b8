// OTP 28+ ALTACT_SIG_SEND (op 37) against real erl: both sides advertise DFLAG_ALTACT_SIG, so
// alias sends, exit signals to aliases, priority messages (EEP 76) and priority sends by name go
// as op 37, both ways; an older peer (OTP 25-27) gets ALIAS_SEND (33) and ordinary messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode as encodeTerm } from '../../src/etf/index.js';
import { Pid, Reference, Tuple, atom, type Term } from '../../src/etf/types.js';
import { DFLAG } from '../../src/dist/protocol/flags.js';
import type { Connection } from '../../src/dist/net/connection.js';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

for (const otp of otpMatrix()) {
  const modern = Number(otp.release) >= 28;
  describe(`alias and priority signals with ${otp.label}`, () => {
    let p: Peers;
    let conn: Connection;
    const ops: string[] = [];
    const sent: string[] = [];
    const JS = () => `'${p.jsName}'`;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erlalt${otp.release}`, jsAlive: `jsalt${otp.release}` });
      conn = await p.node.connection(atom(p.erlName));
      conn.on('control', (c) => ops.push(c.op));
      // What we put on the wire, after the flags picked the op (Connection.send sees the control).
      const send = conn.send.bind(conn);
      conn.send = (c, m) => {
        sent.push(c.op === 'altact_sig_send' ? `37/${c.flags}` : c.op);
        return send(c, m);
      };
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: ALTACT_SIG is negotiated exactly when the peer is OTP 28+`, () => {
      assert.equal((conn.flags & DFLAG.ALTACT_SIG) !== 0n, modern);
    });

    test(`${otp.label}: erl sends to a JS alias, by name, and an exit signal to a JS alias`, async () => {
      const proc = p.node.spawn({ trapExit: true });
      proc.register('altbox');
      const a = proc.alias();
      ops.length = 0;
      await p.node.rpc(p.erlName, 'erlang', 'send', [a, atom('to_alias')]);
      assert.equal(await proc.receive({ timeout: 10_000 }), atom('to_alias'));
      assert.ok(ops.includes(modern ? 'altact_sig_send' : 'alias_send'), ops.join());
      await p.erl.evalText(`{altbox, ${JS()}} ! by_name, ok`);
      assert.equal(await proc.receive({ timeout: 10_000 }), atom('by_name'));
      if (modern) {
        // exit/2 to an alias exists from OTP 28 (EEP 76); the sender is the evaluating process.
        const sender = decode((await p.erl.eval(`exit(binary_to_term(${erlBin(a)}), bye), self()`)).etf);
        const m = await proc.receive({ timeout: 10_000 });
        assert.ok(m instanceof Tuple && m.elements[0] === atom('EXIT') && m.elements[2] === atom('bye'), String(m));
        assert.ok(sender instanceof Pid && sender.equals(m.elements[1]));
      }
      proc.close();
    });

    if (modern) {
      test(`${otp.label}: a priority message from erl to a JS priority alias is received before queued ordinary ones`, async () => {
        const proc = p.node.spawn();
        proc.register('prbox');
        const pa = proc.alias(undefined, { priority: true });
        await p.node.send(proc.pid, atom('queued_first'));
        ops.length = 0;
        // erl's eval answer comes over stdio and can overtake the messages on the connection: a last
        // message from the same sender to another process, over the same connection, arrives after them.
        const sync = p.node.spawn();
        sync.register('prsync');
        await p.erl.evalText(`erlang:send(binary_to_term(${erlBin(pa)}), urgent, [priority]), erlang:send({prbox, ${JS()}}, by_name_prio, [priority]), erlang:send({prsync, ${JS()}}, sent), ok`);
        assert.equal(await sync.receive({ timeout: 10_000 }), atom('sent'));
        sync.close();
        assert.equal(await proc.receive({ timeout: 10_000 }), atom('urgent'));
        assert.equal(await proc.receive({ timeout: 10_000 }), atom('queued_first'));
        // a priority send by name is op 37 NAME|PRIO; a name is no priority alias, so it queues as usual
        assert.equal(await proc.receive({ timeout: 10_000 }), atom('by_name_prio'));
        assert.deepEqual(ops.slice(-3, -1), ['altact_sig_send', 'altact_sig_send']);
        proc.close();
      });

      test(`${otp.label}: JS sends to an erl alias, a priority message to its priority alias (received first), and exit/2 to an alias`, async () => {
        const r = await p.erl.eval(`
          Self__ = self(),
          Pr__ = spawn(fun() ->
              PA = alias([priority]), A = alias(),
              Self__ ! {aliases, self(), PA, A},
              receive sync -> ok end,
              L = [receive M -> M after 5000 -> timeout end || _ <- [1, 2, 3]],
              Self__ ! {got, L}
            end),
          Ex__ = spawn(fun() ->
              process_flag(trap_exit, true), EA = alias(), Self__ ! {ealias, EA},
              receive {'EXIT', From, R} -> Self__ ! {exited, From, R} after 10000 -> Self__ ! {exited, none, timeout} end
            end),
          receive {aliases, Pr__, PA__, A__} -> ok end,
          receive {ealias, EA__} -> ok end,
          {Pr__, PA__, A__, EA__}`);
        assert.ok(r.ok, r.text);
        const [pr, pa, a, ea] = (decode(r.etf) as Tuple).elements as [Pid, Reference, Reference, Reference];
        const proc = p.node.spawn();
        sent.length = 0;
        await proc.send(pr, atom('m1'));
        await proc.send(a, atom('m2'));
        await proc.send(pa, atom('urgent'), { priority: true });
        await proc.send(pr, atom('sync'));
        assert.equal(await p.erl.evalText(`receive {got, L__} -> L__ after 10000 -> timeout end`), '[urgent,m1,m2]');
        // ALIAS = 4, PRIO = 1: alias sends are op 37 (ALIAS_SEND 33 is gone in OTP 30)
        assert.deepEqual(sent, ['send_sender', '37/4', '37/5', 'send_sender']);
        proc.exit(ea, atom('bye'));
        const ex = await p.erl.evalText(`receive {exited, F__, R__} -> {F__ =:= binary_to_term(${erlBin(proc.pid)}), R__} after 10000 -> timeout end`);
        assert.equal(ex, '{true,bye}');
        assert.equal(sent.at(-1), '37/20'); // ALIAS | EXIT
        // a priority message by registered name: op 37 NAME | PRIO
        await p.erl.evalText(`jsnode_peer:collector(altcoll), ok`);
        await proc.send(['altcoll', p.erlName], atom('prio_by_name'), { priority: true });
        assert.equal(sent.at(-1), '37/9');
        assert.equal(await p.erl.evalText(`jsnode_peer:wait_for(altcoll, fun(M) -> M =:= prio_by_name end, 5000)`), 'prio_by_name');
        proc.close();
      });
    }

    test(`${otp.label}: gen_server calls both ways still get their replies (to the caller's alias)`, async () => {
      await p.erl.evalText(`{ok, _} = jsnode_peer:start(altsrv), ok`);
      assert.equal(await p.node.call([atom('altsrv'), atom(p.erlName)], atom('ping')), atom('pong'));
      p.node.serve('jsaltsrv', { call: (req: Term) => new Tuple([atom('got'), req]) });
      sent.length = 0;
      assert.equal(await p.erl.evalText(`gen_server:call({jsaltsrv, ${JS()}}, hi, 5000)`), '{got,hi}');
      // our reply went to the caller's alias: op 37 ALIAS to OTP 28+, ALIAS_SEND (33) before
      assert.deepEqual(sent, [modern ? '37/4' : 'alias_send']);
    });
  });
}

/** A term as an Erlang binary literal for binary_to_term/1 (so refs and pids can be typed into erl). */
function erlBin(t: Term): string {
  return `<<${[...encodeTerm(t)].join(',')}>>`;
}
