/**
 * Erlang term order as OTP uses it to sort the keys of small maps (≤ 32 keys, "flatmaps"):
 * number < atom < reference < fun < port < pid < tuple < record < map < [] < list < bitstring, with the
 * exact-comparison twist that every integer sorts before every float (OTP 25:
 * `maps:keys(#{1.0=>a, 2=>b, 1=>c, 0.5=>d})` is `[1,2,0.5,1.0]`).
 *
 * Checked against OTP for numbers, atoms, tuples, lists, binaries and maps; pids, ports,
 * references and funs follow erts' field order as best we know it (see docs/etf.md).
 */
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, NativeRecord, Pid, Port, Reference, Tuple, type Term } from './types.js';

// OTP 29 native records sort between tuples and maps (checked: #r{} > {a}, #r{} < #{}).
const enum Rank { Int, Float, Atom, Ref, Fun, Port, Pid, Tuple, Record, Map, Nil, List, Bits }

function rank(t: Term): Rank {
  switch (typeof t) {
    case 'number':
      return Number.isInteger(t) && !Object.is(t, -0) ? Rank.Int : Rank.Float;
    case 'bigint':
      return Rank.Int;
    case 'boolean':
      return Rank.Atom;
    case 'string':
      return Rank.Bits;
    default:
      if (Array.isArray(t)) return t.length === 0 ? Rank.Nil : Rank.List;
      if (t instanceof Atom) return Rank.Atom;
      if (t instanceof Tuple) return Rank.Tuple;
      if (t instanceof Float) return Rank.Float;
      if (t instanceof Uint8Array || t instanceof BitBinary) return Rank.Bits;
      if (t instanceof Map) return Rank.Map;
      if (t instanceof ImproperList) return Rank.List;
      if (t instanceof Reference) return Rank.Ref;
      if (t instanceof Pid) return Rank.Pid;
      if (t instanceof Port) return Rank.Port;
      if (t instanceof Fun || t instanceof ExportFun) return Rank.Fun;
      if (t instanceof NativeRecord) return Rank.Record;
      return Rank.Map; // a plain object is a map with atom keys
  }
}

/** Code-point order of two strings (JS `<` compares UTF-16 units, wrong past U+FFFF). */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x < 0xd800 && y < 0xd800) return x - y;
      return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
    }
  }
  return a.length - b.length;
}

const atomName = (t: Term): string => (typeof t === 'boolean' ? (t ? 'true' : 'false') : (t as Atom).name);
const cmpNum = (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function bitsOf(t: Term): { data: Uint8Array; bits: number } {
  if (typeof t === 'string') {
    const data = Buffer.from(t, 'utf8');
    return { data, bits: data.length * 8 };
  }
  if (t instanceof BitBinary) return { data: t.data, bits: t.bitLength };
  const d = t as Uint8Array;
  return { data: d, bits: d.length * 8 };
}

function listParts(t: Term): { els: Term[]; tail: Term } {
  return t instanceof ImproperList ? { els: t.elements, tail: t.tail } : { els: t as Term[], tail: [] };
}

function mapEntries(t: Term): [Term, Term][] {
  const es = t instanceof Map ? [...t.entries()] : Object.entries(t as object).map(([k, v]) => [Atom.of(k), v] as [Term, Term]);
  return es.sort((x, y) => compareTerms(x[0], y[0]));
}

function compareSeq(a: readonly Term[], b: readonly Term[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareTerms(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` among map keys. */
export function compareTerms(a: Term, b: Term): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case Rank.Int:
      return cmpNum(a as number | bigint, b as number | bigint);
    case Rank.Float: {
      const x = +(a as number);
      const y = +(b as number);
      return x < y ? -1 : x > y ? 1 : Object.is(x, -0) ? (Object.is(y, -0) ? 0 : -1) : Object.is(y, -0) ? 1 : 0;
    }
    case Rank.Atom:
      return compareText(atomName(a), atomName(b));
    case Rank.Tuple: {
      const x = (a as Tuple).elements;
      const y = (b as Tuple).elements;
      return x.length - y.length || compareSeq(x, y);
    }
    case Rank.Record: {
      const x = a as NativeRecord;
      const y = b as NativeRecord;
      // OTP 29 (checked): module, name, local before exported, field count, field names, values
      const c =
        compareText(x.module.name, y.module.name) || compareText(x.name.name, y.name.name) ||
        Number(x.exported) - Number(y.exported) || x.fields.length - y.fields.length;
      if (c !== 0) return c;
      for (let i = 0; i < x.fields.length; i++) {
        const f = compareText(x.fields[i].name, y.fields[i].name);
        if (f !== 0) return f;
      }
      return compareSeq(x.values, y.values);
    }
    case Rank.Nil:
      return 0;
    case Rank.List: {
      const x = listParts(a);
      const y = listParts(b);
      const n = Math.min(x.els.length, y.els.length);
      for (let i = 0; i < n; i++) {
        const c = compareTerms(x.els[i], y.els[i]);
        if (c !== 0) return c;
      }
      // [1] vs [1,2]: compare the first's tail with the second's rest
      const restX: Term = x.els.length > n ? (x.tail instanceof Array && x.tail.length === 0 ? x.els.slice(n) : new ImproperList(x.els.slice(n), x.tail)) : x.tail;
      const restY: Term = y.els.length > n ? (y.tail instanceof Array && y.tail.length === 0 ? y.els.slice(n) : new ImproperList(y.els.slice(n), y.tail)) : y.tail;
      if (x.els.length === y.els.length) return compareTerms(x.tail, y.tail);
      return compareTerms(restX, restY);
    }
    case Rank.Bits: {
      const x = bitsOf(a);
      const y = bitsOf(b);
      const n = Math.min(x.data.length, y.data.length);
      for (let i = 0; i < n; i++) if (x.data[i] !== y.data[i]) return x.data[i] - y.data[i];
      return x.bits - y.bits;
    }
    case Rank.Map: {
      const x = mapEntries(a);
      const y = mapEntries(b);
      if (x.length !== y.length) return x.length - y.length;
      return compareSeq(x.map((e) => e[0]), y.map((e) => e[0])) || compareSeq(x.map((e) => e[1]), y.map((e) => e[1]));
    }
    case Rank.Pid: {
      const x = a as Pid;
      const y = b as Pid;
      // erts compares pid data (serial, then number) before the node (OTP 25, checked).
      return x.serial - y.serial || x.id - y.id || compareText(x.node.name, y.node.name) || x.creation - y.creation;
    }
    case Rank.Port: {
      const x = a as Port;
      const y = b as Port;
      // erts: node name, creation, then the port number (OTP 25, checked).
      return compareText(x.node.name, y.node.name) || x.creation - y.creation || cmpNum(x.id, y.id);
    }
    case Rank.Ref: {
      const x = a as Reference;
      const y = b as Reference;
      // erts: node name, creation, then the id words from the most significant (OTP 25, checked).
      const c = compareText(x.node.name, y.node.name) || x.creation - y.creation || x.ids.length - y.ids.length;
      if (c !== 0) return c;
      for (let i = x.ids.length - 1; i >= 0; i--) if (x.ids[i] !== y.ids[i]) return x.ids[i] - y.ids[i];
      return 0;
    }
    case Rank.Fun: {
      if (a instanceof ExportFun && b instanceof ExportFun) {
        return compareText(a.module.name, b.module.name) || compareText(a.function.name, b.function.name) || a.arity - b.arity;
      }
      if (a instanceof Fun && b instanceof Fun) {
        return compareText(a.module.name, b.module.name) || a.index - b.index || Buffer.compare(a.uniq, b.uniq) || compareSeq(a.freeVars, b.freeVars);
      }
      return a instanceof Fun ? -1 : 1;
    }
  }
  return 0;
}
