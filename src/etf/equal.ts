/**
 * Erlang's exact equality (`=:=`) over terms as beamnode represents them, and the canonical
 * lookup key that goes with it (equal terms, equal keys), which WireMap indexes big maps by.
 */
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, NativeRecord, Pid, Port, Reference, Tuple, type Term } from './types.js';

const isBytes = (t: unknown): t is Uint8Array => t instanceof Uint8Array;

/** The value of an Erlang float: a `Float` box, a non-integral number, or -0 (encoded as -0.0). */
function floatOf(t: Term): number | undefined {
  if (t instanceof Float) return t.value;
  return typeof t === 'number' && (!Number.isInteger(t) || Object.is(t, -0)) ? t : undefined;
}

/** Byte equality of two byte arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A JS string is the UTF-8 binary it encodes to. */
const binaryOf = (t: Term): Uint8Array | undefined => (typeof t === 'string' ? Buffer.from(t, 'utf8') : isBytes(t) ? t : undefined);

/**
 * Erlang's exact equality (`=:=`) over terms: 1 and 1.0 differ, 0.0 and -0.0 differ (as in OTP 27+),
 * a JS string equals the binary of its UTF-8 bytes, a plain object equals the map of its atom keys.
 */
export function termEquals(a: Term, b: Term): boolean {
  const fa = floatOf(a);
  const fb = floatOf(b);
  if (fa !== undefined || fb !== undefined) return fa !== undefined && fb !== undefined && Object.is(fa, fb);
  if (a === b) return true;
  if (typeof a === 'number' || typeof a === 'bigint') {
    // Floats are handled above; integers may come as number or bigint depending on size.
    return (typeof b === 'number' || typeof b === 'bigint') && BigInt(a) === BigInt(b);
  }
  if (typeof a === 'string' || typeof b === 'string') {
    const x = binaryOf(a);
    const y = binaryOf(b);
    return x !== undefined && y !== undefined && bytesEqual(x, y);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Atom) return false; // interned: identity checked above
  if (a instanceof Pid || a instanceof Port || a instanceof Reference) return a.equals(b);
  if (a instanceof Tuple) return b instanceof Tuple && listEquals(a.elements, b.elements);
  if (Array.isArray(a)) return Array.isArray(b) && listEquals(a, b);
  if (a instanceof ImproperList) return b instanceof ImproperList && listEquals(a.elements, b.elements) && termEquals(a.tail, b.tail);
  if (a instanceof BitBinary) return b instanceof BitBinary && a.bits === b.bits && bytesEqual(a.data, b.data);
  if (isBytes(a)) return isBytes(b) && bytesEqual(a, b);
  if (a instanceof ExportFun) return b instanceof ExportFun && a.module === b.module && a.function === b.function && a.arity === b.arity;
  if (a instanceof Fun) return false; // opaque; identity only
  if (a instanceof NativeRecord) {
    // OTP 29: same module, name, export flag, field names in order, and values
    return (
      b instanceof NativeRecord && a.module === b.module && a.name === b.name && a.exported === b.exported &&
      a.fields.length === b.fields.length && a.fields.every((f, i) => f === b.fields[i]) && listEquals(a.values, b.values)
    );
  }
  if (b instanceof NativeRecord) return false;
  if (Array.isArray(b) || isBytes(b) || !isMapTerm(a) || !isMapTerm(b)) return false;
  const ea = mapEntries(a);
  const eb = mapEntries(b);
  if (ea.length !== eb.length) return false;
  for (const [k, v] of ea) {
    let found = false;
    for (const [k2, v2] of eb) {
      if (termEquals(k, k2)) {
        found = termEquals(v, v2);
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/** A Map, or a plain object (a map with atom keys). */
function isMapTerm(t: object): boolean {
  if (t instanceof Map) return true;
  const p: unknown = Object.getPrototypeOf(t);
  return p === Object.prototype || p === null;
}

function mapEntries(t: object): [Term, Term][] {
  if (t instanceof Map) return [...(t as Map<Term, Term>)];
  return Object.entries(t as { [k: string]: Term }).map(([k, v]) => [Atom.of(k), v]);
}

function listEquals(a: readonly Term[], b: readonly Term[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!termEquals(a[i], b[i])) return false;
  return true;
}

/**
 * A JS Map key for `t` such that termEquals(a, b) ⇔ lookupKey(a) === lookupKey(b) (SameValueZero):
 * atoms and booleans themselves, integers as numbers (bigints past 2^53), binaries and strings as
 * their bytes, floats and everything else as text. `encodeKey` gives the canonical bytes of a
 * compound term (the encoder's own; passed in so this file does not import the encoder).
 */
export function lookupKey(t: Term, encodeKey: (t: Term) => Uint8Array): unknown {
  switch (typeof t) {
    case 'boolean':
      return t;
    case 'number':
      return Number.isInteger(t) && !Object.is(t, -0) ? t : floatKey(t);
    case 'bigint':
      return t >= -9007199254740991n && t <= 9007199254740991n ? Number(t) : t;
    case 'string':
      return `b:${Buffer.from(t, 'utf8').toString('latin1')}`;
    default:
      if (t instanceof Atom) return t;
      if (isBytes(t)) return `b:${Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('latin1')}`;
      if (t instanceof Float) return floatKey(t.value);
      return `c:${Buffer.from(encodeKey(t)).toString('latin1')}`;
  }
}

const floatKey = (v: number): string => (Object.is(v, -0) ? 'f:-0' : `f:${v}`);
