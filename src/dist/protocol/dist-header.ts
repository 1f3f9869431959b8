/**
 * The distribution header (OTP erl_ext_dist.md "Distribution Header"), pure: no sockets.
 *
 * Once DIST_HDR_ATOM_CACHE or FRAGMENTS is negotiated every frame starts with `131, 68` (normal),
 * `131, 69` (first fragment) or `131, 70` (continuation), and the terms after it carry no 131.
 * The normal and first-fragment headers list atom cache refs: new entries (slot + text) and
 * cached ones (slot only); ATOM_CACHE_REF (82, i) in the terms means the i-th ref of *this*
 * header. Each direction of a connection has its own 2048-slot cache (8 segments × 256).
 *
 * Which slot an atom takes is the sender's choice: the receiver only stores what the header says
 * (OTP hashes the atom; we hash it too, differently, and only need to be consistent with ourselves).
 */
import { decodeBodyAt, encodeBodyInto, type DecodeOptions, type Writer } from '../../etf/index.js';
import { Atom, Pid, Reference, Tuple, type Term } from '../../etf/types.js';
import { ProtocolError } from '../errors.js';
import { DEFAULT_FRAGMENT_SIZE, FragmentAssembler, fragmentFrame, type FragmentLimits } from './fragments.js';
import { passThroughCodec, PASS_THROUGH, type FrameBody } from './framing.js';

export const VERSION_MAGIC = 131;
/** `131, 68`: a whole message. */
export const DIST_HEADER = 68;
/** `131, 69`: the first fragment of a sequence (it carries the atom cache refs and the control). */
export const DIST_FRAG_HEADER = 69;
/** `131, 70`: a continuation fragment. */
export const DIST_FRAG_CONT = 70;
/** Slots in one direction's atom cache (ERTS_ATOM_CACHE_SIZE). */
export const ATOM_CACHE_SIZE = 2048;
/** At most 255 refs per header (AtomCacheReferenceIndex < 255). */
export const MAX_ATOM_CACHE_REFS = 255;
/** Bytes of `131, 69|70, SequenceId:64, FragmentId:64`. */
export const FRAGMENT_PREFIX_BYTES = 18;

const ATOM_CACHE_REF = 82;
const NEW_PID_EXT = 88;
const NEWER_REFERENCE_EXT = 90;
const SMALL_INTEGER_EXT = 97;
const SMALL_TUPLE_EXT = 104;
const LARGE_TUPLE_EXT = 105;
/** OTP limits an atom to 255 characters, at most 4 UTF-8 bytes each. */
const MAX_ATOM_BYTES = 255 * 4;
/** Term nodes of a control tuple scanned for atoms (an exit reason may be large). */
const CONTROL_SCAN_BUDGET = 256;
/** Tuple nesting the cache-aware writer follows; deeper terms go to the codec as they are. */
const MAX_DEPTH = 64;
const ATOM_TRUE = Atom.of('true');
const ATOM_FALSE = Atom.of('false');

/** The receiving direction's cache: slot → atom, as the peer's headers filled it. */
export type AtomCacheSlots = (Atom | undefined)[];

export function newAtomCacheSlots(): AtomCacheSlots {
  return new Array<Atom | undefined>(ATOM_CACHE_SIZE).fill(undefined);
}

/** A parsed header. `end` is the offset of the first byte after it (the control term, or payload). */
export type DistHeader =
  | { kind: 'normal'; refs: Atom[]; end: number }
  | { kind: 'start'; sequenceId: bigint; fragmentId: bigint; refs: Atom[]; end: number }
  | { kind: 'continuation'; sequenceId: bigint; fragmentId: bigint; end: number };

function bad(message: string): never {
  throw new ProtocolError('BEAM_ERR_DIST_HEADER', `bad distribution header: ${message}`);
}

/**
 * Parses the header at `offset` (which holds 131) and stores the new atom cache entries into
 * `cache`. Throws ProtocolError(BEAM_ERR_DIST_HEADER) for anything malformed (a ref to an empty
 * slot, a length past the end, an atom text that is not UTF-8 or too long).
 */
export function decodeDistHeader(buf: Uint8Array, offset: number, cache: AtomCacheSlots): DistHeader {
  const end = buf.length;
  if (end - offset < 3) bad(`${end - offset} bytes`);
  if (buf[offset] !== VERSION_MAGIC) bad(`starts with ${buf[offset]}, expected 131`);
  const kind = buf[offset + 1];
  let at = offset + 2;
  if (kind === DIST_HEADER) {
    const parsed = readAtomCacheRefs(buf, at, cache);
    return { kind: 'normal', refs: parsed.refs, end: parsed.end };
  }
  if (kind !== DIST_FRAG_HEADER && kind !== DIST_FRAG_CONT) bad(`tag ${kind}, expected 68, 69 or 70`);
  if (end - at < 16) bad(`fragment header of ${end - offset} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const sequenceId = view.getBigUint64(at);
  const fragmentId = view.getBigUint64(at + 8);
  at += 16;
  if (fragmentId === 0n) bad('fragment id 0');
  if (kind === DIST_FRAG_CONT) return { kind: 'continuation', sequenceId, fragmentId, end: at };
  const parsed = readAtomCacheRefs(buf, at, cache);
  return { kind: 'start', sequenceId, fragmentId, refs: parsed.refs, end: parsed.end };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // keep a leading U+FEFF in atom names

/** `NumberOfAtomCacheRefs, Flags, AtomCacheRefs` from `at`. */
function readAtomCacheRefs(buf: Uint8Array, at: number, cache: AtomCacheSlots): { refs: Atom[]; end: number } {
  const end = buf.length;
  if (at >= end) bad('no NumberOfAtomCacheRefs');
  const n = buf[at++];
  if (n === 0) return { refs: [], end: at };
  if (n > MAX_ATOM_CACHE_REFS) bad(`${n} atom cache refs (max ${MAX_ATOM_CACHE_REFS})`);
  const flagBytes = (n >> 1) + 1;
  if (end - at < flagBytes) bad(`${flagBytes} flag bytes, ${end - at} left`);
  const flagsAt = at;
  at += flagBytes;
  const longAtoms = ((buf[flagsAt + (n >> 1)] >> ((n & 1) << 2)) & 1) === 1;
  const refs = new Array<Atom>(n);
  for (let i = 0; i < n; i++) {
    const nibble = (buf[flagsAt + (i >> 1)] >> ((i & 1) << 2)) & 0xf;
    if (at >= end) bad(`ref ${i} past the end`);
    const slot = ((nibble & 7) << 8) | buf[at++];
    if (nibble & 8) {
      let len: number;
      if (longAtoms) {
        if (end - at < 2) bad(`ref ${i}: no length`);
        len = (buf[at] << 8) | buf[at + 1];
        at += 2;
      } else {
        if (at >= end) bad(`ref ${i}: no length`);
        len = buf[at++];
      }
      if (len > MAX_ATOM_BYTES) bad(`ref ${i}: atom of ${len} bytes`);
      if (end - at < len) bad(`ref ${i}: atom of ${len} bytes, ${end - at} left`);
      let name: string;
      try {
        name = UTF8.decode(buf.subarray(at, at + len));
      } catch {
        bad(`ref ${i}: atom text is not UTF-8`);
      }
      at += len;
      const a = Atom.of(name);
      cache[slot] = a;
      refs[i] = a;
    } else {
      const a = cache[slot];
      if (a === undefined) bad(`ref ${i} names empty cache slot ${slot}`);
      refs[i] = a;
    }
  }
  return { refs, end: at };
}

// ---- sending --------------------------------------------------------------------------------

/** FNV-1a over the UTF-16 code units, folded to a slot. Any stable function would do. */
export function atomSlot(a: Atom): number {
  const s = a.name;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h ^ (h >>> 11)) & (ATOM_CACHE_SIZE - 1);
}

/** Options for what the sender caches. */
export interface AtomCacheOutOptions {
  /**
   * How many term nodes of the *message* to scan for atoms to cache (the control term is always
   * scanned). 0 caches control atoms only. Default 64: the atoms of small messages such as
   * `{'$gen_call', {Pid, Ref}, {get, key}}`, not of large lists.
   */
  messageScanBudget?: number;
}

/**
 * The sending direction: our view of the peer's receive cache, and the encoder that writes
 * `NumberOfAtomCacheRefs, Flags, AtomCacheRefs, Control [, Message]` with ATOM_CACHE_REFs.
 * One per connection; encode one message at a time (not re-entrant).
 */
export class AtomCacheOut {
  private readonly slots: AtomCacheSlots = newAtomCacheSlots();
  private readonly budget: number;
  // Per-message state, reused: the refs in header order, and per slot the ref that holds it
  // (valid when slotStamp[slot] === stamp). No Map: a slot names at most one ref per message.
  private readonly refs: Atom[] = new Array<Atom>(MAX_ATOM_CACHE_REFS);
  private readonly refSlot = new Uint16Array(MAX_ATOM_CACHE_REFS);
  private readonly refNew = new Uint8Array(MAX_ATOM_CACHE_REFS);
  private count = 0;
  private readonly slotStamp = new Uint32Array(ATOM_CACHE_SIZE);
  private readonly slotRef = new Uint8Array(ATOM_CACHE_SIZE);
  private stamp = 0;
  /** The header's flag nibbles, built before they are written (at most 255 refs + 1). */
  private readonly flagScratch = new Uint8Array((MAX_ATOM_CACHE_REFS >> 1) + 1);
  private scanLeft = 0;

  constructor(o: AtomCacheOutOptions = {}) {
    this.budget = o.messageScanBudget ?? 64;
  }

  /** How many slots hold an atom (for tests and stats). */
  get size(): number {
    let n = 0;
    for (const a of this.slots) if (a !== undefined) n++;
    return n;
  }

  /**
   * Appends header refs, the control term and the message term (no 131s) to `w`. Returns the
   * offset in `w` where the message starts (w.length when there is none) so a fragmenter knows
   * what must stay in the first fragment. The cache is updated only once everything is encoded:
   * an EncodeError leaves it as it was (the caller drops the bytes).
   */
  encode(w: Writer, control: Term, message: Term | undefined): number {
    this.count = 0;
    if (++this.stamp === 0xffffffff) {
      this.slotStamp.fill(0);
      this.stamp = 1;
    }
    this.scanLeft = CONTROL_SCAN_BUDGET;
    this.collect(control, 0);
    if (message !== undefined && this.budget > 0) {
      this.scanLeft = this.budget;
      this.collect(message, 0);
    }
    this.writeRefs(w);
    this.writeTerm(w, control, 0);
    const messageAt = w.length;
    if (message !== undefined) {
      if (this.budget > 0) this.writeTerm(w, message, 0);
      else encodeBodyInto(w, message);
    }
    for (let i = 0; i < this.count; i++) if (this.refNew[i] === 1) this.slots[this.refSlot[i]] = this.refs[i];
    return messageAt;
  }

  /** The ref index of `a` in this message, or -1. */
  private refOf(a: Atom): number {
    const slot = atomSlot(a);
    if (this.slotStamp[slot] !== this.stamp) return -1;
    const i = this.slotRef[slot];
    return this.refs[i] === a ? i : -1;
  }

  /** Registers `a` as a ref of this message if there is room and its slot is free. */
  private want(a: Atom): void {
    const slot = atomSlot(a);
    if (this.slotStamp[slot] === this.stamp) return; // this atom already, or another one: inline
    if (this.count >= MAX_ATOM_CACHE_REFS) return;
    // 340 UTF-16 units are at most 1020 UTF-8 bytes; longer names are measured (the codec rejects them).
    const name = a.name;
    if (name.length > 340 && Buffer.byteLength(name, 'utf8') > MAX_ATOM_BYTES) return;
    const i = this.count++;
    this.slotStamp[slot] = this.stamp;
    this.slotRef[slot] = i;
    this.refs[i] = a;
    this.refSlot[i] = slot;
    this.refNew[i] = this.slots[slot] === a ? 0 : 1;
  }

  /** Walks tuples, pids and references for atoms (the shapes of control tuples and small messages). */
  private collect(t: Term, depth: number): void {
    if (this.scanLeft-- <= 0) return;
    if (typeof t !== 'object' || t === null) {
      if (typeof t === 'boolean') this.want(t ? ATOM_TRUE : ATOM_FALSE);
      return;
    }
    // constructor checks: one load each, where instanceof walks a Buffer's prototype chain.
    const k = t.constructor;
    if (k === Atom) this.want(t as Atom);
    else if (k === Tuple) {
      if (depth >= MAX_DEPTH) return;
      const e = (t as Tuple).elements;
      for (let i = 0; i < e.length; i++) this.collect(e[i], depth + 1);
    } else if (k === Pid || k === Reference) this.want((t as Pid | Reference).node);
  }

  private writeRefs(w: Writer): void {
    const n = this.count;
    w.u8(n);
    if (n === 0) return;
    let long = false;
    for (let i = 0; i < n; i++) if (this.refNew[i] === 1 && Buffer.byteLength(this.refs[i].name, 'utf8') > 255) long = true;
    // The flags (a nibble per ref, then one for the header) are known before the refs are written.
    const flags = this.flagScratch.subarray(0, (n >> 1) + 1).fill(0);
    for (let i = 0; i < n; i++) {
      flags[i >> 1] |= ((this.refNew[i] === 1 ? 8 : 0) | (this.refSlot[i] >> 8)) << ((i & 1) << 2);
    }
    if (long) flags[n >> 1] |= 1 << ((n & 1) << 2);
    w.bytes(flags);
    for (let i = 0; i < n; i++) {
      const slot = this.refSlot[i];
      const isNew = this.refNew[i] === 1;
      w.u8(slot & 0xff);
      if (isNew) {
        const text = Buffer.from(this.refs[i].name, 'utf8');
        if (long) w.u16(text.length);
        else w.u8(text.length);
        w.bytes(text);
      }
    }
  }

  /** Writes `t` with cache refs for the registered atoms; other shapes go to the codec. */
  private writeTerm(w: Writer, t: Term, depth: number): void {
    if (typeof t !== 'object' || t === null) {
      if (typeof t === 'boolean') {
        const i = this.refOf(t ? ATOM_TRUE : ATOM_FALSE);
        if (i >= 0) w.u8(ATOM_CACHE_REF).u8(i);
        else encodeBodyInto(w, t);
      } else if (typeof t === 'number' && (t & 0xff) === t && !Object.is(t, -0)) {
        w.u8(SMALL_INTEGER_EXT).u8(t);
      } else {
        encodeBodyInto(w, t);
      }
      return;
    }
    const k = t.constructor;
    if (k === Atom) {
      const i = this.refOf(t as Atom);
      if (i >= 0) w.u8(ATOM_CACHE_REF).u8(i);
      else encodeBodyInto(w, t);
    } else if (k === Tuple && depth < MAX_DEPTH) {
      const e = (t as Tuple).elements;
      if (e.length < 256) w.u8(SMALL_TUPLE_EXT).u8(e.length);
      else w.u8(LARGE_TUPLE_EXT).u32(e.length);
      for (let i = 0; i < e.length; i++) this.writeTerm(w, e[i], depth + 1);
    } else if (k === Pid) {
      const p = t as Pid;
      const i = this.refOf(p.node);
      if (i < 0) return encodeBodyInto(w, t);
      w.u8(NEW_PID_EXT).u8(ATOM_CACHE_REF).u8(i);
      w.u32(p.id).u32(p.serial).u32(p.creation);
    } else if (k === Reference) {
      const r = t as Reference;
      const i = this.refOf(r.node);
      const n = r.ids.length;
      if (i < 0 || n < 1 || n > 5) return encodeBodyInto(w, t);
      w.u8(NEWER_REFERENCE_EXT).u16(n).u8(ATOM_CACHE_REF).u8(i);
      w.u32(r.creation);
      for (let j = 0; j < n; j++) w.u32(r.ids[j]);
    } else {
      encodeBodyInto(w, t);
    }
  }
}

// ---- the frame codec --------------------------------------------------------------------------

export interface DistHeaderCodecOptions {
  /** DIST_HDR_ATOM_CACHE negotiated: cache atoms when sending. Without it (FRAGMENTS only) every header has 0 refs, as OTP sends. */
  atomCache?: boolean;
  /** FRAGMENTS negotiated: splitFrame() cuts big messages. */
  fragments?: boolean;
  /** Message bytes per fragment (default 64 KiB, as OTP). */
  fragmentSize?: number;
  /** Bounds on reassembly of the peer's fragments. */
  fragmentLimits?: Partial<FragmentLimits>;
  /** See AtomCacheOutOptions. */
  messageScanBudget?: number;
  /** Options for decoding incoming terms (limits, mappings); `atomCache` is set per frame. */
  decodeOptions?: DecodeOptions;
}

/**
 * The frame codec once DIST_HDR_ATOM_CACHE or FRAGMENTS is negotiated: `131,68` headers out,
 * `131,68/69/70` in (and `112` pass-through in, which OTP never sends then, but costs nothing).
 * decodeFrame() returns undefined for a fragment that does not complete a message.
 */
export interface DistHeaderCodec {
  /** Appends one whole `len:32, 131, 68, …` frame for `control` [+ `message`] to `w`. */
  encodeFrame(w: Writer, control: Term, message?: Term): void;
  decodeFrame(payload: Buffer): FrameBody | undefined;
  /**
   * For the frame just encoded by encodeFrame() (and taken out of the writer): its fragments as
   * `[head, payload]` pairs when it is bigger than one fragment and FRAGMENTS is negotiated, else
   * undefined. Write the first pair before any later frame (its header may fill cache slots that
   * later frames use); the rest may be interleaved with other frames.
   */
  splitFrame(frame: Buffer): Iterable<[Buffer, Buffer]> | undefined;
  /** Frees reassembly state (the connection closed). */
  close(): void;
  pendingBytes(): number;
  readonly assembler: FragmentAssembler;
}

export function distHeaderCodec(o: DistHeaderCodecOptions = {}): DistHeaderCodec {
  const out = o.atomCache === false ? undefined : new AtomCacheOut({ messageScanBudget: o.messageScanBudget });
  const inCache = newAtomCacheSlots();
  const fragments = o.fragments === true;
  const fragmentSize = o.fragmentSize ?? DEFAULT_FRAGMENT_SIZE;
  if (!(fragmentSize >= 256)) throw new RangeError(`fragment size ${fragmentSize} (at least 256)`);
  const assembler = new FragmentAssembler(o.fragmentLimits);
  const opts: DecodeOptions = { ...o.decodeOptions };
  const passThrough = passThroughCodec(o.decodeOptions);
  let lastLength = -1;
  let lastMessageAt = 0;
  let nextSequence = 1n;

  const body = (buf: Buffer, at: number, refs: Atom[]): FrameBody => {
    opts.atomCache = refs;
    const c = decodeBodyAt(buf, at, opts);
    if (c.end === buf.length) return { control: c.term, message: undefined };
    const m = decodeBodyAt(buf, c.end, opts);
    if (m.end !== buf.length) {
      throw new ProtocolError('BEAM_ERR_DIST_PROTOCOL', `${buf.length - m.end} bytes after the message term`);
    }
    return { control: c.term, message: m.term };
  };

  return {
    assembler,
    encodeFrame(w: Writer, control: Term, message?: Term): void {
      const lenAt = w.reserve(4);
      w.u8(VERSION_MAGIC).u8(DIST_HEADER);
      let messageAt: number;
      if (out) {
        messageAt = out.encode(w, control, message);
      } else {
        w.u8(0);
        encodeBodyInto(w, control);
        messageAt = w.length;
        if (message !== undefined) encodeBodyInto(w, message);
      }
      w.patchU32(lenAt, w.length - lenAt - 4);
      lastLength = w.length - lenAt;
      lastMessageAt = messageAt - lenAt;
    },
    decodeFrame(payload: Buffer): FrameBody | undefined {
      if (payload[0] === PASS_THROUGH) return passThrough.decodeFrame(payload);
      const h = decodeDistHeader(payload, 0, inCache);
      if (h.kind === 'normal') return body(payload, h.end, h.refs);
      const m =
        h.kind === 'start'
          ? assembler.start(h.sequenceId, h.fragmentId, h.refs, payload.subarray(h.end))
          : assembler.continue(h.sequenceId, h.fragmentId, payload.subarray(h.end));
      return m === undefined ? undefined : body(m.body, 0, m.refs);
    },
    splitFrame(frame: Buffer): Iterable<[Buffer, Buffer]> | undefined {
      if (!fragments || frame.length !== lastLength || frame.length - lastMessageAt <= fragmentSize) return undefined;
      return fragmentFrame(frame, lastMessageAt, nextSequence++, fragmentSize);
    },
    close(): void {
      assembler.clear();
    },
    pendingBytes(): number {
      return assembler.pendingBytes;
    },
  };
}
