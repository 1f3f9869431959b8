/**
 * The process's atom table is bounded (setAtomTableLimit, default OTP's 1,048,576): past the limit a
 * new atom is a LimitError BEAM_ERR_ETF_LIMIT_ATOMS, from decode (with the atom's offset) and from
 * atom(); atoms that exist stay usable. Each test restores the limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { atom, atomTableSize, decode, encode, setAtomTableLimit, DEFAULT_MAX_ATOMS, LimitError, tuple } from '../../src/etf/index.js';

const fresh = (n: number) => Array.from({ length: n }, (_, i) => `fresh_${randomBytes(6).toString('hex')}_${i}`);

function withLimit(extra: number, f: () => void) {
  setAtomTableLimit(atomTableSize() + extra);
  try {
    f();
  } finally {
    setAtomTableLimit(DEFAULT_MAX_ATOMS);
  }
}

test('decode past the limit: LimitError BEAM_ERR_ETF_LIMIT_ATOMS at the first atom that does not fit; known atoms still decode', () => {
  const names = fresh(20);
  const known = encode(tuple(atom('ok'), atom('error')));
  // Encoded by hand so the atoms do not exist yet: SMALL_ATOM_UTF8_EXT (119) per name, in a list.
  const body = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([119, n.length]), Buffer.from(n)])));
  const bytes = Buffer.concat([Buffer.from([131, 108]), Buffer.from([0, 0, 0, names.length]), body, Buffer.from([106])]);
  withLimit(10, () => {
    const before = atomTableSize();
    assert.throws(
      () => decode(bytes),
      (e: unknown) => {
        assert.ok(e instanceof LimitError, String(e));
        assert.equal(e.code, 'BEAM_ERR_ETF_LIMIT_ATOMS');
        assert.equal(e.limit, 'maxAtoms');
        assert.equal(e.max, before + 10);
        // The 11th atom: version, list header (5 bytes), then 10 atoms of 2 + length bytes each.
        const at = 1 + 5 + names.slice(0, 10).reduce((n, s) => n + 2 + s.length, 0);
        assert.equal(e.offset, at);
        assert.match(e.message, new RegExp(`atom table is full \\(${before + 10} atoms\\): no new atom "${names[10]}" \\(at byte ${at}\\)`));
        return true;
      },
    );
    assert.equal(atomTableSize(), before + 10, 'the table stopped at the limit');
    assert.deepEqual(decode(known), tuple(atom('ok'), atom('error')));
    assert.equal(atom(names[3]).name, names[3], 'atoms made before the limit stay');
  });
});

test('atom() past the limit throws the same LimitError (no offset); an existing atom does not', () => {
  withLimit(0, () => {
    assert.throws(() => atom(fresh(1)[0]), (e: unknown) => e instanceof LimitError && e.code === 'BEAM_ERR_ETF_LIMIT_ATOMS' && e.offset === -1 && !/at byte/.test(e.message));
    assert.equal(atom('ok').name, 'ok');
  });
});

test('the limit is a positive integer; the default is OTP 1,048,576', () => {
  assert.equal(DEFAULT_MAX_ATOMS, 1_048_576);
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => setAtomTableLimit(bad), RangeError);
});
