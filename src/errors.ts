/**
 * The root of every error beamnode throws. Each class owns its `code`s (BEAM_ERR_…, one class per
 * code; the table is docs/errors.md) that callers switch on; messages are for people. No error
 * message or property ever holds a cookie.
 *
 * `instanceof` holds across two copies of the package (two versions in one node_modules tree, or
 * an ESM and a CJS build), as undici's errors do (lib/core/errors.js): every error carries the
 * brands of its classes under `Symbol.for('beamnode.error')`, and each class's
 * `Symbol.hasInstance` looks for its own brand there.
 */

/** The key of an error's brands: the same symbol in every copy of beamnode. */
export const kBeamnodeError: unique symbol = Symbol.for('beamnode.error') as never;

const brandsByClass = new WeakMap<object, readonly string[]>();

/** The brands of `cls` and its ancestors that declare their own `brand`. */
function brandsOf(cls: object): readonly string[] {
  let b = brandsByClass.get(cls);
  if (b) return b;
  const out: string[] = [];
  for (let c: object | null = cls; c && c !== Error; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, 'brand')) out.push((c as { brand: string }).brand);
  }
  b = Object.freeze(out);
  brandsByClass.set(cls, b);
  return b;
}

export class BeamnodeError extends Error {
  /** The class's name for `instanceof` across copies; every subclass declares its own. */
  static readonly brand: string = 'BeamnodeError';

  static override [Symbol.hasInstance](x: unknown): boolean {
    if (typeof x !== 'object' || x === null) return false;
    const brands = (x as { [kBeamnodeError]?: unknown })[kBeamnodeError];
    // A user's subclass without its own brand: the ordinary prototype check.
    if (!Array.isArray(brands) || !Object.hasOwn(this, 'brand')) return Function.prototype[Symbol.hasInstance].call(this, x);
    return brands.includes((this as unknown as { brand: string }).brand);
  }

  declare readonly [kBeamnodeError]: readonly string[];
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, kBeamnodeError, { value: brandsOf(new.target), enumerable: false });
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** Where a deadline passed. */
export type TimeoutPhase =
  /** `proc.receive({ timeout })`. */
  | 'receive'
  /** `node.call()`: no reply in time. */
  | 'call'
  /** `node.rpc()`: no reply in time. */
  | 'rpc'
  /** Making a connection (TCP or TLS connect, or the whole connect() deadline). */
  | 'connect'
  /** Resolving a peer's host name. */
  | 'resolve'
  /** A handshake step got no answer within setupTime (`step` says which). */
  | 'handshake'
  /** An EPMD did not answer (`host`, `port`). */
  | 'epmd'
  /** A remote spawn got no SPAWN_REPLY in time. */
  | 'spawn'
  /** A queue's `next()` (pg monitor, PubSub subscription) got no event in time. */
  | 'queue';

export interface TimeoutDetails {
  /** The peer node, when the deadline concerned one. */
  peer?: string;
  /** phase `handshake`: the step that got no answer (send_name, recv_challenge, …). */
  step?: string;
  /** phase `epmd`: the EPMD's host and port. */
  host?: string;
  port?: number;
  /** phase `handshake`: the first bytes the peer sent, when it never sent a whole message (a proxy's answer, a TLS alert). */
  received?: Buffer;
}

/**
 * A deadline passed (every network wait has one). One class for every phase: a `call` or `rpc`
 * whose connection could not be made in time is a TimeoutError too, with `phase` `connect`,
 * `handshake` or `epmd`. DNS and Kubernetes API timeouts are discovery outcomes of their own
 * (DnsError BEAM_ERR_DNS_TIMEOUT, KubernetesError BEAM_ERR_K8S_TIMEOUT).
 */
export class TimeoutError extends BeamnodeError {
  static override readonly brand: string = 'TimeoutError';
  declare readonly code: 'BEAM_ERR_TIMEOUT';
  readonly phase: TimeoutPhase;
  /** The deadline, in ms. */
  readonly ms: number;
  readonly peer: string | undefined;
  readonly step: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly received: Buffer | undefined;
  /** `what` names the wait (`call to {srv, 'n@h'}`); the message is "`what` timed out after `ms` ms". */
  constructor(phase: TimeoutPhase, what: string, ms: number, options?: ErrorOptions & TimeoutDetails) {
    super('BEAM_ERR_TIMEOUT', `${what} timed out after ${ms} ms`, options);
    this.phase = phase;
    this.ms = ms;
    this.peer = options?.peer;
    this.step = options?.step;
    this.host = options?.host;
    this.port = options?.port;
    this.received = options?.received;
  }
}
