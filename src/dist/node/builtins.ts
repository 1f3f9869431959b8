/**
 * The OTP services a peer expects every node to run, answered by JS processes: `net_kernel`
 * (net_adm:ping's `{is_auth, Node}` call must get `yes`; OTP lib/kernel/src/net_adm.erl), `rex`
 * (rpc:block_call's gen_server calls, the C-node `{call, M, F, A, GL}` form and features_request;
 * OTP lib/kernel/src/rpc.erl), and a few BIFs peers commonly rpc for.
 */
import { Atom, Pid, Tuple, atom, type Term } from '../../etf/types.js';
import { isTuple } from '../runtime/terms.js';
import { applyHandler, ErlangException, type RpcHandlers } from './erpc.js';
import { noReply } from './gen-server.js';
import type { Node } from './node.js';

const A = {
  yes: atom('yes'),
  netKernel: atom('net_kernel'),
  rex: atom('rex'),
  call: atom('call'),
  blockCall: atom('block_call'),
  featuresRequest: atom('features_request'),
  featuresReply: atom('features_reply'),
  erpc: atom('erpc'),
  badrpc: atom('badrpc'),
  EXIT: atom('EXIT'),
  undef: atom('undef'),
  jsError: atom('js_error'),
  undefined: atom('undefined'),
};

export function startBuiltins(node: Node, rpcHandlers: RpcHandlers): void {
  // Overridable with handleRpc: node/0, whereis/1, registered/0.
  node.handleRpc('erlang', 'node', () => node.atom);
  node.handleRpc('erlang', 'whereis', ([n]) => (n instanceof Atom ? (node.whereis(n)?.pid ?? A.undefined) : A.undefined));
  node.handleRpc('erlang', 'registered', () => node.runtime.registered());
  node.serve(A.netKernel, {
    call: (req) => (isTuple(req, 2, 'is_auth') ? A.yes : noReply),
  });
  node.serve(A.rex, {
    call: async (req) => {
      // {call, M, F, A, GL} and rpc:block_call's {block_call, M, F, A, GL}
      if (!(req instanceof Tuple) || req.length !== 5 || (req.elements[0] !== A.call && req.elements[0] !== A.blockCall)) return noReply;
      return rexApply(rpcHandlers, req.elements[1], req.elements[2], req.elements[3]);
    },
    info: async (msg) => {
      if (!(msg instanceof Tuple) || msg.length !== 2 || !(msg.elements[0] instanceof Pid)) return;
      const from = msg.elements[0];
      const body = msg.elements[1];
      if (body === A.featuresRequest) {
        await node.whereis(A.rex)?.send(from, new Tuple([A.featuresReply, node.atom, [A.erpc]]));
      } else if (body instanceof Tuple && body.length === 5 && body.elements[0] === A.call) {
        const r = await rexApply(rpcHandlers, body.elements[1], body.elements[2], body.elements[3]);
        await node.whereis(A.rex)?.send(from, new Tuple([A.rex, r]));
      }
    },
  });
}

/** rpc's answer for M:F(A): the value, or `{badrpc, {'EXIT', {Reason, Stack}}}`. */
async function rexApply(rpcHandlers: RpcHandlers, m: Term, f: Term, args: Term): Promise<Term> {
  const h = m instanceof Atom && f instanceof Atom ? rpcHandlers.get(m, f) : undefined;
  const argv = Array.isArray(args) ? args : [];
  const stack = [new Tuple([m, f, argv.length, []])];
  if (!h) return new Tuple([A.badrpc, new Tuple([A.EXIT, new Tuple([A.undef, stack])])]);
  try {
    return await applyHandler(h, m as Atom, f as Atom, argv);
  } catch (e) {
    if (e instanceof ErlangException && e.kind === 'throw') return e.reason;
    const reason = e instanceof ErlangException ? e.reason : new Tuple([A.jsError, Buffer.from(e instanceof Error ? e.message : String(e), 'utf8')]);
    return new Tuple([A.badrpc, new Tuple([A.EXIT, new Tuple([reason, stack])])]);
  }
}
