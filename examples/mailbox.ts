/**
 * A JS process with a registered name: Erlang sends to `{mailbox, 'js@127.0.0.1'}`, the process
 * answers `{Pid, Msg}` with `{echo, Msg}` and prints everything; it also monitors the peer's
 * `user` process (an Erlang DOWN arrives if that node stops) and sends it a greeting.
 *
 *   erl -name erl@127.0.0.1 -setcookie secret
 *   ERLANG_COOKIE=secret node --import tsx examples/mailbox.ts erl@127.0.0.1
 *   (erl) {mailbox, 'js@127.0.0.1'} ! {self(), hello}, flush().   → {echo,hello}
 *   (erl) {mailbox, 'js@127.0.0.1'} ! stop.
 *
 * Env as in ping.ts; BEAMNODE_WAIT=<ms> bounds the run (default 60000).
 */
import { Node, Pid, Tuple, atom, formatTerm } from 'beamnode';

const peer = process.argv[2] ?? process.env.BEAMNODE_PEER;
const node = await Node.start({ name: process.env.BEAMNODE_NAME ?? 'js@127.0.0.1' });
const box = node.spawn();
box.register('mailbox');
console.log(`${node.name}: send to {mailbox, '${node.name}'}; 'stop' ends`);
if (peer) {
  const ref = box.monitor([atom('user'), atom(peer)]);
  console.log(`monitoring {user, ${peer}} (${String(ref)})`);
  await box.send([atom('user'), atom(peer)], new Tuple([atom('io_request'), box.pid, atom('greeting'), new Tuple([atom('put_chars'), atom('unicode'), `hello from ${node.name}\n`])]));
}
const deadline = setTimeout(() => box.close(), Number(process.env.BEAMNODE_WAIT ?? 60_000));
for await (const msg of box) {
  console.log('got', formatTerm(msg));
  if (msg === atom('stop')) break;
  if (msg instanceof Tuple && msg.length === 2 && msg.elements[0] instanceof Pid) {
    await box.send(msg.elements[0], new Tuple([atom('echo'), msg.elements[1]]));
  }
}
clearTimeout(deadline);
await node.stop();
