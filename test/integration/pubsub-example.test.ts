// examples/phoenix-chat-relay.ts as its own process against the Elixir node with the
// Phoenix.PubSub replica (phoenix-fixture.ts): a chat message broadcast on room:lobby by Elixir
// comes back on room:relay to an Elixir subscriber; `:stop` ends the example.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { hostOtp, startEpmd, withTimeout, type Epmd, type ErlNode } from '../support/otp.js';
import { runExample } from '../support/examples.js';
import { waitUntil } from '../support/wait.js';
import { startPhoenixLike } from './phoenix-fixture.js';

const otp = hostOtp();

describe(`examples/phoenix-chat-relay.ts against Elixir on ${otp.label}`, () => {
  let epmd: Epmd;
  let ex: ErlNode;
  let child: ChildProcess | undefined;
  const cookie = `relay_${process.pid}`;
  const exName = `exrelay${process.pid}@127.0.0.1`;
  const jsName = `jsrelay${process.pid}@127.0.0.1`;
  before(async () => {
    epmd = await startEpmd();
    ex = await startPhoenixLike(otp, { name: exName, cookie, epmdPort: epmd.port });
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await ex?.stop();
    await epmd?.stop();
  });

  test('relays room:lobby to room:relay and stops on :stop', async () => {
    const r = runExample('phoenix-chat-relay.ts', [exName], { ERL_EPMD_PORT: String(epmd.port), ERLANG_COOKIE: cookie, BEAMNODE_NAME: jsName, BEAMNODE_WAIT: '30000' });
    child = r.child;
    await r.waitFor(/relaying room:lobby -> room:relay/);
    await waitUntil(async () => (await ex.evalText(`length([P || P <- pg:get_members('Elixir.Phoenix.PubSub', 'Elixir.MyApp.PubSub.Adapter'), node(P) =:= '${jsName}'])`)) === '1', 'the relay joined the pool group', 15_000);
    await ex.evalText(`C = 'Elixir.Collector':start('Elixir.MyApp.PubSub', <<"room:relay">>), ok`);
    await ex.evalText(`ok = 'Elixir.Phoenix.PubSub':broadcast('Elixir.MyApp.PubSub', <<"room:lobby">>, {chat, <<"ann">>, <<"hi">>})`);
    assert.equal(await ex.evalText(`'Elixir.Collector':wait(C, 1)`), `[{relayed,'${jsName}',{chat,<<"ann">>,<<"hi">>}}]`);
    assert.match(r.out(), /chat \{chat,<<"ann">>,<<"hi">>\}/);
    await ex.evalText(`ok = 'Elixir.Phoenix.PubSub':broadcast('Elixir.MyApp.PubSub', <<"room:lobby">>, stop)`);
    assert.equal(await withTimeout(r.exit, 20_000, 'phoenix-chat-relay.ts exit'), 0, r.out());
  });
});
