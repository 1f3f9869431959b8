/**
 * `formatTerm`: an Erlang-like text of a term, bounded in length, for error messages and logs
 * (never parsed back).
 */
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, NativeRecord, Pid, Port, Reference, Tuple, type Encodable, type Term } from '../types.js';

const PLAIN_ATOM = /^[a-z][A-Za-z0-9_@]*$/;

/** Erlang-like text of a term, cut at `max` characters (for messages and logs, never parsed). */
export function formatTerm(t: Encodable, max = 300): string {
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
    if (v instanceof NativeRecord) {
      // as OTP 29 prints it: #module:name{field = Value, ...}
      if (!put('#') || !walk(v.module, depth) || !put(':') || !walk(v.name, depth) || !put('{')) return false;
      for (let i = 0; i < v.fields.length; i++) {
        if ((i > 0 && !put(',')) || !walk(v.fields[i], depth + 1) || !put(' = ') || !walk(v.values[i], depth + 1)) return false;
      }
      return put('}');
    }
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
  walk(t as Term, 0); // read-only arrays and maps are walked the same
  const s = out.join('');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
