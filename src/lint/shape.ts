/**
 * YAML gives whatever the user wrote, and the typed deserialisation does not enforce types, so
 * every field the rules read goes through these narrowers: a wrong type reads as absent.
 */

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The array's object elements (anything else: empty). */
export const objectsOf = <T extends object>(v: unknown): T[] => (Array.isArray(v) ? (v.filter(isRecord) as T[]) : []);

export const stringOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** String elements, numbers written as strings (YAML `- 9000` in args); anything else dropped. */
export const stringsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String) : [];

/** String-valued entries of a map. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
