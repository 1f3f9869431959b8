/**
 * The package's runtime exports, pinned: `beamnode` is the codec (all of `beamnode/etf`), the Node
 * and what its users meet, every error class, and the lower layers as namespaces only (no flat
 * duplicates such as a root `runProbe` beside `probe.runProbe`). Adding a name is a decision: update
 * the lists here, README and docs/api.md (npm run docs:api) with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as root from '../../src/index.js';
import * as etf from '../../src/etf/index.js';
import { BeamnodeError } from '../../src/errors.js';

const ETF = [
  'Atom', 'BitBinary', 'DEFAULT_LIMITS', 'DEFAULT_MAX_ATOMS', 'DecodeError', 'EncodeError', 'ExportFun', 'Float', 'Fun', 'ImproperList',
  'LimitError', 'NativeRecord', 'Pid', 'Port', 'Reference', 'Tuple', 'WireMap', 'Writer', 'atom', 'atomTableSize', 'compareTerms',
  'decode', 'decodeAt', 'decodeBodyAt', 'encode', 'encodeBodyInto', 'encodeInto', 'pack', 'setAtomTableLimit', 'termEquals', 'tuple', 'unpack',
];
const NODE = [
  'GenServer', 'Node', 'PgScope', 'PhoenixPubSub', 'Process', 'Subscription', 'completeName', 'formatTerm', 'isTuple', 'noReply',
  'BeamnodeError', 'kBeamnodeError', 'CallError', 'DistError', 'EpmdError', 'ErlangException', 'HandshakeError', 'NodeError', 'ProbeError',
  'ProcessExitedError', 'ProtocolError', 'QueueBusyError', 'QueueEndedError', 'QueueOverflowError', 'RpcError', 'SpawnError', 'TimeoutError',
];
const NAMESPACES = ['discovery', 'dist', 'epmd', 'lint', 'probe'];

const diff = (got: string[], want: string[]) =>
  `added: ${got.filter((k) => !want.includes(k)).join(', ') || '-'}; removed: ${want.filter((k) => !got.includes(k)).join(', ') || '-'}`;

test('beamnode/etf exports the codec and nothing else', () => {
  const got = Object.keys(etf).sort();
  assert.deepEqual(got, [...ETF].sort(), diff(got, ETF));
});

test('beamnode exports the codec, the Node, every error class and five namespaces', () => {
  const want = [...ETF, ...NODE, ...NAMESPACES].sort();
  const got = Object.keys(root).sort();
  assert.deepEqual(got, want, diff(got, want));
  for (const k of ETF) assert.equal((root as Record<string, unknown>)[k], (etf as Record<string, unknown>)[k], `${k} is the codec's own`);
});

test('no name is exported both flat and inside a namespace, but the error classes (caught by class)', () => {
  const flat = new Map(Object.entries(root).filter(([k]) => !NAMESPACES.includes(k)));
  for (const ns of NAMESPACES) {
    for (const [k, v] of Object.entries((root as unknown as Record<string, Record<string, unknown>>)[ns])) {
      if (flat.get(k) !== v) continue;
      const isErrorClass = typeof v === 'function' && (v === BeamnodeError || v.prototype instanceof BeamnodeError || v.prototype instanceof Error);
      assert.ok(isErrorClass || ETF.includes(k), `${ns}.${k} is also exported flat`);
    }
  }
});
