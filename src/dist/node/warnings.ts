/**
 * What the node tells its user without `DEBUG`: a peer's connection dropped for bytes we refuse,
 * a handler whose value cannot be the reply. These go through `process.emitWarning` (type
 * `BeamnodeWarning`, a stable `code`), as Node.js libraries report runtime conditions: printed to
 * stderr once per occurrence by default, silenced by `--no-warnings`, and observable with
 * `process.on('warning')`. The rest stays in `debug` (`DEBUG=beamnode:*`).
 */
import { EncodeError } from '../../etf/errors.js';
import { encode } from '../../etf/encode.js';
import { atom, type Term } from '../../etf/types.js';

export type BeamnodeWarningCode =
  | 'BEAMNODE_PROTOCOL_ERROR'
  | 'BEAMNODE_VOID_REPLY'
  | 'BEAMNODE_BAD_REPLY'
  | 'BEAMNODE_NO_CALL_HANDLER'
  | 'BEAMNODE_HANDLER_THREW'
  | 'BEAMNODE_SERVER_GAVE_UP';

export function warn(message: string, code: BeamnodeWarningCode): void {
  process.emitWarning(message, { type: 'BeamnodeWarning', code });
}

const warned = new WeakMap<object, Set<BeamnodeWarningCode>>();

/** Warns once per handler (`key`: the handler function or handlers object) and code. */
export function warnOnce(key: object, message: string, code: BeamnodeWarningCode): void {
  let codes = warned.get(key);
  if (!codes) warned.set(key, (codes = new Set()));
  if (codes.has(code)) return;
  codes.add(code);
  warn(message, code);
}

/** What a handler that returns `undefined` (a void function) answers: the atom `ok`. */
export const VOID_REPLY = atom('ok');

/**
 * The reply for a handler's value. `undefined` (a function without `return`) becomes the atom
 * `ok`, as Erlang functions run for their effect answer, and is reported once per handler; the
 * caller always gets an answer instead of waiting for one that never comes.
 */
export function replyOf(value: Term | undefined, key: object, handler: string): Term {
  if (value !== undefined) return value;
  warnOnce(key, `${handler} returned undefined: the caller gets the atom 'ok' (return a value to choose the reply)`, 'BEAMNODE_VOID_REPLY');
  return VOID_REPLY;
}

/**
 * Throws (naming the handler) when `value` has no Erlang term: a reply that fails to encode on the
 * connection would leave the remote caller waiting forever (rpc:call has no timeout). This costs
 * one extra encoding of the reply, paid only on the rpc paths.
 */
export function checkEncodable(value: Term, key: object, handler: string): void {
  try {
    encode(value);
  } catch (e) {
    if (!(e instanceof EncodeError)) throw e;
    const text = `${handler} returned a value with no Erlang term: ${e.message}`;
    warnOnce(key, `${text}; the caller gets an error`, 'BEAMNODE_BAD_REPLY');
    throw new Error(text, { cause: e });
  }
}
