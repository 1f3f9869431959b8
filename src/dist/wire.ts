/** The distribution wire, for tools that need it below the Node: handshake, flags, names, connections. */
export { DistNetwork, DEFAULT_MAX_FRAME_TERMS, DEFAULT_MAX_INBOUND_HANDSHAKES, type DistNetworkOptions, type ConnectOptions } from './net/network.js';
export type { DistTlsOptions } from './net/transport.js';
export { Connection, type ConnectionOptions } from './net/connection.js';
export { HandshakeError, ProtocolError, DistError, type PeerInfo, type HandshakeStep, type HandshakeErrorCode } from './errors.js';
export { DFLAG, DEFAULT_FLAGS, MANDATORY_25, MANDATORY_26, ourFlags, flagNames, missingMandatory } from './protocol/flags.js';
export { controlToTuple, tupleToControl, OP, type Control, type ControlOp } from './protocol/control.js';
export { parseNodeName, checkHost, checkDialName, isAllowed } from './protocol/names.js';
export { resolveCookie } from './net/cookie.js';
export { handshakeWeStarted, handshakeOtherStarted, type HandshakeIdentity, type HandshakeResult } from './net/handshake.js';
export { HOT_PATH_FLAGS } from './protocol/flags.js';
export { decodeDistHeader, type DistHeader } from './protocol/dist-header.js';
export { FragmentAssembler, fragmentFrame, DEFAULT_FRAGMENT_LIMITS, DEFAULT_FRAGMENT_SIZE, type FragmentLimits } from './protocol/fragments.js';
export { FrameSender } from './net/frame-sender.js';
