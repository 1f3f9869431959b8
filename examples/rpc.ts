/**
 * rpc:call from Node.js to a BEAM node (through its `rex` server), and the other way round: a JS
 * function Erlang can reach with rpc:call/erpc:call while this runs.
 *
 *   erl -name erl@127.0.0.1 -setcookie secret
 *   ERLANG_COOKIE=secret node --import tsx examples/rpc.ts erl@127.0.0.1
 *   (erl) rpc:call('js@127.0.0.1', js, hello, [<<"erl">>]).   → <<"hello, erl">>
 *
 * Env as in ping.ts; BEAMNODE_WAIT=<ms> keeps the node up that long for calls from erl (default 0).
 */
import { Node, RpcError, atom, formatTerm, isList, isNumber } from 'beamnode';

const peer = process.argv[2] ?? process.env.BEAMNODE_PEER;
if (!peer) {
  console.error('usage: node --import tsx examples/rpc.ts <peer@host>');
  process.exit(2);
}

const node = await Node.start({ name: process.env.BEAMNODE_NAME ?? 'js@127.0.0.1' });
node.handleRpc('js', 'hello', ([who]) => `hello, ${String(who)}`);
try {
  // Erlang strings are lists of character codes.
  const release = await node.rpc(peer, 'erlang', 'system_info', [atom('otp_release')], { validate: (t) => isList(t, isNumber) });
  console.log('otp_release:', String.fromCharCode(...release));
  console.log('lists:reverse:', formatTerm(await node.rpc(peer, 'lists', 'reverse', [[1, 2, 3]])));
  try {
    await node.rpc(peer, 'no_such_module', 'f', []);
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    console.log('badrpc:', formatTerm(e.reason));
  }
  const wait = Number(process.env.BEAMNODE_WAIT ?? 0);
  if (wait > 0) {
    console.log(`serving js:hello/1 for ${wait} ms`);
    await new Promise((r) => setTimeout(r, wait));
  }
} finally {
  await node.stop();
}
