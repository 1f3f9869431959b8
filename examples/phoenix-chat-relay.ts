/**
 * A Phoenix-style chat relay: subscribes to "room:lobby" on the cluster's Phoenix.PubSub and
 * relays every chat message to "room:relay" as `{relayed, JsNode, Msg}`, for every subscriber on
 * every node. The JS node stays hidden; it joins the PubSub's pg groups itself (docs/node.md).
 *
 *   iex --name app@127.0.0.1 --cookie secret -S mix phx.server       (any app with MyApp.PubSub)
 *   ERLANG_COOKIE=secret node --import tsx examples/phoenix-chat-relay.ts app@127.0.0.1
 *   (iex) Phoenix.PubSub.subscribe(MyApp.PubSub, "room:relay")
 *   (iex) Phoenix.PubSub.broadcast(MyApp.PubSub, "room:lobby", {:chat, "ann", "hi"})
 *   (iex) flush()            → {:relayed, :"js@127.0.0.1", {:chat, "ann", "hi"}}
 *   (iex) Phoenix.PubSub.broadcast(MyApp.PubSub, "room:lobby", :stop)   → the relay ends
 *
 * Env: ERLANG_COOKIE (else ~/.erlang.cookie), BEAMNODE_NAME, ERL_EPMD_PORT, BEAMNODE_PUBSUB (default MyApp.PubSub);
 * BEAMNODE_WAIT=<ms> bounds the run (default 60000).
 */
import { Node, Tuple, atom, formatTerm } from 'beamnode';

const peer = process.argv[2] ?? process.env.BEAMNODE_PEER ?? 'app@127.0.0.1';
const node = await Node.start({ name: process.env.BEAMNODE_NAME ?? 'js@127.0.0.1' });
await node.connect(peer);
const pubsub = node.phoenixPubSub(process.env.BEAMNODE_PUBSUB ?? 'MyApp.PubSub');
const lobby = await pubsub.subscribe('room:lobby', { strings: true }); // Elixir strings as JS strings
console.log(`${node.name}: relaying room:lobby -> room:relay`);
const deadline = setTimeout(() => lobby.unsubscribe(), Number(process.env.BEAMNODE_WAIT ?? 60_000));
for await (const msg of lobby) {
  console.log('chat', formatTerm(msg));
  if (msg === atom('stop')) break;
  await pubsub.broadcast('room:relay', new Tuple([atom('relayed'), node.atom, msg]));
}
clearTimeout(deadline);
await node.stop();
