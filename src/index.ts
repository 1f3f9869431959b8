/**
 * beamnode: an Erlang distribution node, EPMD, discovery and the probe, for Node.js.
 * The codec alone is `beamnode/etf`.
 */
export * from './etf/index.js';
export * from './errors.js';
