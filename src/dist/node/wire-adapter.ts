/**
 * Between the runtime's signals and the wire's control messages: `toControl` picks the op a peer
 * with these negotiated flags understands (control.ts helpers), `dispatchControl` hands an
 * incoming control (and its message term) to the runtime.
 */
import createDebug from 'debug';
import { Atom, Pid, atom, type Term } from '../../etf/types.js';
import { adaptToFlags, exit2Signal, linkExit, monitorExit, monitorsSupported, sendToPid, type Control } from '../protocol/control.js';
import { DFLAG } from '../protocol/flags.js';
import type { Runtime } from '../runtime/runtime.js';
import type { OutSignal } from '../runtime/signals.js';
import { formatTerm } from '../runtime/terms.js';

const log = createDebug('beamnode:dist:node');

export interface Framed {
  control: Control;
  message: Term | undefined;
}

/** The control (+ message) for a signal on a connection with `flags`; undefined = the peer cannot take it (OTP drops it too). */
export function toControl(sig: OutSignal, flags: bigint): Framed | undefined {
  switch (sig.kind) {
    case 'send':
      return { control: sendToPid(flags, sig.from, sig.to), message: sig.msg };
    case 'reg_send':
      return { control: { op: 'reg_send', from: sig.from, toName: sig.toName }, message: sig.msg };
    case 'alias_send':
      if (flags & DFLAG.ALIAS) return { control: { op: 'alias_send', from: sig.from, alias: sig.alias }, message: sig.msg };
      return sig.pid ? { control: sendToPid(flags, sig.from, sig.pid), message: sig.msg } : undefined;
    case 'link':
      return { control: { op: 'link', from: sig.from, to: sig.to }, message: undefined };
    case 'unlink_id':
      // UNLINK_ID is mandatory from OTP 26; an older peer without it gets the old UNLINK.
      return flags & DFLAG.UNLINK_ID
        ? { control: { op: 'unlink_id', id: sig.id, from: sig.from, to: sig.to }, message: undefined }
        : { control: { op: 'unlink', from: sig.from, to: sig.to }, message: undefined };
    case 'unlink_id_ack':
      return { control: { op: 'unlink_id_ack', id: sig.id, from: sig.from, to: sig.to }, message: undefined };
    case 'exit':
      return linkExit(flags, sig.from, sig.to, sig.reason);
    case 'exit2':
      return exit2Signal(flags, sig.from, sig.to, sig.reason);
    case 'monitor':
      return monitorsSupported(flags) ? { control: { op: 'monitor_p', from: sig.from, to: sig.to, ref: sig.ref }, message: undefined } : undefined;
    case 'demonitor':
      return monitorsSupported(flags) ? { control: { op: 'demonitor_p', from: sig.from, to: sig.to, ref: sig.ref }, message: undefined } : undefined;
    case 'monitor_exit':
      return monitorsSupported(flags) ? monitorExit(flags, sig.from, sig.to, sig.ref, sig.reason) : undefined;
    case 'spawn_reply':
      return adaptToFlags({ op: 'spawn_reply', reqId: sig.reqId, to: sig.to, flags: sig.flags, result: sig.result }, undefined, flags);
    case 'spawn_request':
      return adaptToFlags({ op: 'spawn_request', reqId: sig.reqId, from: sig.from, groupLeader: sig.groupLeader, mfa: sig.mfa, options: sig.options }, sig.args, flags);
    default:
      return assertNever(sig);
  }
}

function assertNever(x: never): never {
  throw new Error(`unknown signal ${String((x as { kind: string }).kind)}`);
}

export interface DispatchHooks {
  /** SPAWN_REQUEST: `args` is the argument list that followed it. */
  spawnRequest(c: Extract<Control, { op: 'spawn_request' | 'spawn_request_tt' }>, args: Term): void;
}

const NORMAL = atom('normal');

/** The sending pid a control names, for the check that it belongs to the peer. */
function senderOf(c: Control): Pid | undefined {
  if ('from' in c && c.from instanceof Pid) return c.from;
  return undefined;
}

/**
 * Routes one incoming control message to the runtime. `peer` is the connection's node atom:
 * a signal whose sender is not a process of that node is dropped (OTP kills the connection for
 * it, OTP erts/emulator/beam/dist.c erts_net_message: we only refuse the signal).
 */
export function dispatchControl(rt: Runtime, hooks: DispatchHooks, peer: Atom, c: Control, message: Term | undefined): void {
  const from = senderOf(c);
  if (from && from.node !== peer) {
    log('%s: %s from %s, not a process of that node: dropped', peer.name, c.op, String(from));
    return;
  }
  const msg = message ?? NORMAL;
  switch (c.op) {
    case 'send':
    case 'send_tt':
    case 'send_sender':
    case 'send_sender_tt':
      rt.deliver(c.to, msg);
      return;
    case 'reg_send':
    case 'reg_send_tt':
      if (!rt.deliverNamed(c.toName, msg)) log('%s: message to unregistered name %s dropped', peer.name, c.toName.name);
      return;
    case 'alias_send':
    case 'alias_send_tt':
      if (!rt.deliverAlias(c.alias, msg)) log('%s: message to inactive alias %s dropped', peer.name, String(c.alias));
      return;
    case 'link':
      rt.remoteLink(c.from, c.to);
      return;
    case 'unlink':
      rt.remoteUnlink(c.from, c.to);
      return;
    case 'unlink_id':
      rt.remoteUnlinkId(BigInt(c.id), c.from, c.to);
      return;
    case 'unlink_id_ack':
      rt.remoteUnlinkIdAck(BigInt(c.id), c.from, c.to);
      return;
    case 'exit':
    case 'exit_tt':
      rt.remoteExit(c.from, c.to, c.reason, true);
      return;
    case 'payload_exit':
    case 'payload_exit_tt':
      rt.remoteExit(c.from, c.to, msg, true);
      return;
    case 'exit2':
    case 'exit2_tt':
      rt.remoteExit(c.from, c.to, c.reason, false);
      return;
    case 'payload_exit2':
    case 'payload_exit2_tt':
      rt.remoteExit(c.from, c.to, msg, false);
      return;
    case 'monitor_p':
      rt.remoteMonitor(c.from, c.to, c.ref);
      return;
    case 'demonitor_p':
      rt.remoteDemonitor(c.from, c.to, c.ref);
      return;
    case 'monitor_p_exit':
      rt.remoteMonitorExit(c.from, c.to, c.ref, c.reason);
      return;
    case 'payload_monitor_p_exit':
      rt.remoteMonitorExit(c.from, c.to, c.ref, msg);
      return;
    case 'spawn_request':
    case 'spawn_request_tt':
      hooks.spawnRequest(c, message ?? []);
      return;
    case 'spawn_reply':
    case 'spawn_reply_tt':
      rt.remoteSpawnReply(c.reqId, c.to, c.flags, c.result);
      return;
    case 'group_leader':
    case 'altact_sig_send':
      // We keep no group leaders and do not advertise ALTACT_SIG.
      if (log.enabled) log('%s: %s ignored (%s)', peer.name, c.op, formatTerm(message ?? []));
      return;
    default:
      return assertNeverControl(c);
  }
}

function assertNeverControl(x: never): never {
  throw new Error(`unhandled control ${String((x as { op: string }).op)}`);
}
