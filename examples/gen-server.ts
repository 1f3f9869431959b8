/**
 * A gen_server written in JS that Erlang and Elixir call: a counter registered as `counter`.
 *
 *   ERLANG_COOKIE=secret node --import tsx examples/gen-server.ts
 *   (erl)    gen_server:call({counter, 'js@127.0.0.1'}, {add, 5}).    → 5
 *   (erl)    gen_server:cast({counter, 'js@127.0.0.1'}, reset).
 *   (elixir) GenServer.call({:counter, :"js@127.0.0.1"}, :get)
 *   (erl)    gen_server:call({counter, 'js@127.0.0.1'}, {slow, 100}). → answered later (noReply + from.reply)
 *   (erl)    {counter, 'js@127.0.0.1'} ! stop.                          → the example ends
 *
 * Env: ERLANG_COOKIE (else ~/.erlang.cookie, as erl reads it), BEAMNODE_NAME, ERL_EPMD_PORT; BEAMNODE_WAIT=<ms> bounds the run (default 60000).
 */
import { Node, atom, formatTerm, isTuple, noReply } from 'beamnode';

const node = await Node.start({ name: process.env.BEAMNODE_NAME ?? 'js@127.0.0.1' });
let count = 0;
const server = node.serve('counter', {
  call(req, from) {
    if (req === atom('get')) return count;
    if (isTuple(req, 2, 'add') && typeof req.elements[1] === 'number') return (count += req.elements[1]);
    if (isTuple(req, 2, 'slow') && typeof req.elements[1] === 'number') {
      setTimeout(() => void from.reply(atom('done')), req.elements[1]);
      return noReply;
    }
    return atom('unknown_request');
  },
  cast(msg) {
    if (msg === atom('reset')) count = 0;
  },
  info(msg) {
    console.log('info', formatTerm(msg));
    if (msg === atom('stop')) server.stop(); // {counter, 'js@127.0.0.1'} ! stop
  },
});
node.on('nodeup', (n) => console.log('nodeup', n));
node.on('nodedown', (n) => console.log('nodedown', n));
console.log(`${node.name}: gen_server:call({counter, '${node.name}'}, get)`);
const deadline = setTimeout(() => server.stop(), Number(process.env.BEAMNODE_WAIT ?? 60_000));
await server.process.exited;
clearTimeout(deadline);
await node.stop();
