// The Node library under IPv6 names, against real erl with `-proto_dist inet6_tcp`: OTP takes an
// IPv6 literal as a long-names host (no dot needed), so `js6@::1` and `e6@::1` dial each other
// both ways; EPMD is asked at the IPv6 address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../src/dist/node/node.js';
import { checkDialName } from '../../src/dist/protocol/names.js';
import { Atom } from '../../src/etf/types.js';
import { ErlNode, otpMatrix, startEpmd, type Epmd } from '../support/otp.js';

test('an IPv6 literal is a legal long-names host to dial; a dotless name is not', () => {
  assert.equal(checkDialName('e6@fd00:231:81::11', true).host, 'fd00:231:81::11');
  assert.throws(() => checkDialName('e6@myhost', true), { code: 'BEAM_ERR_DIST_ILLEGAL_HOST' });
});

for (const otp of otpMatrix()) {
  describe(`Node named js6@::1 with ${otp.label} (-proto_dist inet6_tcp)`, () => {
    let epmd: Epmd;
    let erl: ErlNode;
    let node: Node;
    before(async () => {
      epmd = await startEpmd();
      erl = await ErlNode.start(otp, { name: `e6r${otp.release}@::1`, cookie: 'c6', epmdPort: epmd.port, args: ['-proto_dist', 'inet6_tcp'] });
      node = await Node.start({ name: `js6r${otp.release}@::1`, cookie: 'c6', epmd: { port: epmd.port } });
    });
    after(async () => {
      await node?.stop();
      await erl?.stop();
      await epmd?.stop();
    });

    test(`we dial e6@::1 (EPMD and the distribution over IPv6) and erl dials us back (${otp.label})`, async () => {
      const r = await node.rpc(`e6r${otp.release}@::1`, 'erlang', 'node', []);
      assert.ok(r instanceof Atom);
      assert.equal(r.name, `e6r${otp.release}@::1`);
      assert.equal(await erl.evalText(`net_adm:ping('js6r${otp.release}@::1')`), 'pong');
    });
  });
}
