// The examples in examples/ run as their own processes against a real erl (host OTP) and do what
// their comments say.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { ErlNode, hostOtp, startEpmd, withTimeout, type Epmd } from '../support/otp.js';
import { runExample } from '../support/examples.js';

const otp = hostOtp();

describe(`examples against ${otp.label}`, () => {
  let epmd: Epmd;
  let erl: ErlNode;
  const cookie = `excookie${process.pid}`;
  const children: ChildProcess[] = [];
  const env = (name: string) => ({ ERL_EPMD_PORT: String(epmd.port), ERLANG_COOKIE: cookie, BEAMNODE_NAME: name });
  const start = (file: string, args: string[], name: string, extra: Record<string, string> = {}) => {
    const r = runExample(file, args, { ...env(name), ...extra });
    children.push(r.child);
    return r;
  };
  before(async () => {
    epmd = await startEpmd();
    erl = await ErlNode.start(otp, { name: 'exerl@127.0.0.1', cookie, epmdPort: epmd.port });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await erl?.stop();
    await epmd?.stop();
  });

  test(`${otp.label}: examples/ping.ts prints pong`, async () => {
    const r = start('ping.ts', ['exerl@127.0.0.1'], 'exping@127.0.0.1');
    assert.equal(await withTimeout(r.exit, 60_000, 'ping.ts'), 0, r.out());
    assert.match(r.out(), /^pong$/m);
  });

  test(`${otp.label}: examples/rpc.ts calls erl, and erl calls it back`, async () => {
    const r = start('rpc.ts', ['exerl@127.0.0.1'], 'exrpc@127.0.0.1', { BEAMNODE_WAIT: '20000' });
    await r.waitFor(/serving js:hello\/1/);
    assert.match(r.out(), new RegExp(`^otp_release: "?${otp.release}`, 'm'));
    assert.match(r.out(), /^lists:reverse: \[3,2,1\]$/m);
    assert.match(r.out(), /^badrpc: \{'EXIT',\{undef,/m);
    assert.equal(await erl.evalText(`rpc:call('exrpc@127.0.0.1', js, hello, [<<"erl">>])`), '<<"hello, erl">>');
    r.child.kill('SIGTERM');
    await withTimeout(r.exit, 10_000, 'rpc.ts exit');
  });

  test(`${otp.label}: examples/mailbox.ts echoes and stops on 'stop'`, async () => {
    const r = start('mailbox.ts', ['exerl@127.0.0.1'], 'exbox@127.0.0.1', { BEAMNODE_WAIT: '30000' });
    await r.waitFor(/send to \{mailbox/);
    assert.equal(await erl.evalText(`{mailbox, 'exbox@127.0.0.1'} ! {self(), hello}, receive {echo, E_} -> E_ after 10000 -> timeout end`), 'hello');
    await erl.evalText(`{mailbox, 'exbox@127.0.0.1'} ! stop, ok`);
    assert.equal(await withTimeout(r.exit, 20_000, 'mailbox.ts exit'), 0, r.out());
    assert.match(r.out(), /got \{io_reply,greeting,ok\}/);
    assert.match(r.out(), /got stop/);
  });

  test(`${otp.label}: examples/gen-server.ts counts for gen_server:call/cast and stops on 'stop'`, async () => {
    const r = start('gen-server.ts', [], 'excounter@127.0.0.1', { BEAMNODE_WAIT: '30000' });
    await r.waitFor(/gen_server:call\(\{counter/);
    const D = `{counter, 'excounter@127.0.0.1'}`;
    assert.equal(await erl.evalText(`gen_server:call(${D}, {add, 5})`), '5');
    assert.equal(await erl.evalText(`gen_server:call(${D}, {add, 2})`), '7');
    assert.equal(await erl.evalText(`gen_server:cast(${D}, reset), gen_server:call(${D}, get)`), '0');
    assert.equal(await erl.evalText(`gen_server:call(${D}, {slow, 50})`), 'done');
    await erl.evalText(`${D} ! stop, ok`);
    assert.equal(await withTimeout(r.exit, 20_000, 'gen-server.ts exit'), 0, r.out());
  });
});
