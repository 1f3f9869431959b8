/**
 * Erlang terms as JavaScript values.
 *
 * | Erlang                         | JavaScript (decode default)                         |
 * |--------------------------------|-----------------------------------------------------|
 * | integer                        | `number` when safe (|n| ≤ 2^53-1), else `bigint`    |
 * | float, not integral            | `number`                                            |
 * | float, integral (1.0, -0.0)    | `Float` (a box, so that it re-encodes as a float)   |
 * | atom `true` / `false`          | `true` / `false`                                    |
 * | other atom                     | `Atom` (interned: `atom('a') === atom('a')`)        |
 * | tuple                          | `Tuple`                                             |
 * | proper list (also STRING_EXT)  | `Term[]`                                            |
 * | improper list                  | `ImproperList`                                      |
 * | binary                         | `Buffer` (a view; a map key ≤ 32 bytes: shared copy)|
 * | bitstring                      | `BitBinary`                                         |
 * | map                            | `WireMap` (a `Map`; wire order kept; wire-map.ts)   |
 * | pid / port / reference         | `Pid` / `Port` / `Reference`                        |
 * | fun / external fun             | `Fun` / `ExportFun`                                 |
 * | native record (OTP 29)         | `NativeRecord`                                      |
 *
 * When encoding, a JS `string` becomes a UTF-8 binary (as Elixir strings are), a `Uint8Array` a
 * binary, a plain object a map with atom keys, and `number`/`bigint` the smallest integer tag OTP
 * would pick (a non-integral `number`, and `-0`, a float). `null`/`undefined` are refused: say which atom.
 */

import { LimitError } from './errors.js';

/** OTP's default atom table limit (erl +t): 1,048,576 atoms. */
export const DEFAULT_MAX_ATOMS = 1_048_576;

/**
 * An atom. Interned: compare with `===`. `String(a)` is its text. `Atom<'ok'>` is the type of
 * `atom('ok')` (what `isAtom(t, 'ok')` and `isTuple(t, 2, 'ok')` narrow to); plain `Atom` is any atom.
 */
export class Atom<N extends string = string> {
  /** The atom's text (Unicode; OTP limits it to 255 characters). */
  readonly name: N;
  /** @internal The encoder's cached bytes for this atom (minor_version 1 and 2); not enumerable. */
  declare etf1: Buffer | undefined;
  /** @internal */
  declare etf2: Buffer | undefined;
  private constructor(name: N) {
    this.name = name;
    Object.defineProperties(this, {
      etf1: { value: undefined, writable: true, enumerable: false },
      etf2: { value: undefined, writable: true, enumerable: false },
    });
  }
  private static readonly table = new Map<string, Atom>();
  /** @internal See setAtomTableLimit. */
  static limit = DEFAULT_MAX_ATOMS;
  /** @internal */
  static get size(): number {
    return Atom.table.size;
  }
  /** The one Atom for this text. A new one past the table's limit is a LimitError (BEAM_ERR_ETF_LIMIT_ATOMS). */
  static of<N extends string>(name: N): Atom<N> {
    let a = Atom.table.get(name);
    if (a === undefined) {
      // Atoms are never freed (as in the BEAM): a peer sending ever new atoms would grow the table
      // without end. Past the limit, refuse the new atom as erl does (system_limit).
      if (Atom.table.size >= Atom.limit)
        throw new LimitError('maxAtoms', Atom.limit, `the atom table is full (${Atom.limit} atoms): no new atom ${JSON.stringify(name.slice(0, 40))}`, -1);
      a = new Atom(name);
      Atom.table.set(name, a);
    }
    return a as Atom<N>;
  }
  toString(): string {
    return this.name;
  }
  toJSON(): string {
    return this.name;
  }
}

/**
 * The interned atom with this text. Typed plain `Atom` (so `let a = atom('x'); a = atom('y')`
 * compiles); `Atom.of('ok')` gives the literal type `Atom<'ok'>` when a type needs it.
 */
export const atom = (name: string): Atom => Atom.of(name);

/** How many atoms exist in this process (every decoder, node and `atom()` call shares one table). */
export const atomTableSize = (): number => Atom.size;

/**
 * The most atoms this process may hold (default DEFAULT_MAX_ATOMS, about 230 bytes each). Past it,
 * a new atom is a LimitError `BEAM_ERR_ETF_LIMIT_ATOMS`: a decode fails (a node drops that peer's
 * connection), `atom()` throws. Existing atoms stay usable. Process-wide, like erl's +t.
 */
export function setAtomTableLimit(max: number): void {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`atom table limit must be a positive integer, not ${max}`);
  Atom.limit = max;
}

/**
 * A tuple. `elements` is the backing array (not copied). `Tuple<[Atom<'ok'>, Pid]>` types each
 * element (what `tuple(…)` makes and `isTuple(t, n, tag)` narrows to); plain `Tuple` is any tuple.
 */
export class Tuple<E extends readonly Encodable[] = Term[]> {
  constructor(readonly elements: E) {}
  get length(): E['length'] {
    return this.elements.length;
  }
  /** Element at a 0-based index (Erlang's element/2 is 1-based). */
  at<I extends number>(i: I): E[I] {
    return this.elements[i];
  }
  [Symbol.iterator](): Iterator<E[number]> {
    return this.elements[Symbol.iterator]();
  }
}

/** A tuple of these elements, typed element by element: `tuple(atom('get'), 1)` is `Tuple<[Atom<'get'>, number]>`. */
export const tuple = <E extends Term[]>(...elements: E): Tuple<E> => new Tuple(elements);

/** An integral float (1.0, and -0.0), boxed so it is not taken for the integer 1 (or the key 0). `+f` gives its value. */
export class Float {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/** A list whose tail is not `[]`: `[a, b | tail]`. `elements` is non-empty. */
export class ImproperList {
  constructor(
    readonly elements: Term[],
    readonly tail: Term,
  ) {}
}

/** A bitstring whose length is not a whole number of bytes. `bits` (1–8) are used in the last byte. */
export class BitBinary {
  constructor(
    readonly data: Buffer,
    readonly bits: number,
  ) {}
  get bitLength(): number {
    return this.data.length === 0 ? 0 : (this.data.length - 1) * 8 + this.bits;
  }
}

/** A process identifier. `id` and `serial` are 32-bit unsigned (V4_NC), `creation` 32-bit. */
export class Pid {
  constructor(
    readonly node: Atom,
    readonly id: number,
    readonly serial: number,
    readonly creation: number,
  ) {}
  /** `<node.id.serial>` as Erlang prints a remote pid (node by name). */
  toString(): string {
    return `<${this.node.name}.${this.id}.${this.serial}>`;
  }
  equals(o: unknown): boolean {
    return (
      o instanceof Pid && o.node === this.node && o.id === this.id && o.serial === this.serial && o.creation === this.creation
    );
  }
}

/** A port identifier. `id` is up to 64 bits (V4_PORT_EXT), a `bigint` when not a safe number. */
export class Port {
  /**
   * Encode as V4_PORT_EXT (120) even when the id fits 32 bits. OTP 25 writes NEW_PORT_EXT (89);
   * OTP 27 and 29 write V4_PORT_EXT for every port (checked). Decoding records the tag seen, so
   * re-encoding gives the same bytes; a new Port defaults to 89 (readable by every OTP ≥ 24)
   * unless its id needs more than 32 bits.
   */
  readonly v4: boolean;
  constructor(
    readonly node: Atom,
    readonly id: number | bigint,
    readonly creation: number,
    v4?: boolean,
  ) {
    this.v4 = v4 ?? (typeof id === 'bigint' || id > 0xffffffff);
  }
  toString(): string {
    return `#Port<${this.node.name}.${this.id}>`;
  }
  equals(o: unknown): boolean {
    return o instanceof Port && o.node === this.node && o.id === this.id && o.creation === this.creation;
  }
}

/** A reference. `ids` are 32-bit unsigned words (1 to 5), as on the wire. */
export class Reference {
  constructor(
    readonly node: Atom,
    readonly creation: number,
    readonly ids: readonly number[],
  ) {}
  toString(): string {
    return `#Ref<${this.node.name}.${[...this.ids].reverse().join('.')}>`;
  }
  equals(o: unknown): boolean {
    if (!(o instanceof Reference) || o.node !== this.node || o.creation !== this.creation) return false;
    if (o.ids.length !== this.ids.length) return false;
    for (let i = 0; i < this.ids.length; i++) if (o.ids[i] !== this.ids[i]) return false;
    return true;
  }
  /** The key, made on first use (a private field: not a property `deepStrictEqual` compares). */
  #key: string | undefined = undefined;
  /** A string key that is equal for equal references (for Maps of pending calls/monitors). */
  get key(): string {
    return (this.#key ??= `${this.node.name}|${this.creation}|${this.ids.join('.')}`);
  }
}

/** A local fun (NEW_FUN_EXT), kept opaque so it re-encodes byte-exactly. */
export class Fun {
  constructor(
    readonly arity: number,
    /** 16 bytes of MD5 of the module's code. */
    readonly uniq: Buffer,
    readonly index: number,
    readonly module: Atom,
    readonly oldIndex: number,
    readonly oldUniq: number,
    readonly pid: Pid,
    readonly freeVars: Term[],
  ) {}
}

/** An external fun, `fun M:F/A` (EXPORT_EXT). */
export class ExportFun {
  /** The function's name (a property: `function` cannot be a parameter name). */
  readonly function: Atom;
  constructor(
    readonly module: Atom,
    fn: Atom,
    readonly arity: number,
  ) {
    this.function = fn;
  }
  toString(): string {
    return `fun ${this.module.name}:${this.function.name}/${this.arity}`;
  }
}

/**
 * An OTP 29 native record (`-record #point{x = 0, y = 0}.`; RECORD_EXT, tag 67): a term type of
 * its own, not a tuple. `fields` are the field names in the record's order and `values` their
 * values, one each. `exported` is the record's `-export_record` flag (OTP: 0 local, 1 exported).
 *
 * Erlang compares records (checked on OTP 29) by module, then name, then local before exported,
 * then field count, then field names, then values; two records are `=:=` when all of these are.
 * Records sort after tuples and before maps. OTP 29 calls the encoding experimental ("may change
 * in OTP 30"; erts/doc/guides/erl_ext_dist.md).
 */
export class NativeRecord {
  constructor(
    readonly module: Atom,
    readonly name: Atom,
    readonly fields: readonly Atom[],
    readonly values: readonly Term[],
    readonly exported = false,
  ) {}

  /** A record from an object of field values, in the object's key order. */
  static of(module: Atom | string, name: Atom | string, fields: { [field: string]: Term }, exported = false): NativeRecord {
    const keys = Object.keys(fields);
    return new NativeRecord(Atom.of(String(module)), Atom.of(String(name)), keys.map((k) => Atom.of(k)), keys.map((k) => fields[k]), exported);
  }

  /** The value of field `field`, or undefined when the record has no such field. */
  get(field: Atom | string): Term | undefined {
    const f = typeof field === 'string' ? Atom.of(field) : field;
    const i = this.fields.indexOf(f);
    return i < 0 ? undefined : this.values[i];
  }
}

/**
 * Any Erlang term: what decode gives (and so what `receive`, `call`, `rpc` and handlers get). With
 * the default decode options a decoded term holds no `string`, plain object or `null`; those come
 * only from options that ask for them. What the encoder accepts is the wider `Encodable`.
 */
export type Term =
  | number
  | bigint
  | boolean
  | string
  | Float
  | Atom
  | Tuple
  | Term[]
  | ImproperList
  | Buffer
  | Uint8Array
  | BitBinary
  | Map<Term, Term>
  | Pid
  | Port
  | Reference
  | Fun
  | ExportFun
  | NativeRecord
  | { [key: string]: Term };

/**
 * What can be encoded (sent, replied, passed as rpc arguments): any `Term`, and read-only arrays,
 * maps and records of Encodables, a `Uint8Array`, tuples of Encodables. Kept apart from `Term` so
 * that code reading a decoded value narrows over what decode really returns.
 */
export type Encodable =
  | Term
  | Uint8Array
  | Tuple<readonly Encodable[]>
  | readonly Encodable[]
  | ReadonlyMap<Encodable, Encodable>
  | { readonly [key: string]: Encodable };
