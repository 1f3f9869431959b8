/**
 * Type guards over terms: each checks a value at run time and narrows its static type, so code
 * that reads a decoded term needs no casts (`if (isTuple(t, 2, 'add')) t.elements[0]` is an
 * `Atom<'add'>`). They take `unknown`, so they also check values from other sources.
 */
import { Atom, BitBinary, Pid, Port, Reference, Tuple, type Term } from '../types.js';

/** `[Term, Term, …]` with `N` elements (`Term[]` when `N` is not a literal, or above 32). */
export type TupleOf<N extends number, Acc extends Term[] = []> = number extends N
  ? Term[]
  : Acc['length'] extends N
    ? Acc
    : Acc['length'] extends 32
      ? Term[]
      : TupleOf<N, [...Acc, Term]>;

/** `[Atom<Tag>, Term, …]` with `N` elements: an Erlang tagged tuple such as `{add, N}`. */
export type TaggedTupleOf<N extends number, Tag extends string> = TupleOf<N> extends [Term, ...infer Rest extends Term[]] ? [Atom<Tag>, ...Rest] : [Atom<Tag>, ...Term[]];

/** True when `t` is a tuple (of `size` elements; whose first element is the atom `tag`). */
export function isTuple(t: unknown): t is Tuple;
export function isTuple<N extends number>(t: unknown, size: N): t is Tuple<TupleOf<N>>;
export function isTuple<N extends number, Tag extends string>(t: unknown, size: N, tag: Tag): t is Tuple<TaggedTupleOf<N, Tag>>;
export function isTuple(t: unknown, size?: number, tag?: string): boolean {
  if (!(t instanceof Tuple) || (size !== undefined && t.elements.length !== size)) return false;
  return tag === undefined || t.elements[0] === Atom.of(tag);
}

/** True when `t` is an atom (the atom `name`, if given). `true`/`false` decode as booleans, not atoms. */
export function isAtom<N extends string = string>(t: unknown, name?: N): t is Atom<N> {
  return t instanceof Atom && (name === undefined || t === Atom.of(name));
}

/** True when `t` is a pid. */
export const isPid = (t: unknown): t is Pid => t instanceof Pid;

/** True when `t` is a reference. */
export const isRef = (t: unknown): t is Reference => t instanceof Reference;

/** True when `t` is a port. */
export const isPort = (t: unknown): t is Port => t instanceof Port;

/** True when `t` is a binary (decoded as a `Buffer`; any `Uint8Array` encodes as one). Bitstrings are `BitBinary`. */
export const isBinary = (t: unknown): t is Buffer => Buffer.isBuffer(t);

/** True when `t` is a bitstring whose length is not whole bytes. */
export const isBitBinary = (t: unknown): t is BitBinary => t instanceof BitBinary;

/** True when `t` is a proper list (a JS array); with `item`, every element passes it. */
export function isList<T extends Term = Term>(t: unknown, item?: (e: unknown) => e is T): t is T[] {
  return Array.isArray(t) && (item === undefined || t.every((e) => item(e)));
}

/** True when `t` is a map (decoded as a `Map`, a `WireMap` by default). */
export const isMap = (t: unknown): t is Map<Term, Term> => t instanceof Map;

/** True when `t` is an integer: a safe-integer `number` or a `bigint`. */
export const isInteger = (t: unknown): t is number | bigint => typeof t === 'bigint' || Number.isInteger(t);

/** True when `t` is a `number` (an integer or a float that is not integral; integral floats decode as `Float`). */
export const isNumber = (t: unknown): t is number => typeof t === 'number';
