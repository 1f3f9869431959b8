/**
 * Ping a BEAM node from Node.js, as net_adm:ping/1 does (a gen_server call of {is_auth, Node} to
 * the peer's net_kernel), then wait for the peer to ping us back if it wants to.
 *
 *   erl -name erl@127.0.0.1 -setcookie secret
 *   node --import tsx examples/ping.ts erl@127.0.0.1            # or BEAMNODE_PEER=erl@127.0.0.1
 *
 * Env: ERLANG_COOKIE (else ~/.erlang.cookie, as erl reads it), BEAMNODE_NAME (our name, default
 * js@127.0.0.1), ERL_EPMD_PORT. From erl, `net_adm:ping('js@127.0.0.1')` gives pong while this runs.
 */
import { Node } from 'beamnode';

const peer = process.argv[2] ?? process.env.BEAMNODE_PEER;
if (!peer) {
  console.error('usage: node --import tsx examples/ping.ts <peer@host>');
  process.exit(2);
}

const node = await Node.start({ name: process.env.BEAMNODE_NAME ?? 'js@127.0.0.1' });
try {
  const answer = await node.ping(peer, { timeout: 5000 });
  console.log(answer);
  if (answer === 'pang') process.exitCode = 1;
} finally {
  await node.stop();
}
