/**
 * Building plain objects for mapsAsObjects fast. Assigning keys one by one (`o[k] = v`) costs
 * ~60 ns a key in V8 (a megamorphic keyed store plus a map transition); an object literal with
 * the same keys costs a few ns. Messages of one protocol repeat a few key sequences (shapes), so
 * after a sequence has been seen twice we compile a factory `(v, o) => ({"k1": v[o], …})` for it
 * and look it up next time by walking a trie of keys (identity compares on interned strings).
 *
 * Bounded: at most MAX_NODES trie nodes; past that, unseen shapes take the slow path. Without
 * code generation (`--disallow-code-generation-from-strings`) everything takes the slow path.
 */
type Factory = (v: unknown[], o: number) => { [key: string]: unknown };

class ShapeNode {
  /** The most recent child, checked before the Map (shapes are mostly one path). */
  key: string | undefined = undefined;
  child: ShapeNode | undefined = undefined;
  more: Map<string, ShapeNode> | undefined = undefined;
  seen = 0;
  factory: Factory | undefined = undefined;
  /** The key sequence has a duplicate: never a factory. */
  dup = false;
}

const MAX_NODES = 20_000;
const MIN_SEEN = 2;
const MAX_KEYS = 64;
let nodes = 0;
let codegen = true;
const root = new ShapeNode();

function childOf(n: ShapeNode, k: string): ShapeNode | undefined {
  if (n.key === k) return n.child;
  const c = n.more?.get(k);
  if (c !== undefined) {
    n.key = k;
    n.child = c;
  }
  return c;
}

function addChild(n: ShapeNode, k: string): ShapeNode | undefined {
  if (nodes >= MAX_NODES) return undefined;
  nodes++;
  const c = new ShapeNode();
  if (n.key === undefined) {
    n.key = k;
    n.child = c;
  } else {
    if (n.more === undefined) {
      n.more = new Map();
      n.more.set(n.key, n.child!);
    }
    n.more.set(k, c);
    n.key = k;
    n.child = c;
  }
  return c;
}

function compile(keys: string[], start: number, n: number): Factory | undefined {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = keys[start + i];
    if (seen.has(k)) return undefined;
    seen.add(k);
    // a literal "__proto__": v would set the prototype; a computed key defines a property
    parts.push(`${k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)}: v[o + ${i}]`);
  }
  try {
    return new Function('v', 'o', `return {${parts.join(', ')}};`) as Factory;
  } catch {
    codegen = false;
    return undefined;
  }
}

/**
 * The object for keys[start, start+n) and vals[start, start+n), or undefined when this shape has
 * no factory (yet): the caller then assigns the keys itself (and checks for duplicates).
 */
export function objectFromShape(keys: string[], vals: unknown[], start: number, n: number): { [key: string]: unknown } | undefined {
  if (!codegen || n > MAX_KEYS || n === 0) return undefined;
  let node: ShapeNode | undefined = root;
  for (let i = 0; i < n; i++) {
    const k = keys[start + i];
    let c: ShapeNode | undefined = childOf(node, k);
    if (c === undefined) {
      c = addChild(node, k);
      if (c === undefined) return undefined;
    }
    node = c;
  }
  if (node.factory !== undefined) return node.factory(vals, start);
  if (node.dup || ++node.seen < MIN_SEEN) return undefined;
  node.factory = compile(keys, start, n);
  if (node.factory === undefined) {
    node.dup = true;
    return undefined;
  }
  return node.factory(vals, start);
}
