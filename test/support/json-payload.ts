/**
 * A realistic JSON API payload for the JSON-mode tests: orders with customers, line items, nulls,
 * `undefined` fields, unicode names, floats, ISO dates and (optionally) integers past 2^53.
 */
import type { JsonValue } from '../../src/etf/index.js';

/** A realistic API payload: `n` orders with customers, line items, nulls, unicode, floats, ids. */
export function apiPayload(n: number, seed = 1, big = false): Record<string, unknown> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const names = ['Ann', 'Björk', 'Zoë', '李雷', 'Ωmega', 'O\'Brien', 'emoji 🚀', ''];
  const orders = [];
  for (let i = 0; i < n; i++) {
    orders.push({
      id: i + 1,
      uuid: `ord-${(rnd() * 1e12).toFixed(0)}`,
      customer: { name: names[i % names.length], email: i % 7 === 0 ? null : `c${i}@example.com`, vip: i % 3 === 0, address: i % 5 === 0 ? null : { city: 'Zürich', zip: String(8000 + i), lines: ['Bahnhofstrasse 1', null] } },
      items: Array.from({ length: 1 + (i % 6) }, (_, j) => ({ sku: `SKU-${i}-${j}`, qty: j + 1, price: Math.round(rnd() * 100_000) / 100, discount: j % 2 ? null : 0.15, tags: j % 3 ? [] : ['gift', 'fragile'] })),
      total: Math.round(rnd() * 1e7) / 100,
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      note: i % 4 === 0 ? undefined : `note ${i} — «ok»`,
      meta: {},
    });
  }
  const out: Record<string, unknown> = { data: orders, page: { size: n, next: null, cursor: 'eyJpZCI6MTAwfQ==' }, ok: true, version: 3, ratio: -0.5, max: Number.MAX_SAFE_INTEGER };
  if (big) out.snowflake = 18446744073709551617n; // 2^64 + 1: an Erlang integer, a bigint in JS
  return out;
}

/**
 * What JSON.stringify + JSON.parse make of a value (undefined fields gone, undefined in arrays
 * null, Dates as text); bigints, which JSON cannot write, are kept as bigints.
 */
export function viaJson(v: unknown): JsonValue {
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${BIG}${x}` : x));
  return JSON.parse(text, (_k, x: unknown) => (typeof x === 'string' && x.startsWith(BIG) ? BigInt(x.slice(BIG.length)) : x)) as JsonValue;
}
const BIG = '\u0000bigint:';

