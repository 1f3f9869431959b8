// node.ping(peer) against real erl nodes: pong from a live peer, pang (never a throw) from a peer
// with another cookie and from a name no EPMD knows, and an aborted signal rejects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

for (const otp of otpMatrix()) {
  describe(`node.ping against ${otp.label}`, () => {
    let p: Peers;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `pingerl${otp.release}`, jsAlive: `pingjs${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: a live peer answers pong, and the connection is then up`, async () => {
      assert.equal(await p.node.ping(p.erlName), 'pong');
      assert.ok(p.node.nodes().includes(p.erlName));
    });

    test(`${otp.label}: a peer with another cookie, and a name EPMD does not know, give pang`, async () => {
      const host = p.erlName.slice(p.erlName.indexOf('@') + 1);
      const other = await p.extraErl(`pingother${otp.release}@${host}`, `not-${p.cookie}`);
      assert.equal(await p.node.ping(`pingother${otp.release}@${host}`, { timeout: 5000 }), 'pang');
      assert.equal(await p.node.ping(`nobody${otp.release}@${host}`, { timeout: 5000 }), 'pang');
      assert.equal(await other.evalText('nodes(hidden)'), '[]');
    });

    test(`${otp.label}: an aborted signal rejects with its reason instead of answering pang`, async () => {
      const ac = new AbortController();
      ac.abort(new Error('stop pinging'));
      await assert.rejects(p.node.ping(p.erlName, { signal: ac.signal }), /stop pinging/);
    });
  });
}
