// The default path answers and explains, against real erl of every OTP in the matrix: a void
// handler (handleRpc, serve) still answers its caller, a reply with no Erlang term becomes an
// error the caller sees, user decode options reach messages but never the node's own control,
// and a term we refuse drops the connection with a 'protocolError' event and a printed warning.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Tuple, atom } from '../../src/etf/types.js';
import { DecodeError } from '../../src/etf/errors.js';
import { Node } from '../../src/dist/node/node.js';
import { NodeError } from '../../src/dist/runtime/errors.js';
import { ProtocolError } from '../../src/dist/errors.js';
import { TimeoutError } from '../../src/errors.js';
import { register } from '../../src/epmd/client.js';
import { createServer, type Socket } from 'node:net';
import { otpMatrix, startEpmd } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

/** Collects the process warnings with one of our codes while the test runs. */
function collectWarnings(): { codes: string[]; messages: string[]; stop(): void } {
  const codes: string[] = [];
  const messages: string[] = [];
  const on = (w: Error & { code?: string }) => {
    if (w.name === 'BeamnodeWarning') {
      codes.push(w.code ?? '');
      messages.push(w.message);
    }
  };
  process.on('warning', on);
  return { codes, messages, stop: () => process.off('warning', on) };
}

/** Warnings are emitted on the next tick; wait (bounded) until `n` arrived. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

test('Node.start refuses decodeOptions.atomsAsStrings with a clear NodeError', async () => {
  await assert.rejects(Node.start({ name: 'jsatoms@127.0.0.1', cookie: 'x', epmd: { skip: true }, decodeOptions: { atomsAsStrings: true } }), (e: unknown) => {
    assert.ok(e instanceof NodeError);
    assert.equal(e.code, 'BEAM_ERR_NODE_BAD_OPTION');
    assert.match(e.message, /atomsAsStrings/);
    return true;
  });
});

test('an rpc whose connection cannot be made in time rejects with TimeoutError (phase connect), as a call deadline', async () => {
  // A "node" registered in a real epmd whose port accepts TCP and never says a word.
  const epmd = await startEpmd();
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const reg = await register({ alive: 'silent', port, epmdPort: epmd.port });
  const node = await Node.start({ name: 'jsdeadline@127.0.0.1', cookie: 'x', epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
  try {
    const e = await node.rpc('silent@127.0.0.1', 'erlang', 'node', [], { timeout: 500 }).then(
      () => assert.fail('resolved'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof TimeoutError, String(e));
    assert.equal(e.code, 'BEAM_ERR_TIMEOUT');
    assert.equal(e.phase, 'connect');
    assert.equal(e.peer, 'silent@127.0.0.1');
    const c = await node.call(['srv', 'silent@127.0.0.1'], atom('x'), { timeout: 300 }).then(
      () => assert.fail('resolved'),
      (x: unknown) => x,
    );
    assert.ok(c instanceof TimeoutError && c.phase === 'connect', String(c));
  } finally {
    await node.stop();
    await reg.close();
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await epmd.stop();
  }
});

for (const otp of otpMatrix()) {
  describe(`default-path answers with ${otp.label}`, () => {
    let p: Peers;
    const JS = () => `'${p.jsName}'`;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `erldef${otp.release}`, jsAlive: `jsdef${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: a void handleRpc handler answers 'ok' to rpc:call, erpc:call and rpc:block_call; one warning per handler`, async () => {
      const w = collectWarnings();
      try {
        let calls = 0;
        p.node.handleRpc('jsvoid', 'touch', () => {
          calls++;
        });
        assert.equal(await p.erl.evalText(`rpc:call(${JS()}, jsvoid, touch, [], 10000)`), 'ok');
        assert.equal(await p.erl.evalText(`erpc:call(${JS()}, jsvoid, touch, [], 10000)`), 'ok');
        assert.equal(await p.erl.evalText(`rpc:block_call(${JS()}, jsvoid, touch, [], 10000)`), 'ok');
        assert.equal(calls, 3);
        await waitFor(() => w.codes.includes('BEAMNODE_VOID_REPLY'), 'a BEAMNODE_VOID_REPLY warning');
        assert.equal(w.codes.filter((c) => c === 'BEAMNODE_VOID_REPLY').length, 1, w.messages.join('\n'));
        assert.match(w.messages.find((m) => /jsvoid:touch/.test(m)) ?? '', /handleRpc jsvoid:touch\/0 returned undefined/);
      } finally {
        w.stop();
      }
    });

    test(`${otp.label}: a handler value with no Erlang term gives the caller an error naming the handler (no hang)`, async () => {
      p.node.handleRpc('jsbad', 'obj', () => ({ a: undefined }) as never);
      const r = await p.erl.evalText(`rpc:call(${JS()}, jsbad, obj, [], 10000)`);
      assert.match(r, /^\{badrpc,\{'EXIT',\{\{js_error,<<"handleRpc jsbad:obj\/0 returned a value with no Erlang term/, r);
      const e = await p.erl.evalText(`try erpc:call(${JS()}, jsbad, obj, [], 10000) catch C:R -> {C, R} end`);
      assert.match(e, /^\{error,\{exception,\{js_error,<<"handleRpc jsbad:obj\/0/, e);
    });

    test(`${otp.label}: a void serve() call handler answers 'ok' to gen_server:call; a bad reply fails that call with js_error`, async () => {
      const w = collectWarnings();
      try {
        p.node.serve('jsvoidsrv', { call: () => {} });
        assert.equal(await p.erl.evalText(`gen_server:call({jsvoidsrv, ${JS()}}, hello, 5000)`), 'ok');
        assert.equal(await p.erl.evalText(`gen_server:call({jsvoidsrv, ${JS()}}, again, 5000)`), 'ok');
        await waitFor(() => w.messages.some((m) => /serve\(jsvoidsrv\)/.test(m)), 'a warning for jsvoidsrv');
        assert.equal(w.messages.filter((m) => /serve\(jsvoidsrv\)/.test(m)).length, 1);
        p.node.serve('jsbadsrv', { call: () => new Tuple([atom('x'), Symbol('no term') as never]) });
        const r = await p.erl.evalText(`catch gen_server:call({jsbadsrv, ${JS()}}, hello, 5000)`);
        assert.match(r, /^\{'EXIT',\{\{js_error,<<"serve\(jsbadsrv\) call handler returned a value with no Erlang term/, r);
        assert.ok(p.node.whereis('jsbadsrv')?.alive, 'the server goes on');
      } finally {
        w.stop();
      }
    });

    test(`${otp.label}: a term over the decode limit drops the connection with a protocolError (peer, part, offset, tag) and a warning`, async () => {
      const node = await Node.start({
        name: `jslim${otp.release}@127.0.0.1`,
        cookie: p.cookie,
        epmd: { port: p.epmd.port },
        listen: { address: '127.0.0.1' },
        decodeOptions: { limits: { maxTerms: 1000 } },
      });
      const w = collectWarnings();
      try {
        const jsName = node.name;
        node.register('sink', node.spawn());
        assert.equal(await p.erl.evalText(`net_adm:ping('${jsName}')`), 'pong');
        const reported = new Promise<ProtocolError>((r) => node.once('protocolError', r));
        const down = new Promise<Error | undefined>((r) => node.once('nodedown', (_n, _reason, error) => r(error)));
        await p.erl.evalText(`{sink, '${jsName}'} ! {big, lists:seq(1, 5000)}, ok`);
        const e = await reported;
        assert.equal(e.code, 'BEAM_ERR_DIST_UNDECODABLE');
        assert.equal(e.peer, p.erlName);
        assert.equal(e.part, 'message');
        assert.ok(typeof e.offset === 'number' && e.offset > 0, String(e.offset));
        assert.equal(typeof e.tag, 'number');
        assert.ok(e.cause instanceof DecodeError && e.cause.code === 'BEAM_ERR_ETF_LIMIT_TERMS', String(e.cause));
        assert.match(e.message, new RegExp(`^${p.erlName.replace(/\./g, '\\.')}: a message term we cannot decode: .*\\(BEAM_ERR_ETF_LIMIT_TERMS, tag \\d+ at byte \\d+\\)`));
        assert.equal(await down, e);
        await waitFor(() => w.codes.includes('BEAMNODE_PROTOCOL_ERROR'), 'a BEAMNODE_PROTOCOL_ERROR warning');
        assert.match(w.messages.find((m) => m.includes(p.erlName)) ?? '', /dropped its connection to .*maxTerms 1000/);
        // The peer can come back: the next message within the limit arrives.
        const sink = node.whereis('sink')!;
        await p.erl.evalText(`erlang:disconnect_node('${jsName}'), pong = net_adm:ping('${jsName}')`);
        await p.erl.evalText(`{sink, '${jsName}'} ! small, ok`);
        assert.equal(await sink.receive({ timeout: 10_000 }), atom('small'));
      } finally {
        w.stop();
        await node.stop();
      }
    });

    for (const hot of [true, false]) {
      test(`${otp.label}: binariesAsStrings + mapsAsObjects apply to messages only (${hot ? 'dist header' : 'pass-through'}): ping, rpc both ways and calls work`, async () => {
        const node = await Node.start({
          name: `jsmap${hot ? 'h' : 'p'}${otp.release}@127.0.0.1`,
          cookie: p.cookie,
          epmd: { port: p.epmd.port },
          listen: { address: '127.0.0.1' },
          atomCache: hot,
          fragments: hot,
          decodeOptions: { binariesAsStrings: true, mapsAsObjects: true },
        });
        try {
          const jsName = node.name;
          assert.equal(await p.erl.evalText(`net_adm:ping('${jsName}')`), 'pong');
          assert.equal(await node.rpc(p.erlName, 'erlang', 'list_to_binary', [[104, 105]]), 'hi');
          assert.deepEqual(await node.rpc(p.erlName, 'maps', 'from_list', [[new Tuple([atom('k'), 1])]]), { k: 1 });
          node.handleRpc('jsmap', 'echo', ([x]) => x);
          assert.equal(await p.erl.evalText(`rpc:call('${jsName}', jsmap, echo, [<<"bin">>], 10000)`), '<<"bin">>');
          node.serve('jsmapsrv', { call: (req) => new Tuple([atom('got'), req]) });
          assert.equal(await p.erl.evalText(`gen_server:call({jsmapsrv, '${jsName}'}, <<"req">>, 5000)`), '{got,<<"req">>}');
        } finally {
          await node.stop();
        }
      });
    }
  });
}
