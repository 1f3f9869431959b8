// Captured output against real erl on every OTP of the matrix: node.rpc(…, { output }) makes a JS
// I/O server the call's group leader, so io:format in the called code reaches the callback and
// not the peer's console; and the I/O server answers every request form of "The Erlang I/O
// Protocol" as erl sends it (put_chars with and without encoding, with chars or M:F:A, requests,
// gets answered eof, errors that make io:format raise as with any device).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Tuple, atom } from '../../src/etf/types.js';
import { startIoServer } from '../../src/dist/node/io-server.js';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

for (const otp of otpMatrix()) {
  describe(`captured output with ${otp.label}`, () => {
    let p: Peers;
    before(async () => {
      p = await startPeers(otp, { erlAlive: `outerl${otp.release}`, jsAlive: `outjs${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: io:format and io:put_chars in an rpc reach the output callback, not the peer's console`, async () => {
      const out: string[] = [];
      const r = await p.node.rpc(p.erlName, 'io', 'format', ['captured ~p ~s~n', [1, 'ab']], { output: (t) => out.push(t) });
      assert.equal(r, atom('ok'));
      assert.deepEqual(out, ['captured 1 ab\n']);
      await p.node.rpc(p.erlName, 'io', 'put_chars', [[0x263a, Buffer.from('ü', 'utf8'), [0x41]]], { output: (t) => out.push(t) });
      assert.equal(out[1], '☺üA');
      // Without `output`, the same call prints on the peer (its `user`).
      await p.node.rpc(p.erlName, 'io', 'format', ['on the console~n', []]);
      await p.erl.evalText('ok');
      assert.doesNotMatch(p.erl.logText(), /captured 1 ab/);
    });

    test(`${otp.label}: the I/O server answers every request form`, async () => {
      const out: string[] = [];
      const io = startIoServer(p.node, (t) => out.push(t));
      try {
        await p.erl.evalText('register(gl_test_shell, self())');
        await p.node.send(['gl_test_shell', p.erlName], new Tuple([atom('gl'), io.pid]));
        await p.erl.evalText(`GL = receive {gl, G} -> G after 5000 -> none end, Req = fun(R) -> Ref = make_ref(), GL ! {io_request, self(), Ref, R}, receive {io_reply, Ref, Rep} -> Rep after 10000 -> timeout end end, ok`);
        const cases: [string, string, string | undefined][] = [
          ['{put_chars, unicode, <<"uni ", 10003/utf8>>}', 'ok', 'uni ✓'],
          ['{put_chars, unicode, [<<"a">>, [$b, 10003] | <<"c">>]}', 'ok', 'ab✓c'],
          ['{put_chars, latin1, <<233>>}', 'ok', 'é'],
          ['{put_chars, latin1, [233, <<"x">>]}', 'ok', 'éx'],
          ['{put_chars, unicode, io_lib, format, ["~p~n", [{a, 1}]]}', 'ok', '{a,1}\n'],
          ['{put_chars, <<"old">>}', 'ok', 'old'],
          ['{put_chars, io_lib, format, ["~w", [old_mfa]]}', 'ok', 'old_mfa'],
          ['{requests, [{put_chars, unicode, <<"r1">>}, {put_chars, unicode, <<"r2">>}]}', 'ok', 'r1|r2'],
          ['{get_line, unicode, <<"> ">>}', 'eof', undefined],
          ['{get_chars, unicode, \'\', 3}', 'eof', undefined],
          ['{get_line, \'\'}', 'eof', undefined],
          ['{get_until, unicode, \'\', io_lib, collect_line, []}', 'eof', undefined],
          ['{put_chars, unicode, io_lib, format, ["~p", not_a_list]}', '{error,format}', undefined],
          ['{put_chars, unicode, [-1]}', '{error,{put_chars,unicode,[-1]}}', undefined],
          ['{setopts, [binary]}', '{error,enotsup}', undefined],
          ['{getopts}', '[{binary,false},{encoding,unicode}]', undefined],
          ['bogus', '{error,request}', undefined],
        ];
        for (const [req, reply, text] of cases) {
          out.length = 0;
          assert.equal(await p.erl.evalText(`Req(${req})`), reply, req);
          assert.equal(out.length ? out.join('|') : undefined, text, req);
        }
        // Through io's own API, which also picks the request form.
        assert.equal(await p.erl.evalText('io:format(GL, "~s ~w~n", ["via io", 7])'), 'ok');
        assert.equal(out.at(-1), 'via io 7\n');
        assert.equal(await p.erl.evalText('io:get_line(GL, "prompt> ")'), 'eof');
        assert.match(await p.erl.evalText('try io:format(GL, "~p", not_a_list) catch C:E -> {C, E} end'), /^\{error,badarg\}$/);
      } finally {
        io.close();
      }
      // A dead group leader: io:format raises terminated, as with any dead I/O server.
      assert.match(await p.erl.evalText('try io:format(GL, "x", []) catch C2:E2 -> {C2, E2} end'), /^\{error,terminated\}$/);
    });
  });
}
