// net_kernel:allow/1 both ways against real erl: our acceptor's allow list (full names, a host,
// `alive@` patterns) answers not_allowed to a real erl that is not on it, and lets the listed one
// in; erl's own net_kernel:allow refuses us with status not_allowed, which we report as
// BEAM_ERR_HANDSHAKE_NOT_ALLOWED.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeError } from '../../src/dist/errors.js';
import { Node } from '../../src/dist/node/node.js';
import { ErlNode, otpMatrix, startEpmd, withTimeout, type Epmd } from '../support/otp.js';

const COOKIE = 'allow_cookie';

for (const otp of otpMatrix()) {
  describe(`allow lists with ${otp.label}`, () => {
    let epmd: Epmd;
    const erls: ErlNode[] = [];
    const erl = async (alive: string) => {
      const e = await ErlNode.start(otp, { name: `${alive}@127.0.0.1`, cookie: COOKIE, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
      erls.push(e);
      return e;
    };
    before(async () => {
      epmd = await startEpmd();
    });
    after(async () => {
      for (const e of erls) await e.stop();
      await epmd.stop();
    });

    test(`${otp.label}: our allow list: an unlisted erl gets not_allowed (pang), listed names and alive@ patterns get in`, async () => {
      const r = otp.release;
      const node = await Node.start({
        name: `jsallow${r}@127.0.0.1`,
        cookie: COOKIE,
        epmd: { port: epmd.port },
        listen: { address: '127.0.0.1' },
        allow: [`friend${r}@127.0.0.1`, `pal${r}@`],
      });
      try {
        const stranger = await erl(`stranger${r}`);
        const refused = new Promise<Error>((res) => node.once('handshakeFailed', (e) => res(e)));
        assert.equal(await stranger.evalText(`net_adm:ping('${node.name}')`), 'pang');
        const e = await withTimeout(refused, 10_000, 'handshakeFailed');
        assert.ok(e instanceof HandshakeError, String(e));
        assert.equal(e.code, 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
        assert.match(e.message, new RegExp(`stranger${r}@127.0.0.1`));
        assert.ok(!node.nodes().includes(`stranger${r}@127.0.0.1`));
        const friend = await erl(`friend${r}`);
        assert.equal(await friend.evalText(`net_adm:ping('${node.name}')`), 'pong');
        const pal = await erl(`pal${r}`);
        assert.equal(await pal.evalText(`net_adm:ping('${node.name}')`), 'pong');
        assert.deepEqual(node.nodes().sort(), [`friend${r}@127.0.0.1`, `pal${r}@127.0.0.1`].sort());
        // The list is about who may dial us: we may still dial the stranger.
        assert.equal(await node.rpc(`stranger${r}@127.0.0.1`, 'erlang', 'node', []).then(String), `stranger${r}@127.0.0.1`);
      } finally {
        await node.stop();
      }
    });

    test(`${otp.label}: erl's net_kernel:allow refuses us: BEAM_ERR_HANDSHAKE_NOT_ALLOWED at recv_status`, async () => {
      const r = otp.release;
      const guard = await erl(`guard${r}`);
      assert.equal(await guard.evalText(`net_kernel:allow(['someone_else@127.0.0.1'])`), 'ok');
      const node = await Node.start({ name: `jsout${r}@127.0.0.1`, cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
      try {
        await assert.rejects(node.connect(`guard${r}@127.0.0.1`), (e: unknown) => {
          assert.ok(e instanceof HandshakeError, String(e));
          assert.equal(e.code, 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
          assert.equal(e.step, 'recv_status');
          return true;
        });
      } finally {
        await node.stop();
      }
    });
  });
}
