// TLS distribution against real erl started with `-proto_dist inet_tls -ssl_dist_optfile F`
// (verify_peer both ways, fail_if_no_peer_cert on erl's acceptor), certificates made here by the
// openssl CLI: erl dials us and we dial erl over TLS; erl refuses our certificate when another CA
// signed it; we refuse erl's likewise (both directions); a plain-TCP dialer is refused while the
// node keeps serving. EPMD stays plain TCP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { DistError, HandshakeError } from '../../src/dist/errors.js';
import { Node } from '../../src/dist/node/node.js';
import { Tuple, atom } from '../../src/etf/types.js';
import { ErlNode, otpMatrix, sharedTmpDir, startEpmd, type Epmd, type Otp } from '../support/otp.js';
import { pki, type Pki } from './tls-certs.js';

const COOKIE = 'tls_cookie';

/** An ssl_dist_optfile as erl reads it (paths as erl sees them). */
function optfile(erlDir: string, name: string, ca: string): string {
  const f = (x: string) => JSON.stringify(`${erlDir}/${x}`);
  const common = `{certfile, ${f(`${name}.pem`)}}, {keyfile, ${f(`${name}.key`)}}, {cacertfile, ${f(`${ca}.pem`)}}, {verify, verify_peer}, {secure_renegotiate, true}`;
  return `[{server, [${common}, {fail_if_no_peer_cert, true}]}, {client, [${common}]}].\n`;
}

for (const otp of otpMatrix()) {
  describe(`TLS distribution with ${otp.label}`, () => {
    let epmd: Epmd;
    let dir: ReturnType<typeof sharedTmpDir>;
    let certs: Pki;
    let node: Node;
    const erls: ErlNode[] = [];
    const tlsFor = (name: string, ca = 'ca') => ({ cert: certs.read(`${dir.hostPath}/${name}.pem`), key: certs.read(`${dir.hostPath}/${name}.key`), ca: certs.read(`${dir.hostPath}/${ca}.pem`) });
    const erlTls = async (alive: string, certName: string, ca = 'ca') => {
      const file = `${alive}.conf`;
      writeFileSync(`${dir.hostPath}/${file}`, optfile(dir.erlPath, certName, ca));
      const e = await ErlNode.start(otp, {
        name: `${alive}@127.0.0.1`,
        cookie: COOKIE,
        epmdPort: epmd.port,
        args: ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', `${dir.erlPath}/${file}`, '-kernel', 'inet_dist_use_interface', '{127,0,0,1}'],
      });
      erls.push(e);
      return e;
    };

    before(async () => {
      epmd = await startEpmd();
      dir = sharedTmpDir(otp);
      certs = pki(dir.hostPath);
      certs.ca('ca');
      certs.ca('rogueca');
      certs.leaf('erl', 'ca');
      certs.leaf('js', 'ca');
      certs.leaf('rogue', 'rogueca');
      node = await Node.start({ name: `jstls${otp.release}@127.0.0.1`, cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' }, tls: tlsFor('js') });
      node.handleRpc('js', 'hello', ([x]) => new Tuple([atom('hi'), x ?? atom('none')]));
    });
    after(async () => {
      await node?.stop();
      for (const e of erls) await e.stop();
      await epmd?.stop();
      dir?.remove();
    });

    test(`${otp.label}: erl (inet_tls, verify_peer + fail_if_no_peer_cert) dials us over TLS: ping, rpc into JS`, async () => {
      const erl = await erlTls(`erltls${otp.release}`, 'erl');
      assert.equal(await erl.evalText(`net_adm:ping('${node.name}')`), 'pong');
      assert.equal(await erl.evalText(`rpc:call('${node.name}', js, hello, [42])`), '{hi,42}');
      // erl really runs TLS distribution on this connection.
      assert.match(await erl.evalText(`element(2, init:get_argument(proto_dist))`), /inet_tls/);
      assert.ok(node.nodes().includes(`erltls${otp.release}@127.0.0.1`));
    });

    test(`${otp.label}: we dial erl over TLS and verify its certificate against our CA`, async () => {
      const erl = await erlTls(`erltls2${otp.release}`, 'erl');
      const peer = `erltls2${otp.release}@127.0.0.1`;
      assert.equal(await node.rpc(peer, 'erlang', 'node', []), atom(peer));
      // erl's own view of the connection: protocol tls (net_address record), hidden.
      const info = await erl.evalText(`{ok, I__} = net_kernel:node_info('${node.name}'), {element(4, proplists:get_value(address, I__)), proplists:get_value(type, I__)}`);
      assert.equal(info, '{tls,hidden}');
    });

    test(`${otp.label}: erl refuses a client certificate from another CA; we refuse erl's certificate from another CA`, async () => {
      const erl = await erlTls(`erltls3${otp.release}`, 'erl');
      const peer = `erltls3${otp.release}@127.0.0.1`;
      // Our certificate is signed by a CA erl does not trust: erl's TLS server refuses us.
      const rogueUs = await Node.start({ name: `jsrogue${otp.release}@127.0.0.1`, cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' }, tls: { ...tlsFor('rogue', 'ca') } });
      try {
        await assert.rejects(rogueUs.connect(peer), (e: unknown) => {
          assert.ok(e instanceof DistError || e instanceof HandshakeError, String(e));
          // erl's alert (unknown CA) comes during the TLS handshake; with TLS 1.3 it could come just after it.
          assert.ok(['BEAM_ERR_DIST_TLS', 'BEAM_ERR_HANDSHAKE_CLOSED'].includes(e.code), `${e.code}: ${e.message}`);
          assert.doesNotMatch(e.message, new RegExp(COOKIE));
          return true;
        });
        assert.equal(await erl.evalText(`lists:member('${rogueUs.name}', nodes(hidden))`), 'false');
      } finally {
        await rogueUs.stop();
      }
      // erl with a certificate from a CA we do not trust: we refuse it both ways.
      const rogueErl = await erlTls(`erlrogue${otp.release}`, 'rogue', 'ca');
      const roguePeer = `erlrogue${otp.release}@127.0.0.1`;
      await assert.rejects(node.connect(roguePeer), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_DIST_TLS' && /certificate|UNABLE|SELF_SIGNED/i.test(e.message));
      const refused = new Promise<Error>((r) => node.once('handshakeFailed', (e) => r(e)));
      assert.equal(await rogueErl.evalText(`net_adm:ping('${node.name}')`), 'pang');
      const e = await refused;
      assert.ok(e instanceof DistError && e.code === 'BEAM_ERR_DIST_TLS', `${e}`);
      // And the node still serves the good one.
      assert.equal(await erl.evalText(`net_adm:ping('${node.name}')`), 'pong');
    });

    test(`${otp.label}: a plain-TCP dialer is refused by the TLS node, which keeps serving`, async () => {
      const erl = await ErlNode.start(otp, { name: `erlplain${otp.release}@127.0.0.1`, cookie: COOKIE, epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
      erls.push(erl);
      const refused = new Promise<Error>((r) => node.once('handshakeFailed', (e) => r(e)));
      assert.equal(await erl.evalText(`net_adm:ping('${node.name}')`), 'pang');
      assert.ok((await refused) instanceof DistError);
      // raw garbage on the TLS port
      await new Promise<void>((resolve) => {
        const s = connect(node.port, '127.0.0.1', () => s.end(Buffer.from('GET / HTTP/1.0\r\n\r\n')));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.resume();
      });
      const good = erls.find((x) => x.name === `erltls${otp.release}@127.0.0.1`) ?? (await erlTls(`erltls4${otp.release}`, 'erl'));
      assert.equal(await good.evalText(`net_adm:ping('${node.name}')`), 'pong');
    });
  });
}

test('two beamnode nodes over TLS (4-byte handshake framing both ways): rpc, and a node without a trusted certificate is refused', async () => {
  const epmd = await startEpmd();
  const dir = sharedTmpDir(otpMatrix()[0]);
  const certs = pki(dir.hostPath);
  certs.ca('ca');
  certs.ca('other');
  certs.leaf('a', 'ca');
  certs.leaf('b', 'ca');
  certs.leaf('c', 'other');
  const tls = (n: string) => ({ cert: certs.read(`${dir.hostPath}/${n}.pem`), key: certs.read(`${dir.hostPath}/${n}.key`), ca: certs.read(`${dir.hostPath}/ca.pem`) });
  const start = (alive: string, cert: string) => Node.start({ name: `${alive}@127.0.0.1`, cookie: COOKIE, epmd: { port: epmd.port }, listen: { address: '127.0.0.1' }, tls: tls(cert) });
  const a = await start('tlsa', 'a');
  const b = await start('tlsb', 'b');
  const c = await start('tlsc', 'c');
  try {
    b.handleRpc('m', 'f', ([x]) => x);
    assert.equal(await a.rpc(b.name, 'm', 'f', [atom('over_tls')]), atom('over_tls'));
    const refused = new Promise<Error>((r) => b.once('handshakeFailed', (e) => r(e)));
    await assert.rejects(c.connect(b.name), (e: unknown) => e instanceof DistError || e instanceof HandshakeError);
    assert.ok((await refused) instanceof DistError);
    assert.ok(!b.nodes().includes(c.name));
  } finally {
    await a.stop();
    await b.stop();
    await c.stop();
    await epmd.stop();
    dir.remove();
  }
});
