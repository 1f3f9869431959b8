/**
 * The atom table's limit against a real erl peer that sends ever new atoms (list_to_atom of fresh
 * names, as a careless or hostile peer would): past setAtomTableLimit the message is refused, the
 * connection is dropped with a protocolError whose cause is LimitError BEAM_ERR_ETF_LIMIT_ATOMS, the
 * table does not grow past the limit, the node keeps running and the peer can reconnect and send
 * messages made of known atoms. Host OTP, with and without the distribution header's atom cache.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { atom, atomTableSize, setAtomTableLimit, tuple, DEFAULT_MAX_ATOMS, LimitError } from '../../src/etf/index.js';
import { Node } from '../../src/dist/node/node.js';
import type { ProtocolError } from '../../src/dist/errors.js';
import { hostOtp } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

const otp = hostOtp();

describe(`atom table limit against erl (${otp.label})`, () => {
  let p: Peers;
  before(async () => {
    p = await startPeers(otp, { erlAlive: 'atomspam', jsAlive: 'atomjs' });
  });
  after(async () => {
    setAtomTableLimit(DEFAULT_MAX_ATOMS);
    await p?.stop();
  });

  for (const atomCache of [true, false]) {
    test(`500 new atoms from erl past a limit of +100: protocolError with LIMIT_ATOMS, the table stops at the limit, the peer comes back (atom cache ${atomCache ? 'on' : 'off'})`, async () => {
      const node = await Node.start({ name: `atomlim${atomCache ? 'c' : 'n'}@127.0.0.1`, cookie: p.cookie, epmd: { port: p.epmd.port }, listen: { address: '127.0.0.1' }, atomCache });
      try {
        node.register('sink', node.spawn());
        assert.equal(await p.erl.evalText(`net_adm:ping('${node.name}')`), 'pong');
        const limit = atomTableSize() + 100;
        setAtomTableLimit(limit);
        const reported = new Promise<ProtocolError>((r) => node.once('protocolError', r));
        const tag = atomCache ? 'c' : 'n';
        await p.erl.evalText(`{sink, '${node.name}'} ! [list_to_atom("spam_${tag}_" ++ integer_to_list(I)) || I <- lists:seq(1, 500)], ok`);
        const e = await reported;
        assert.equal(e.peer, p.erlName);
        assert.ok(e.cause instanceof LimitError && e.cause.code === 'BEAM_ERR_ETF_LIMIT_ATOMS', `cause: ${String(e.cause)}`);
        assert.equal(atomTableSize(), limit, 'the table stopped at the limit');
        // Known atoms still flow once the peer reconnects.
        const sink = node.whereis('sink')!;
        await p.erl.evalText(`erlang:disconnect_node('${node.name}'), pong = net_adm:ping('${node.name}')`);
        await p.erl.evalText(`{sink, '${node.name}'} ! {ok, spam_${tag}_1}, ok`);
        const got = await sink.receive({ timeout: 10_000 });
        assert.equal(atomTableSize(), limit);
        assert.deepEqual(got, tuple(atom('ok'), atom(`spam_${tag}_1`)));
      } finally {
        setAtomTableLimit(DEFAULT_MAX_ATOMS);
        await node.stop();
      }
    });
  }
});
