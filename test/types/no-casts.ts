/**
 * Type-level test, checked by `npm run typecheck` (strict) and by test/docs/snippets.test.ts:
 * README's library code written without a single cast. Each `@ts-expect-error` proves that a
 * narrowing is real (the line fails to compile without the guard), and `expectType` that a
 * result has exactly the type README promises. Never run: only compiled.
 */
import {
  Node,
  atom,
  tuple,
  isAtom,
  isBinary,
  isInteger,
  isList,
  isNumber,
  isPid,
  isRef,
  isTuple,
  formatTerm,
  ErlangException,
  type Atom,
  type Pid,
  type Reference,
  type Term,
  type Tuple,
  type Encodable,
  type GenServer,
  type RpcRegistration,
  type NodedownReason,
} from 'beamnode';
import { isTuple as isTupleFromEtf, formatTerm as formatFromEtf, type Encodable as EtfEncodable } from 'beamnode/etf';

/** Compiles only when `T` is exactly `Expected`. */
type Exactly<T, Expected> = [T] extends [Expected] ? ([Expected] extends [T] ? true : false) : false;
const expectType = <T>(_v: T) => <Expected>(_ok: Exactly<T, Expected>) => {};

export async function readmeWithoutCasts(node: Node, peer: string): Promise<void> {
  // node.ping gives 'pong' | 'pang'
  expectType(await node.ping(peer))<'pong' | 'pang'>(true);

  // rpc<T> typed by its guard: a Pid without `as Pid`
  const echoPid = await node.rpc(peer, 'erlang', 'whereis', [atom('echo')], { validate: isPid });
  expectType(echoPid)<Pid>(true);
  await node.link(echoPid);
  // without a guard the result is a Term, which link() refuses
  const unchecked = await node.rpc(peer, 'erlang', 'whereis', [atom('echo')]);
  expectType(unchecked)<Term>(true);
  // @ts-expect-error a Term is not a Pid
  await node.link(unchecked);

  // call<T> with a guard; read-only inputs are Encodable
  const answer = await node.call(['kv', peer], tuple(atom('get'), atom('x')), { validate: isInteger });
  expectType(answer)<number | bigint>(true);
  const args: readonly number[] = [1, 2, 3];
  expectType(await node.rpc(peer, 'lists', 'reverse', [args], { validate: (t) => isList(t, isNumber) }))<number[]>(true);

  // a JS gen_server whose handler narrows its request: no `as number`
  let count = 0;
  const server: GenServer = node.serve('counter', {
    call(req) {
      if (isTuple(req, 2, 'add')) {
        expectType(req.elements)<[Atom<'add'>, Term]>(true);
        const n = req.elements[1];
        // @ts-expect-error a Term is not a number until checked
        count += n;
        if (typeof n === 'number') count += n;
      }
      return count;
    },
    cast(msg) {
      if (isAtom(msg, 'reset')) count = 0;
    },
  });
  server.close();

  // rpc handlers narrow their arguments the same way
  const off: RpcRegistration = node.handleRpc('js', 'add', ([a, b]) => {
    if (!isNumber(a) || !isNumber(b)) throw new ErlangException('error', atom('badarg'));
    return a + b;
  });
  off();

  // receive and messages() typed by a guard as `match`
  const proc = node.spawn();
  const reply = await proc.receive({ timeout: 5000, match: (m) => isTuple(m, 2, 'echo') });
  expectType(reply)<Tuple<[Atom<'echo'>, Term]>>(true);
  for await (const m of proc.messages({ signal: AbortSignal.timeout(1000), match: (m) => isTuple(m, 3) })) {
    expectType(m.elements)<[Term, Term, Term]>(true);
    if (isBinary(m.elements[2])) expectType(m.elements[2].toString('utf8'))<string>(true);
    if (isRef(m.elements[0])) expectType(m.elements[0])<Reference>(true);
  }

  // nodedown: a short reason, then the error behind it
  node.on('nodedown', (name, reason, error) => {
    expectType(reason)<NodedownReason>(true);
    expectType(error)<Error | undefined>(true);
    console.log(name, reason, formatTerm(atom('x')));
  });

  // the same helpers from the codec entry point
  const t: Term = tuple(1, 2);
  if (isTupleFromEtf(t, 2)) expectType(t.elements)<[Term, Term]>(true);
  const input: EtfEncodable = { user: 'ada', tags: ['a', 'b'] as const };
  const same: Encodable = input;
  formatFromEtf(same);
}
