/**
 * JSON mode: the mapping a Node.js program expects between JSON-shaped values and Erlang terms,
 * as Elixir's Jason and OTP 27's `json` module see JSON. Lossy by design, so never the default:
 *
 *   JS → Erlang (fromJson)                     Erlang → JS (toJson)
 *   string      → binary (UTF-8)               binary → string when valid UTF-8, else Buffer
 *   object      → map, binary keys             map with atom/binary/integer keys → object
 *                 (atom keys with keys:'atom')   (other keys: a Map, only values converted)
 *   undefined field → left out                 nil, null → null
 *   null, undefined in an array → nil          true/false → booleans; other atoms → strings
 *   array       → list                         list → array (charlists stay arrays of codes)
 *   toJSON()    → its value (Date → ISO text)  float → number (2.0 → 2)
 *
 * Values JSON has no form for pass through both ways (bigint, Tuple — elements converted —,
 * Pid, Reference, Buffer…), so `{ok, Value}` replies and pids still work. Unlike JSON.stringify,
 * NaN/Infinity, functions, symbols and class instances without toJSON are refused (an
 * EncodeError naming the field) instead of silently becoming null or `{}`.
 */
import { isUtf8 } from 'node:buffer';
import { decode, type DecodeOptions } from '../decode.js';
import { encode, type EncodeOptions } from '../encode.js';
import { EncodeError } from '../errors.js';
import { rebasePath, withPath, type PathMode } from './path.js';
import { Atom, BitBinary, ExportFun, Float, Fun, ImproperList, NativeRecord, Pid, Port, Reference, Tuple, type Term } from '../types.js';

/** How JSON mode maps values; `true` means `{}` (binary keys, `nil`). */
export interface JsonOptions {
  /** Map keys JS objects become: `'binary'` (default; Jason.decode/1, Phoenix params, OTP's json) or `'atom'` (Elixir structs' style). */
  keys?: 'binary' | 'atom';
  /** The atom `null` becomes: `'nil'` (default, Elixir) or `'null'` (OTP 27's json module). Both decode to `null`. */
  null?: 'nil' | 'null';
}

/** The option as the Node APIs take it: `true`/an object turns JSON mode on, `false` off. */
export type JsonMode = boolean | JsonOptions;

/** A JSON value (what JSON.parse returns). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * What JSON mode decodes to: JSON values, plus what JSON has no form for, kept as terms: integers
 * past 2^53 (bigint), binaries that are not UTF-8 (Buffer), tuples, pids, references, ports, funs,
 * bitstrings, improper lists and maps whose keys are not all text (a Map: keys as they came,
 * values converted).
 */
export type JsonTerm =
  | null
  | boolean
  | number
  | string
  | bigint
  | JsonTerm[]
  | { [key: string]: JsonTerm }
  | Buffer
  | Tuple
  | Pid
  | Reference
  | Port
  | Fun
  | ExportFun
  | BitBinary
  | ImproperList
  | NativeRecord
  | Map<Term, JsonTerm>;

/**
 * What JSON mode encodes: any value, as JSON.stringify takes any (interfaces and class instances
 * with toJSON have no index signature, so a narrower type would refuse them); what has no term is
 * refused at run time by an EncodeError naming its path.
 */
export type JsonInput = unknown;

/** The options a JsonMode stands for, or undefined when it is off. */
export function jsonOptions(mode: JsonMode | undefined): JsonOptions | undefined {
  if (mode === undefined || mode === false) return undefined;
  return mode === true ? DEFAULTS : mode;
}

const DEFAULTS: JsonOptions = {};
const NIL = Atom.of('nil');
const NULL = Atom.of('null');
/** As the encoder's depth bound: deeper input is refused (a cycle ends here too). */
const MAX_DEPTH = 10_000;

// ---- JS → term -----------------------------------------------------------------------------

/**
 * A JSON-shaped value as the term JSON mode sends (see the file comment). Throws EncodeError
 * (with the `path` of the offending field) for a cycle or nesting past 10 000 levels; values with
 * no term at all are refused later by `encode`, which names their path too.
 */
export function fromJson(value: JsonInput, o: JsonOptions = DEFAULTS): Term {
  const nil = o.null === 'null' ? NULL : NIL;
  const binaryKeys = o.keys !== 'atom';
  const open = (v: unknown): Term | Frame => {
    if (v === null || v === undefined) return nil;
    if (typeof v !== 'object') return v as Term;
    if (Array.isArray(v)) return new Frame(v as Term[], (xs) => xs as Term[]);
    const k = (v as object).constructor;
    if (k === Object || k === undefined) {
      const src = v as Record<string, unknown>;
      const keys = Object.keys(src).filter((key) => src[key] !== undefined);
      const kids = keys.map((key) => src[key] as Term);
      if (binaryKeys) return new Frame(kids, (xs) => new Map<Term, Term>(keys.map((key, i) => [key, xs[i] as Term])));
      return new Frame(kids, (xs) => objectOf(keys, xs) as Term);
    }
    if (v instanceof Tuple) return new Frame(v.elements, (xs) => new Tuple(xs as Term[]));
    if (v instanceof Map) {
      const kids: Term[] = [];
      for (const [key, x] of v) kids.push(key as Term, x as Term);
      return new Frame(kids, (xs) => pairsToMap(xs) as Term);
    }
    if (v instanceof ImproperList) return new Frame([...v.elements, v.tail], (xs) => improper(xs) as Term);
    if (isTermLeaf(v)) return v as Term;
    // Date and any class with toJSON: its value, as JSON.stringify takes it.
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return new Frame([(toJSON as () => unknown).call(v) as Term], (xs) => xs[0] as Term);
    return v as Term; // no term: encode refuses it and names its path
  };
  try {
    return walk<unknown, Term>(value, open);
  } catch (e) {
    throw withPath(e, value, checkEncode, 'json');
  }
}

/**
 * A container being converted: its parts, their converted values so far, and how to build the
 * result from them. The walk keeps its own stack, so 10 000 levels (the decoder's maxDepth) never
 * reach the JS stack's limit.
 */
class Frame {
  readonly out: unknown[] = [];
  constructor(
    readonly kids: readonly unknown[],
    readonly build: (xs: unknown[]) => unknown,
  ) {}
}

function walk<I, O>(root: I, open: (v: I) => O | Frame): O {
  const first = open(root);
  if (!(first instanceof Frame)) return first;
  const stack: Frame[] = [first];
  for (;;) {
    const f = stack[stack.length - 1];
    if (f.out.length < f.kids.length) {
      const x = open(f.kids[f.out.length] as I);
      if (!(x instanceof Frame)) f.out.push(x);
      else if (stack.push(x) > MAX_DEPTH) throw new EncodeError('BEAM_ERR_ETF_TOO_DEEP', `values nested deeper than ${MAX_DEPTH} (or a cycle)`);
      continue;
    }
    stack.pop();
    const v = f.build(f.out);
    if (stack.length === 0) return v as O;
    stack[stack.length - 1].out.push(v);
  }
}

function objectOf(keys: readonly string[], xs: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) setKey(o, keys[i], xs[i]);
  return o;
}

function pairsToMap(xs: readonly unknown[]): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (let i = 0; i < xs.length; i += 2) m.set(xs[i], xs[i + 1]);
  return m;
}

function improper(xs: readonly unknown[]): ImproperList {
  return new ImproperList(xs.slice(0, -1) as Term[], xs[xs.length - 1] as Term);
}

/** Term classes that are their own term (their toJSON, if any, is for display only). */
function isTermLeaf(v: object): boolean {
  return (
    v instanceof Uint8Array ||
    v instanceof Atom ||
    v instanceof Float ||
    v instanceof Pid ||
    v instanceof Reference ||
    v instanceof Port ||
    v instanceof Fun ||
    v instanceof ExportFun ||
    v instanceof BitBinary ||
    v instanceof NativeRecord
  );
}

// ---- term → JS -----------------------------------------------------------------------------

/** A decoded term as JSON mode gives it (see the file comment). Never throws. */
export function toJson(t: Term): JsonTerm {
  return walk<Term, JsonTerm>(t, openTerm);
}

function openTerm(t: Term): JsonTerm | Frame {
  if (typeof t !== 'object') return t as JsonTerm;
  if (Array.isArray(t)) return new Frame(t, (xs) => xs);
  if (t instanceof Uint8Array) return isUtf8(t) ? Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('utf8') : Buffer.isBuffer(t) ? t : Buffer.from(t);
  if (t instanceof Atom) return t === NIL || t === NULL ? null : t.name;
  if (t instanceof Float) return t.value;
  if (t instanceof Map) {
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const k of t.keys()) {
      const text = keyText(k);
      if (text === undefined || seen.has(text)) {
        // A tuple key, or both :a and "a": JSON has no object for it, so a Map whose keys stay
        // as they came (converting them could merge two) and whose values are converted.
        const keyTerms = [...t.keys()];
        return new Frame([...t.values()], (xs) => new Map(keyTerms.map((key, i) => [key, xs[i]])));
      }
      seen.add(text);
      keys.push(text);
    }
    return new Frame([...t.values()], (xs) => objectOf(keys, xs));
  }
  if (t instanceof Tuple) return new Frame(t.elements, (xs) => new Tuple(xs as Term[]));
  if (t instanceof ImproperList) return new Frame([...t.elements, t.tail], improper);
  if (isTermLeaf(t)) return t as JsonTerm;
  // A plain object (decodeOptions.mapsAsObjects): same keys, values converted.
  const keys = Object.keys(t);
  return new Frame(keys.map((k) => (t as Record<string, Term>)[k]), (xs) => objectOf(keys, xs));
}

/** Text for a map key JSON can hold (atom, UTF-8 binary, string, integer), else undefined. */
function keyText(k: Term): string | undefined {
  if (typeof k === 'string') return k;
  if (k instanceof Atom) return k.name;
  if (k instanceof Uint8Array) return isUtf8(k) ? Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('utf8') : undefined;
  if ((typeof k === 'number' && Number.isInteger(k)) || typeof k === 'bigint') return String(k);
  return undefined;
}

function setKey(o: Record<string, unknown>, key: string, v: unknown): void {
  // '__proto__' must be an own key, as JSON.parse makes it, not the prototype.
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  else o[key] = v;
}

const checkEncode = (t: Term, minorVersion: 1 | 2): void => void encode(t, { minorVersion });

/**
 * `e` (an EncodeError from sending `root` inside an envelope: a call, an rpc's argument list) with
 * the path of the failing field in `root` itself, as the caller wrote it.
 */
export function encodePathIn(e: unknown, root: unknown, mode: PathMode = 'term'): unknown {
  return rebasePath(e, root, checkEncode, mode);
}

// ---- whole buffers -------------------------------------------------------------------------

/** `encode(fromJson(value, o))`: a JSON-shaped value as ETF bytes. */
export function encodeJson(value: JsonInput, o: JsonOptions & EncodeOptions = DEFAULTS): Buffer {
  return encode(fromJson(value, o), o);
}

/** `toJson(decode(buf, o))`: ETF bytes as JSON mode gives them. */
export function decodeJson(buf: Uint8Array, o?: DecodeOptions): JsonTerm {
  return toJson(decode(buf, o));
}
