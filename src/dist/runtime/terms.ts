/**
 * Term helpers the Node layer uses: keys for Maps of pids, and the codec's guards, equality and
 * printer (which live in src/etf, exported from `beamnode/etf`).
 */
import type { Pid } from '../../etf/types.js';

/** A Map key equal for equal pids. */
export const pidKey = (p: Pid): string => `${p.node.name}|${p.id}|${p.serial}|${p.creation}`;

export { isTuple } from '../../etf/terms/guards.js';
export { termEquals } from '../../etf/equal.js';
export { formatTerm } from '../../etf/terms/format.js';
