// The walker of the `decode+walk` measurement: touches every value of a decoded result once, the
// same generic code for every JS library. A decoder may defer work until a value is read (a map
// that creates its Buffer views on `get`/iteration, say); decode+walk counts that work, so a lazy
// representation is never reported faster than it is when the values are actually used.
//
// What it touches, recursively:
//   Map (and subclasses)         for (const [k, v] of m): k and v
//   Array                        by index
//   { elements: [] [, tail] }    beamnode's Tuple and ImproperList (duck-typed): elements, tail
//   Uint8Array (Buffer)          .length and the first byte (so a lazily created view really is)
//   string                       .length
//   other objects                Object.keys: each key (a string) and its value; own keys only, so
//                                erlang_js's enumerable prototype methods are not walked
//   anything else                a leaf (number, bigint, boolean, null, undefined)
// No per-library shortcuts: erlang_js's OtpErlangMap is an object whose `value` is a Map, its
// OtpErlangBinary an object whose `value` is a Buffer, erlpack's maps are plain objects, and so on.

/**
 * Sum of the lengths and first bytes read: stored in a module variable, a side effect V8 must
 * keep, so no read of the walk can be dropped as dead code. Masked to 28 bits so it stays a small
 * integer (a heap number would be allocated on every store).
 */
export let touched = 0;

function visit(v) {
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'string') touched = (touched + v.length) & 0xfffffff;
    return 1;
  }
  if (v instanceof Uint8Array) {
    if (v.length !== 0) touched = (touched + v.length + v[0]) & 0xfffffff;
    return 1;
  }
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += visit(v[i]);
    return n;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) n += visit(k) + visit(x);
    return n;
  }
  const elements = v.elements;
  if (Array.isArray(elements)) {
    for (let i = 0; i < elements.length; i++) n += visit(elements[i]);
    if ('tail' in v) n += visit(v.tail);
    return n;
  }
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) n += visit(keys[i]) + visit(v[keys[i]]);
  return n;
}

/**
 * Walks a decoded value, touching every value once (see above).
 * @param {unknown} value
 * @returns {number} the number of leaves visited (returned so the walk's result is used)
 */
export function walk(value) {
  return visit(value);
}
