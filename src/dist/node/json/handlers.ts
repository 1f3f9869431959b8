/**
 * JSON mode for handlers (docs/node.md, "JSON mode"): a `serve` or `handleRpc` handler written
 * for JSON values is wrapped so that what it is given goes through toJson and what it answers
 * through fromJson. The gen_server and erpc envelopes themselves stay terms: only the request,
 * the cast, the info message, the rpc arguments and the reply are converted.
 */
import { fromJson, jsonOptions, toJson, type JsonInput, type JsonMode, type JsonOptions, type JsonTerm } from '../../../etf/json/convert.js';
import type { Term } from '../../../etf/types.js';
import { noReply, type From, type ServerHandlers } from '../gen-server.js';
import type { RpcHandler } from '../erpc.js';

/** The caller of a JSON-mode call: `reply` takes a JSON value. */
export interface JsonFrom extends Omit<From, 'reply'> {
  reply(value: JsonInput): Promise<void>;
}

/** ServerHandlers for `serve(name, handlers, { json })`: JSON values in, JSON values out. */
export interface JsonServerHandlers {
  call?(request: JsonTerm, from: JsonFrom): JsonInput | void | typeof noReply | Promise<JsonInput | void | typeof noReply>;
  cast?(msg: JsonTerm): void | Promise<void>;
  /** Any other message, converted whole (`{'EXIT', …}` arrives as a Tuple starting with the string 'EXIT'). */
  info?(msg: JsonTerm): void | Promise<void>;
}

/** An rpc handler for `handleRpc(m, f, handler, { json })`: JSON arguments, a JSON value back. */
export type JsonRpcHandler = (args: JsonTerm[]) => JsonInput | void | Promise<JsonInput | void>;

/** The mode a call, process or handler runs in: its own option, else the node's. */
export function modeOf(own: JsonMode | undefined, nodeDefault: JsonOptions | undefined): JsonOptions | undefined {
  return own === undefined ? nodeDefault : jsonOptions(own);
}

/** `undefined` stays undefined (the handler's void reply, answered `ok` as without JSON mode). */
const replyValue = (v: JsonInput | void, o: JsonOptions): Term | undefined => (v === undefined ? undefined : fromJson(v, o));

export function jsonServerHandlers(h: JsonServerHandlers, o: JsonOptions): ServerHandlers {
  const out: ServerHandlers = {};
  const { call, cast, info } = h;
  if (call) {
    out.call = async (request: Term, from: From) => {
      const jsonFrom: JsonFrom = { pid: from.pid, tag: from.tag, reply: (v) => from.reply(fromJson(v, o)), fail: (e) => from.fail(e) };
      const r = await call.call(h, toJson(request), jsonFrom);
      return r === noReply ? noReply : replyValue(r, o);
    };
  }
  if (cast) out.cast = (msg: Term) => cast.call(h, toJson(msg));
  if (info) out.info = (msg: Term) => info.call(h, toJson(msg));
  return out;
}

export function jsonRpcHandler(h: JsonRpcHandler, o: JsonOptions): RpcHandler {
  return async (args: Term[]) => replyValue(await h(args.map(toJson)), o);
}
