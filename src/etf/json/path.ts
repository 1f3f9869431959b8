/**
 * Where an encode failed: `$.items[3].at`. The encoder's hot path keeps no path; when it throws,
 * `withPath` walks the same input again, slowly, to the first value that cannot be encoded on its
 * own (or the container that fails although its parts do: a cycle, a duplicate key), and puts
 * that path in the error's message and `path`. Paid only on failure.
 */
import { EncodeError } from '../errors.js';
import { Atom, ImproperList, Tuple, type Term } from '../types.js';

/** Encodes one value or throws: the encoder itself, passed in (encode.ts calls this file). */
export type EncodeCheck = (t: Term, minorVersion: 1 | 2) => void;

/** `'term'`: the encoder's own mapping; `'json'`: JSON mode's (undefined fields left out, null is nil). */
export type PathMode = 'term' | 'json';

let walking = false;
const IDENT = /^[A-Za-z_$][\w$]*$/;
const MAX_DEPTH = 10_000;

/** `e` with the path of the first unencodable value under `root`; other errors unchanged. */
export function withPath(e: unknown, root: unknown, check: EncodeCheck, mode: PathMode = 'term', minorVersion: 1 | 2 = 2): unknown {
  if (walking || !(e instanceof EncodeError) || e.path !== undefined) return e;
  walking = true; // encode() below fails again on the culprit: no path for those inner errors
  try {
    const found = locate(root, check, mode, minorVersion);
    if (!found) return e;
    const err = new EncodeError(e.code, `${e.message} at ${found.path}`, { cause: e.cause ?? e });
    err.path = found.path;
    return err;
  } catch {
    return e; // never hide the original error behind one of ours
  } finally {
    walking = false;
  }
}

/**
 * `e` with its path found again under `root`: the value the caller passed, when the encoder saw it
 * inside an envelope (a gen_server call, an rpc's argument list, a message split for the atom
 * cache), so the path names the caller's own field whatever the wire did around it.
 */
export function rebasePath(e: unknown, root: unknown, check: EncodeCheck, mode: PathMode = 'term'): unknown {
  if (walking || !(e instanceof EncodeError)) return e;
  const base = e.path !== undefined && e.message.endsWith(` at ${e.path}`) ? e.message.slice(0, -` at ${e.path}`.length) : e.message;
  const bare = new EncodeError(e.code, base, { cause: e.cause ?? e });
  const found = withPath(bare, root, check, mode);
  return found instanceof EncodeError && found.path !== undefined ? found : e;
}

interface Found {
  path: string;
}

function locate(root: unknown, check: EncodeCheck, mode: PathMode, minor: 1 | 2): Found | undefined {
  const ancestors = new Set<object>();
  const leafFails = (v: unknown): boolean => {
    try {
      check((mode === 'json' && (v === null || v === undefined) ? Atom.of('nil') : v) as Term, minor);
      return false;
    } catch {
      return true;
    }
  };
  const visit = (v: unknown, path: string, depth: number): Found | undefined => {
    const kids = children(v, mode);
    if (!kids) {
      if (!leafFails(v)) return undefined;
      // JSON mode sends a Date (any toJSON) as its toJSON value: look there.
      const toJSON = mode === 'json' && depth < MAX_DEPTH ? (v as { toJSON?: unknown } | undefined)?.toJSON : undefined;
      return typeof toJSON === 'function' ? visit((toJSON as () => unknown).call(v), path, depth + 1) : { path };
    }
    if (ancestors.has(v as object)) return { path: `${path} (a cycle)` };
    if (depth >= MAX_DEPTH) return { path: `${path} (${MAX_DEPTH} levels deep)` };
    ancestors.add(v as object);
    for (const [seg, child] of kids) {
      const f = visit(child, path + seg, depth + 1);
      if (f) return f;
    }
    ancestors.delete(v as object);
    return undefined;
  };
  const f = visit(root, '$', 0);
  if (f) return f;
  // Every part encodes but the whole does not (duplicate map keys…): the root is the culprit.
  return { path: '$' };
}

/** The parts of a container as [path segment, value], or undefined for a leaf. */
function children(v: unknown, mode: PathMode): [string, unknown][] | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x, i) => [`[${i}]`, x]);
  if (v instanceof Tuple) return v.elements.map((x: unknown, i: number): [string, unknown] => [`{${i}}`, x]);
  if (v instanceof ImproperList) return [...v.elements.map((x, i): [string, unknown] => [`[${i}]`, x]), ['.tail', v.tail]];
  if (v instanceof Map) {
    const out: [string, unknown][] = [];
    for (const [k, x] of v) out.push([`<key ${keyLabel(k)}>`, k], [keySegment(k), x]);
    return out;
  }
  const k = (v as object).constructor;
  if (k !== Object && k !== undefined) return undefined;
  const out: [string, unknown][] = [];
  for (const key of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[key];
    if (mode === 'json' && x === undefined) continue;
    out.push([keySegment(key), x]);
  }
  return out;
}

function keySegment(k: unknown): string {
  if (typeof k === 'string') return IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  return `[${keyLabel(k)}]`;
}

function keyLabel(k: unknown): string {
  if (typeof k === 'string') return JSON.stringify(k);
  if (k instanceof Atom) return k.name;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  if (k === null || k === undefined) return String(k);
  return typeof k === 'object' ? `a ${(k as object).constructor?.name ?? 'null-prototype'} object` : typeof k;
}
