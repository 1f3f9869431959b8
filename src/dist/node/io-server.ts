/**
 * A JS process that is an I/O server ("The Erlang I/O Protocol", OTP stdlib docs): made the group
 * leader of a process on another node (rpc's Gleader, a SPAWN_REQUEST's GroupLeader), it receives
 * that process's `io:format`/`io:put_chars` output as `{io_request, From, ReplyAs, Request}` and
 * answers `{io_reply, ReplyAs, Reply}`. Output goes to a JS callback as text.
 *
 * - `{put_chars, Enc, Chars}` and the old latin1 `{put_chars, Chars}`: Chars decoded as Enc.
 * - `{put_chars, Enc, M, F, A}` (what io:format sends: `io_lib, format, [Fmt, Args]`) and the old
 *   `{put_chars, M, F, A}`: M:F(A) is applied on the requester's node through rpc (its code, its
 *   formatting), as OTP's group.erl applies it locally; a failure answers `{error, F}` (io:format
 *   then raises badarg, as with any device).
 * - `{requests, [Req]}`: in order, stopping at the first error.
 * - get_chars / get_line / get_until (both forms): `eof` (there is no input). getopts: our opts;
 *   setopts, get_geometry: `{error, enotsup}`; anything else `{error, request}`.
 * Every request is answered (an unanswered one would hang the Erlang caller).
 */
import createDebug from 'debug';
import { Atom, ImproperList, Pid, Tuple, atom, type Term } from '../../etf/types.js';
import type { Process } from '../runtime/process.js';
import { formatTerm, isTuple } from '../runtime/terms.js';
import { rexCall, type CallContext } from './calls.js';

const log = createDebug('beamnode:dist:io');

const A = {
  ioRequest: atom('io_request'),
  ioReply: atom('io_reply'),
  ok: atom('ok'),
  eof: atom('eof'),
  error: atom('error'),
  enotsup: atom('enotsup'),
  request: atom('request'),
  unicode: atom('unicode'),
  latin1: atom('latin1'),
  binary: atom('binary'),
  encoding: atom('encoding'),
  putChars: atom('put_chars'),
};

const GETS = new Set(['get_chars', 'get_line', 'get_until', 'get_password']);

/** How long an M:F(A) put_chars may take to evaluate on the requester's node (ms). */
const APPLY_TIMEOUT = 30_000;

export interface IoServer {
  readonly process: Process;
  readonly pid: Pid;
  /** Ends the server: later requests get DOWN/`terminated` on the Erlang side, as with a dead group leader. */
  close(): void;
}

/** Starts an I/O server process whose output goes to `output` (one call per put_chars). */
export function startIoServer(ctx: CallContext, output: (text: string) => void): IoServer {
  const proc = ctx.runtime.spawn({ trapExit: true });
  void serve(ctx, proc, output);
  return { process: proc, pid: proc.pid, close: () => proc.close() };
}

async function serve(ctx: CallContext, proc: Process, output: (text: string) => void): Promise<void> {
  for await (const msg of proc) {
    if (!isTuple(msg, 4, 'io_request') || !(msg.elements[1] instanceof Pid)) continue; // EXITs and strays
    const [, from, replyAs, request] = msg.elements as [Term, Pid, Term, Term];
    let reply: Term;
    try {
      reply = await handle(ctx, from, request, output);
    } catch (e) {
      log('io request %s failed: %s', formatTerm(request), (e as Error).message);
      reply = new Tuple([A.error, A.request]);
    }
    void proc.send(from, new Tuple([A.ioReply, replyAs, reply])).catch(() => {});
  }
}

async function handle(ctx: CallContext, from: Pid, req: Term, output: (text: string) => void): Promise<Term> {
  if (!(req instanceof Tuple) || !(req.elements[0] instanceof Atom)) return new Tuple([A.error, A.request]);
  const e = req.elements;
  const op = (e[0] as Atom).name;
  if (op === 'put_chars') {
    // {put_chars, Enc, Chars} | {put_chars, Enc, M, F, A} | old: {put_chars, Chars} | {put_chars, M, F, A}
    const withEnc = e[1] === A.unicode || e[1] === A.latin1;
    const enc = withEnc ? (e[1] as Atom) : A.latin1;
    const rest = withEnc ? e.slice(2) : e.slice(1);
    let chars: Term;
    if (rest.length === 1) {
      chars = rest[0];
    } else if (rest.length === 3 && rest[0] instanceof Atom && rest[1] instanceof Atom && Array.isArray(rest[2])) {
      try {
        // Through rex with `user` as group leader: a spawn would need one, and this server is busy.
        chars = await rexCall(ctx, from.node, rest[0], rest[1], rest[2], { timeout: APPLY_TIMEOUT });
      } catch (err) {
        log('%s:%s/%d for %s failed: %s', rest[0].name, rest[1].name, rest[2].length, String(from), (err as Error).message);
        return new Tuple([A.error, rest[1]]);
      }
    } else {
      return new Tuple([A.error, A.request]);
    }
    const text = chardataToString(chars, enc === A.unicode);
    if (text === undefined) return new Tuple([A.error, new Tuple([A.putChars, enc, chars])]);
    try {
      output(text);
    } catch (err) {
      log('output callback threw: %s', (err as Error).message);
    }
    return A.ok;
  }
  if (op === 'requests' && req.length === 2 && Array.isArray(e[1])) {
    let last: Term = A.ok;
    for (const r of e[1]) {
      last = await handle(ctx, from, r, output);
      if (isTuple(last, 2, 'error')) break;
    }
    return last;
  }
  if (GETS.has(op)) return A.eof;
  if (op === 'getopts') return [new Tuple([A.binary, false]), new Tuple([A.encoding, A.unicode])];
  return new Tuple([A.error, op === 'setopts' || op === 'get_geometry' ? A.enotsup : A.request]);
}

/**
 * Erlang chardata (unicode) or iodata (latin1) to text: nested lists of code points / bytes and
 * binaries (UTF-8 or latin1), improper tails allowed. Undefined if it is not valid chardata.
 */
export function chardataToString(t: Term, unicode: boolean): string | undefined {
  const out: string[] = [];
  const stack: Term[] = [t];
  let budget = 10_000_000; // bounds a hostile deep or huge term
  while (stack.length) {
    if (--budget < 0) return undefined;
    const x = stack.pop() as Term;
    if (typeof x === 'number') {
      if (!Number.isInteger(x) || x < 0 || x > (unicode ? 0x10ffff : 0xff) || (x >= 0xd800 && x <= 0xdfff)) return undefined;
      out.push(String.fromCodePoint(x));
    } else if (x instanceof Uint8Array) {
      out.push(Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString(unicode ? 'utf8' : 'latin1'));
    } else if (typeof x === 'string') {
      out.push(x); // a binary the decoder already made text
    } else if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]);
    } else if (x instanceof ImproperList) {
      stack.push(x.tail);
      for (let i = x.elements.length - 1; i >= 0; i--) stack.push(x.elements[i]);
    } else {
      return undefined;
    }
  }
  return out.join('');
}
