/**
 * Node names with erl's rules (OTP lib/kernel/src/inet_tcp_dist.erl, net_kernel.erl, dist_util.erl):
 * - dialing (inet_tcp_dist:splitnode/3): a long-names node refuses a host without a dot unless it
 *   is an IP literal the dist driver parses (IPv6 only, and only with -proto_dist inet6_tcp); a
 *   short-names node refuses a host with a dot (so any IPv4 literal);
 * - our own name at start-up (net_kernel): alive part `^[0-9A-Za-z_-]+$`, short-names host
 *   without a dot;
 * - the acceptor (dist_util:is_name_ok/2): only syntax, exactly one `@`, both parts non-empty;
 * - net_kernel:allow/1 lists (dist_util:is_allowed/2).
 */
import { isIPv6 } from 'node:net';
import { DistError } from '../errors.js';

export interface NodeName {
  /** The part before `@` (erl's "alive" name). */
  alive: string;
  /** The part after `@`. */
  host: string;
  /** `alive@host`. */
  full: string;
}

/** Splits `alive@host`; throws DistError BEAM_ERR_DIST_BAD_NAME unless exactly one `@` with both parts non-empty. */
export function parseNodeName(name: string): NodeName {
  const problem = nameSyntaxProblem(name);
  if (problem) throw new DistError('BEAM_ERR_DIST_BAD_NAME', `node name ${JSON.stringify(name)} is illegal: ${problem}`);
  const at = name.indexOf('@');
  return { alive: name.slice(0, at), host: name.slice(at + 1), full: name };
}

/** Why a name is not `alive@host` syntactically (or undefined when it is). */
export function nameSyntaxProblem(name: string): string | undefined {
  const at = name.indexOf('@');
  if (at < 0) return "no '@' character";
  if (name.indexOf('@', at + 1) >= 0) return "more than one '@' character";
  if (at === 0) return 'empty name before @';
  if (at === name.length - 1) return 'empty host after @';
  return undefined;
}

/** dist_util:is_name_ok/2: what an OTP acceptor checks of a `send_name` name (host only with NAME_ME). */
export function isNameOk(name: string, nameMe = false): boolean {
  if (nameMe) return name.length > 0 && !name.includes('@');
  return nameSyntaxProblem(name) === undefined;
}

/** net_kernel valid_name_head/1: the alive part of our own name. */
export const isValidAlive = (alive: string): boolean => /^[0-9A-Za-z_-]+$/.test(alive);

/** Why a node with this names mode refuses to dial `host`, as erl logs it. */
export type HostProblem = 'illegal-host-long' | 'illegal-host-short';

export interface HostCheck {
  ok: boolean;
  problem?: HostProblem;
  /** The text erl logs in this case (without the `** … **` frame), for explanations. */
  message?: string;
}

/**
 * Whether a node running with long names (`-name`) or short names (`-sname`) will dial a node on
 * `host` at all (inet_tcp_dist:splitnode/3). `inet6` = the peer uses -proto_dist inet6_tcp, whose
 * address parser admits a dotless IPv6 literal.
 */
export function checkHost(host: string, longNames: boolean, inet6 = false): HostCheck {
  const dotted = host.includes('.');
  if (longNames && !dotted) {
    if (inet6 && isIPv6(host)) return { ok: true };
    return {
      ok: false,
      problem: 'illegal-host-long',
      message: `System running to use fully qualified hostnames; Hostname ${host} is illegal`,
    };
  }
  if (!longNames && dotted) {
    return {
      ok: false,
      problem: 'illegal-host-short',
      message: `System NOT running to use fully qualified hostnames; Hostname ${host} is illegal`,
    };
  }
  return { ok: true };
}

/**
 * Checks a name we dial with the names mode we run in (the same rule OTP applies before dialing).
 * Throws DistError BEAM_ERR_DIST_BAD_NAME / BEAM_ERR_DIST_ILLEGAL_HOST.
 */
export function checkDialName(name: string, longNames: boolean): NodeName {
  const n = parseNodeName(name);
  const c = checkHost(n.host, longNames, isIPv6(n.host));
  if (!c.ok) throw new DistError('BEAM_ERR_DIST_ILLEGAL_HOST', `cannot dial ${name}: ${c.message}`, { peer: name });
  return n;
}

/** Checks our own node name at start-up as net_kernel does; returns it split. */
export function checkOwnName(name: string, longNames: boolean): NodeName {
  const n = parseNodeName(name);
  if (!isValidAlive(n.alive)) {
    throw new DistError('BEAM_ERR_DIST_BAD_NAME', `node name ${JSON.stringify(name)}: the part before @ must match [0-9A-Za-z_-]+`);
  }
  if (!longNames && n.host.includes('.')) {
    throw new DistError('BEAM_ERR_DIST_BAD_NAME', `short node name ${JSON.stringify(name)} has a dot in its host (erl: Can't set short node name!)`);
  }
  // erl accepts `-name n@localhost` at start-up although no long-names peer can dial it
  // (net_kernel:create_hostpart/2 checks only the short-names case); so do we: the probe explains the consequence.
  return n;
}

/** dist_util:is_allowed/2: entries `alive@host`, `host` (no @) or `alive@` (empty host). */
export function isAllowed(name: string, allow: readonly string[]): boolean {
  const split = (s: string): { kind: 'node' | 'host' | 'name' | 'bad'; alive?: string; host?: string } => {
    const parts = s.split('@');
    if (parts.length === 2) {
      if (parts[0] === '') return { kind: 'bad' };
      return parts[1] === '' ? { kind: 'name', alive: parts[0] } : { kind: 'node', alive: parts[0], host: parts[1] };
    }
    if (parts.length === 1) return parts[0] === '' ? { kind: 'bad' } : { kind: 'host', host: parts[0] };
    return { kind: 'bad' };
  };
  const n = split(name);
  for (const entry of allow) {
    if (entry === name) return true;
    const a = split(entry);
    if (a.kind === 'node' && n.kind === 'node' && a.alive === n.alive && a.host === n.host) return true;
    if (a.kind === 'host' && (n.kind === 'node' || n.kind === 'host') && a.host === n.host) return true;
    if (a.kind === 'name' && (n.kind === 'node' || n.kind === 'name') && a.alive === n.alive) return true;
  }
  return false;
}

/**
 * Erlang's standard order on the two node atoms: used to settle simultaneous connects
 * (net_kernel: `MyNode > Node` → we keep our attempt and answer `nok`). Atoms compare by their
 * text as code points; UTF-8 byte order gives the same result.
 */
export function compareNodeNames(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}
