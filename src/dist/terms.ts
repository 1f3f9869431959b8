/**
 * Small helpers over terms that the Node layer needs and the codec does not give: a bounded
 * Erlang-like printer (for errors and logs), structural equality (`=:=`), and keys for Maps.
 */
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, Pid, Port, Reference, Tuple, atom, type Term } from '../etf/types.js';

/** A Map key equal for equal pids. */
export const pidKey = (p: Pid): string => `${p.node.name}|${p.id}|${p.serial}|${p.creation}`;

/** True when `t` is a tuple of `size` elements whose first element is the atom `tag` (if given). */
export function isTuple(t: Term, size: number, tag?: string): t is Tuple {
  if (!(t instanceof Tuple) || t.elements.length !== size) return false;
  return tag === undefined || t.elements[0] === atom(tag);
}

const isBytes = (t: unknown): t is Uint8Array => t instanceof Uint8Array;

/** The value of an Erlang float: a `Float` box, a non-integral number, or -0 (encoded as -0.0). */
function floatOf(t: Term): number | undefined {
  if (t instanceof Float) return t.value;
  return typeof t === 'number' && (!Number.isInteger(t) || Object.is(t, -0)) ? t : undefined;
}

/** Erlang's exact equality (`=:=`) over decoded terms (1 and 1.0 differ; 0.0 and -0.0 differ, as in OTP 27+). */
export function termEquals(a: Term, b: Term): boolean {
  const fa = floatOf(a);
  const fb = floatOf(b);
  if (fa !== undefined || fb !== undefined) return fa !== undefined && fb !== undefined && Object.is(fa, fb);
  if (a === b) return true;
  if (typeof a === 'number' || typeof a === 'bigint') {
    // Floats are handled above; integers may come as number or bigint depending on size.
    return (typeof b === 'number' || typeof b === 'bigint') && BigInt(a) === BigInt(b);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Atom) return false; // interned: identity checked above
  if (a instanceof Pid || a instanceof Port || a instanceof Reference) return a.equals(b);
  if (a instanceof Tuple) return b instanceof Tuple && listEquals(a.elements, b.elements);
  if (Array.isArray(a)) return Array.isArray(b) && listEquals(a, b);
  if (a instanceof ImproperList) return b instanceof ImproperList && listEquals(a.elements, b.elements) && termEquals(a.tail, b.tail);
  if (a instanceof BitBinary) return b instanceof BitBinary && a.bits === b.bits && Buffer.compare(a.data, b.data) === 0;
  if (isBytes(a)) return isBytes(b) && Buffer.compare(a, b) === 0;
  if (a instanceof ExportFun) return b instanceof ExportFun && a.module === b.module && a.function === b.function && a.arity === b.arity;
  if (a instanceof Fun) return false; // opaque; identity only
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) {
      let found = false;
      for (const [k2, v2] of b) {
        if (termEquals(k, k2)) {
          found = termEquals(v, v2);
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  if (b instanceof Map || Array.isArray(b) || isBytes(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  const bo = b as { [k: string]: Term };
  return ka.every((k) => k in bo && termEquals((a as { [k: string]: Term })[k], bo[k]));
}

function listEquals(a: readonly Term[], b: readonly Term[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!termEquals(a[i], b[i])) return false;
  return true;
}

const PLAIN_ATOM = /^[a-z][A-Za-z0-9_@]*$/;

/** Erlang-like text of a term, cut at `max` characters (for messages and logs, never parsed). */
export function formatTerm(t: Term, max = 300): string {
  const out: string[] = [];
  let len = 0;
  const put = (s: string): boolean => {
    out.push(s);
    len += s.length;
    return len < max;
  };
  const walk = (v: Term, depth: number): boolean => {
    if (depth > 20) return put('…');
    if (v === true || v === false) return put(String(v));
    if (Object.is(v, -0) || (v instanceof Float && Object.is(v.value, -0))) return put('-0.0');
    if (typeof v === 'number') return put(String(v));
    if (typeof v === 'bigint') return put(v.toString());
    if (typeof v === 'string') return put(`<<${JSON.stringify(v)}>>`);
    if (v instanceof Atom) return put(PLAIN_ATOM.test(v.name) ? v.name : `'${v.name.replace(/'/g, "\\'")}'`);
    if (v instanceof Float) return put(Number.isInteger(v.value) ? `${v.value}.0` : String(v.value));
    if (v instanceof Pid || v instanceof Port || v instanceof Reference || v instanceof ExportFun) return put(v.toString());
    if (v instanceof Fun) return put(`#Fun<${v.module.name}.${v.index}>`);
    if (v instanceof Tuple) return seq('{', v.elements, '}', undefined, depth);
    if (Array.isArray(v)) return seq('[', v, ']', undefined, depth);
    if (v instanceof ImproperList) return seq('[', v.elements, ']', v.tail, depth);
    if (v instanceof BitBinary) return put(`<<${v.bitLength} bits>>`);
    if (v instanceof Uint8Array) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      const printable = b.length > 0 && b.every((c) => c >= 32 && c < 127);
      return put(printable ? `<<"${b.toString('latin1')}">>` : `<<${[...b.subarray(0, 32)].join(',')}${b.length > 32 ? ',…' : ''}>>`);
    }
    if (v instanceof Map) {
      if (!put('#{')) return false;
      let first = true;
      for (const [k, val] of v) {
        if (!first && !put(',')) return false;
        first = false;
        if (!walk(k, depth + 1) || !put(' => ') || !walk(val, depth + 1)) return false;
      }
      return put('}');
    }
    if (typeof v === 'object' && v !== null) {
      if (!put('#{')) return false;
      let first = true;
      for (const [k, val] of Object.entries(v)) {
        if (!first && !put(',')) return false;
        first = false;
        if (!put(`${k} => `) || !walk(val, depth + 1)) return false;
      }
      return put('}');
    }
    return put(String(v));
  };
  const seq = (open: string, items: readonly Term[], close: string, tail: Term | undefined, depth: number): boolean => {
    if (!put(open)) return false;
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && !put(',')) return false;
      if (!walk(items[i], depth + 1)) return false;
    }
    if (tail !== undefined && (!put('|') || !walk(tail, depth + 1))) return false;
    return put(close);
  };
  walk(t, 0);
  const s = out.join('');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
