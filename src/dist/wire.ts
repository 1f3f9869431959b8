/** The distribution wire, for tools that need it below the Node: handshake, flags, names, connections. */
export { DistNetwork, DEFAULT_MAX_FRAME_TERMS, DEFAULT_MAX_INBOUND_HANDSHAKES, type DistNetworkOptions, type ConnectOptions } from './network.js';
export type { DistTlsOptions } from './transport.js';
export { Connection, type ConnectionOptions } from './connection.js';
export { HandshakeError, ProtocolError, DistError, type PeerInfo, type HandshakeStep, type HandshakeErrorCode } from './errors.js';
export { DFLAG, DEFAULT_FLAGS, MANDATORY_25, MANDATORY_26, ourFlags, flagNames, missingMandatory } from './flags.js';
export { controlToTuple, tupleToControl, OP, type Control, type ControlOp } from './control.js';
export { parseNodeName, checkHost, checkDialName, isAllowed } from './names.js';
export { resolveCookie } from './cookie.js';
export { handshakeWeStarted, handshakeOtherStarted, type HandshakeIdentity, type HandshakeResult } from './handshake.js';
export { hotPathDefaults, HOT_PATH_FLAGS } from './flags.js';
export { decodeDistHeader, type DistHeader } from './dist-header.js';
export { FragmentAssembler, FrameSender, fragmentFrame, DEFAULT_FRAGMENT_LIMITS, DEFAULT_FRAGMENT_SIZE, type FragmentLimits } from './fragments.js';
