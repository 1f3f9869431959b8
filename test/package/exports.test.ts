/**
 * The package's runtime exports, pinned: `beamnode` is the terms and their tools (a part of `beamnode/etf`), the Node
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
  'decode', 'decodeAt', 'decodeBodyAt', 'decodeJson', 'encode', 'encodeBodyInto', 'encodeInto', 'encodeJson', 'formatTerm', 'fromJson',
  'isAtom', 'isBinary', 'isBitBinary', 'isInteger', 'isList', 'isMap', 'isNumber', 'isPid', 'isPort', 'isRef', 'isTuple', 'pack',
  'setAtomTableLimit', 'termEquals', 'toJson', 'tuple', 'unpack',
];
/** The codec's names the root repeats: the terms, their guards and printing, encode/decode, JSON mode. */
const ROOT_CODEC = [
  'Atom', 'BitBinary', 'DecodeError', 'EncodeError', 'ExportFun', 'Float', 'Fun', 'ImproperList', 'LimitError', 'NativeRecord', 'Pid',
  'Port', 'Reference', 'Tuple', 'WireMap', 'atom', 'decode', 'encode', 'formatTerm', 'fromJson', 'isAtom', 'isBinary', 'isBitBinary',
  'isInteger', 'isList', 'isMap', 'isNumber', 'isPid', 'isPort', 'isRef', 'isTuple', 'termEquals', 'toJson', 'tuple',
];
const NODE = [
  'GenServer', 'Node', 'PgScope', 'PhoenixPubSub', 'Process', 'Subscription', 'completeName', 'noReply',
  'BeamnodeError', 'kBeamnodeError', 'CallError', 'DistError', 'EpmdError', 'ErlangException', 'HandshakeError', 'NodeError', 'ProbeError',
  'ProcessExitedError', 'ProtocolError', 'QueueBusyError', 'QueueEndedError', 'QueueOverflowError', 'RpcError', 'SpawnError', 'TimeoutError',
  'UnexpectedReplyError',
];
const NAMESPACES = ['discovery', 'dist', 'epmd', 'lint', 'probe'];

const diff = (got: string[], want: string[]) =>
  `added: ${got.filter((k) => !want.includes(k)).join(', ') || '-'}; removed: ${want.filter((k) => !got.includes(k)).join(', ') || '-'}`;

test('beamnode/etf exports the codec and nothing else', () => {
  const got = Object.keys(etf).sort();
  assert.deepEqual(got, [...ETF].sort(), diff(got, ETF));
});

test('beamnode exports the terms and their tools, the Node, every error class and five namespaces', () => {
  const want = [...ROOT_CODEC, ...NODE, ...NAMESPACES].sort();
  const got = Object.keys(root).sort();
  assert.deepEqual(got, want, diff(got, want));
  for (const k of ROOT_CODEC) assert.equal((root as Record<string, unknown>)[k], (etf as Record<string, unknown>)[k], `${k} is the codec's own`);
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
