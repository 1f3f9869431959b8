/**
 * beamnode: an Erlang distribution node, EPMD, discovery and the probe, for Node.js.
 * The codec alone is `beamnode/etf` (no sockets pulled in).
 *
 * Flat exports, kept few: the terms and what reads them (guards, formatTerm, encode/decode), the
 * Node and what users of it meet (processes, gen_server, every error class). The codec's
 * lower-level tools (Writer, encodeInto, decodeAt, pack/unpack, compareTerms) are in
 * `beamnode/etf` only. Everything else once, in a namespace whose short names (`names`,
 * `register`, `stop`) would otherwise collide: `epmd` (client, embedded server), `dist` (the
 * wire: handshake, flags, connections), `discovery`, `probe` (runProbe, renderers), `lint`.
 * test/package/exports.test.ts pins this list: an addition is a decision.
 */
export { Atom, atom, Tuple, tuple, Float, ImproperList, BitBinary, Pid, Port, Reference, Fun, ExportFun, NativeRecord, WireMap } from './etf/index.js';
export type { Term, Encodable } from './etf/index.js';
export { isTuple, isAtom, isPid, isRef, isPort, isBinary, isBitBinary, isList, isMap, isInteger, isNumber, formatTerm, termEquals } from './etf/index.js';
export { encode, decode, DecodeError, LimitError, EncodeError } from './etf/index.js';
export type { DecodeOptions, EncodeOptions, DecodeErrorCode, LimitErrorCode, EncodeErrorCode } from './etf/index.js';
export { toJson, fromJson } from './etf/index.js';
export type { JsonOptions, JsonMode, JsonValue, JsonTerm, JsonInput } from './etf/index.js';
export * from './errors.js';

export { Node, completeName, type NodeStartOptions, type NodeEvents, type NodedownReason, type NodeMonitor, type NodeLink } from './dist/node/node.js';
export { Process, type ReceiveOptions, type JsonProcess, type SendOptions } from './dist/runtime/process.js';
export type { JsonServerHandlers, JsonRpcHandler, JsonFrom } from './dist/node/json/handlers.js';
export type { Dest, MonitorTarget, SpawnOptions } from './dist/runtime/runtime.js';
export { GenServer, noReply, type From, type ServerHandlers, type ServeOptions } from './dist/node/gen-server.js';
export { ErlangException, type RpcHandler, type RpcRegistration } from './dist/node/erpc.js';
export type { CallOptions, RpcOptions } from './dist/node/calls.js';
export { PgScope, type PgOptions, type PgChange, type PgGroupMonitor, type PgScopeMonitor } from './dist/node/pg.js';
export { PhoenixPubSub, Subscription, type PubSubOptions, type SubscribeOptions, type BroadcastOptions, type Dispatch } from './dist/node/phoenix-pubsub.js';
export { SpawnError, type SpawnRemoteOptions, type RemoteSpawn } from './dist/node/spawn-remote.js';
export { QueueOverflowError, QueueEndedError, QueueBusyError } from './dist/runtime/errors.js';
export { NodeError, ProcessExitedError, CallError, RpcError, UnexpectedReplyError, type NodeErrorCode } from './dist/runtime/errors.js';
export {
  HandshakeError,
  ProtocolError,
  DistError,
  type DistErrorCode,
  type ProtocolErrorCode,
  type ProtocolErrorDetails,
  type HandshakeErrorCode,
  type HandshakeStep,
  type PeerInfo,
} from './dist/errors.js';
export type { EpmdErrorCode } from './epmd/errors.js';
export type { DnsErrorCode, KubernetesErrorCode } from './discovery/errors.js';
export type { LintErrorCode } from './lint/errors.js';
export type { DistTlsOptions } from './dist/net/transport.js';
export { EpmdError } from './epmd/index.js';
export { ProbeError, type ProbeErrorCode } from './probe/index.js';

export * as epmd from './epmd/index.js';
export * as dist from './dist/wire.js';
export * as discovery from './discovery/index.js';
export * as probe from './probe/index.js';
export * as lint from './lint/index.js';
