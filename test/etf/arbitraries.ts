/**
 * fast-check generators of Erlang terms as beamnode represents them. Values stay inside what
 * every OTP in the matrix accepts from binary_to_term (pid numbers ≤ 15 bits, serials ≤ 13 bits,
 * 3-word references with an 18-bit first word, ports ≤ 28 bits), and maps stay ≤ 32 keys so OTP
 * keeps them sorted (larger maps are HAMTs; see the dedicated test).
 */
import fc from 'fast-check';
import { encode } from '../../src/etf/index.js';
import { Atom, atom, BitBinary, ExportFun, Float, ImproperList, Pid, Port, Reference, Tuple, type Term } from '../../src/etf/types.js';

const nodeAtom = fc.constantFrom('n1@host', 'other@10.0.0.1', 'nonode@nohost', 'åtom@häst').map(atom);

export const atomArb: fc.Arbitrary<Atom> = fc
  .oneof(
    fc.string({ unit: 'binary-ascii', maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 255 }),
  )
  .filter((s) => [...s].length <= 255 && s !== 'true' && s !== 'false' && !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')))
  .map(atom);

const floatArb = fc.double({ noNaN: true, noDefaultInfinity: true }).map((f) => (Number.isInteger(f) ? new Float(f) : f));

const bitBinaryArb = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 7 }))
  .map(([d, bits]) => {
    const data = Buffer.from(d);
    data[data.length - 1] &= (0xff << (8 - bits)) & 0xff;
    return new BitBinary(data, bits);
  });

/** Leaves; `portV4` fixes the port tag (OTP 25 writes 89, OTP 27+ 120), else it is random. */
export function leafArbitrary(portV4?: boolean): fc.Arbitrary<Term> {
  return fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 2200n), max: 2n ** 2200n }),
  floatArb,
  fc.constant(-0),
  atomArb,
  fc.boolean(),
  fc.string({ maxLength: 30 }),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
  bitBinaryArb,
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 30 }),
  fc.tuple(nodeAtom, fc.integer({ min: 0, max: 0x7fff }), fc.integer({ min: 0, max: 0x1fff }), fc.integer({ min: 1, max: 0xffffffff })).map(
    ([n, id, serial, cr]) => new Pid(n, id, serial, cr),
  ),
  fc.tuple(nodeAtom, fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 0, max: 0x3ffff }), fc.nat(), fc.nat()).map(
    ([n, cr, a, b, c]) => new Reference(n, cr, [a, b, c]),
  ),
  fc.tuple(nodeAtom, fc.integer({ min: 0, max: 0xfffffff }), fc.integer({ min: 1, max: 0xffffffff }), portV4 === undefined ? fc.boolean() : fc.constant(portV4)).map(
    ([n, id, cr, v4]) => new Port(n, id, cr, v4),
  ),
  fc.tuple(atomArb, atomArb, fc.integer({ min: 0, max: 255 })).map(([m, f, a]) => new ExportFun(m, f, a)),
  );
}

export const leafArb = leafArbitrary();

const keyOf = (t: Term): string => encode(t).toString('hex');

/** Any term; maps ≤ 32 keys with distinct keys. */
export function termArbitrary(portV4?: boolean): fc.Arbitrary<Term> {
  const leafArb = leafArbitrary(portV4);
  return fc.letrec<{ term: Term }>((tie) => ({
  term: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('term'), { maxLength: 5 }).map((els) => new Tuple(els)),
    fc.array(tie('term'), { maxLength: 5 }),
    fc
      .tuple(fc.array(tie('term'), { minLength: 1, maxLength: 4 }), leafArb)
      .filter(([, t]) => !Array.isArray(t))
      .map(([els, t]) => new ImproperList(els, t)),
    fc.uniqueArray(fc.tuple(tie('term'), tie('term')), { maxLength: 6, selector: ([k]) => keyOf(k) }).map((es) => new Map<Term, Term>(es)),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 10 }), tie('term'), { maxKeys: 6, noNullPrototype: true }),
  ),
  })).term;
}

export const termArb = termArbitrary();
