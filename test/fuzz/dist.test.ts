// Fuzzing the distribution layer: the handshake message codecs, both handshake state machines
// over loopback (a scripted peer sends mutated real handshake bytes), the 2- and 4-byte frame
// readers, the pass-through frame body and control decoder, and a live Connection fed garbage.
// Every failure must be the layer's typed error: ProtocolError/HandshakeError (DecodeError for
// term bytes), never a RangeError/TypeError, a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { DecodeError } from '../../src/etf/index.js';
import { Connection } from '../../src/dist/net/connection.js';
import { tupleToControl } from '../../src/dist/protocol/control.js';
import { digest } from '../../src/dist/net/cookie.js';
import { DistError, HandshakeError, ProtocolError } from '../../src/dist/errors.js';
import { DEFAULT_FLAGS } from '../../src/dist/protocol/flags.js';
import { FrameReader, passThroughCodec } from '../../src/dist/protocol/framing.js';
import { distHeaderCodec } from '../../src/dist/protocol/dist-header.js';
import { decode, Writer } from '../../src/etf/index.js';
import { handshakeOtherStarted, handshakeWeStarted, type HandshakeIdentity, type HandshakeResult } from '../../src/dist/net/handshake.js';
import {
  decodeChallenge,
  decodeChallengeAck,
  decodeChallengeReply,
  decodeComplement,
  decodeSendName,
  decodeStatus,
  encodeChallenge,
  encodeChallengeAck,
  encodeChallengeReply,
  encodeComplement,
  encodeSendNameOld,
  encodeStatus,
  frame2,
} from '../../src/dist/protocol/handshake-messages.js';
import { OTP25_TERMS } from './corpus.js';
import { expectTyped, fuzzIterations, fuzzSeed, hex, memoryCost, MiB, mutate, Rng, untyped } from './harness.js';

const SEED = fuzzSeed();
console.log(`# fuzz dist: BEAMNODE_FUZZ_SEED=${SEED}`);

// Real handshake payloads (captured from OTP 25) and ones our encoders make in the same shapes.
const OTP_SEND_NAME = hex('4e 0000000d07df7fbd 6b048f4f 000d 6331304031 32372e302e302e31');
const OTP_NAMED = Buffer.concat([hex('736e616d65643a 0017'), Buffer.from('3UIBGQRA7JJQS@127.0.0.1'), hex('542f5910')]);
const CHALLENGE = encodeChallenge({ flags: 0xd07df7fbdn, challenge: 0x12345678, creation: 0x6b048f4f, name: 'n1@127.0.0.1' });
const HANDSHAKE_PAYLOADS = [
  OTP_SEND_NAME,
  encodeSendNameOld({ flags: 0x7df7fbdn, name: 'old@127.0.0.1' }),
  hex('736f6b'),
  hex('73616c697665'),
  hex('736e6f6b'),
  hex('736e6f745f616c6c6f776564'),
  OTP_NAMED,
  CHALLENGE,
  encodeComplement({ flagsHigh: 0xd, creation: 7 }),
  encodeChallengeReply({ challenge: 0x9abcdef0, digest: digest(0x12345678, 'cookie') }),
  encodeChallengeAck(digest(0x9abcdef0, 'cookie')),
];
const DECODERS: [string, (p: Buffer) => unknown][] = [
  ['send_name', decodeSendName],
  ['status', decodeStatus],
  ['challenge', decodeChallenge],
  ['complement', decodeComplement],
  ['challenge_reply', decodeChallengeReply],
  ['challenge_ack', decodeChallengeAck],
];

test(`handshake message decoders: mutations and random bytes end in ProtocolError (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(10);
  const n = fuzzIterations(20_000);
  for (let i = 0; i < n; i++) {
    const input = rng.bool(0.8) ? mutate(rng, rng.pick(HANDSHAKE_PAYLOADS)) : rng.bytes(rng.int(40));
    for (const [name, dec] of DECODERS) expectTyped(dec, input, [ProtocolError], { target: `handshake ${name}`, seed: SEED, i });
  }
});

/** Frames of random sizes, as one stream; then the stream cut into random chunks. */
function randomFrames(rng: Rng, header: 2 | 4, count: number): { frames: Buffer[]; wire: Buffer } {
  const frames: Buffer[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const f = rng.bytes(rng.bool(0.1) ? 0 : rng.int(rng.bool(0.05) ? 70_000 : 300) % (header === 2 ? 0x10000 : Infinity));
    const len = Buffer.allocUnsafe(header);
    if (header === 2) len.writeUInt16BE(f.length);
    else len.writeUInt32BE(f.length);
    frames.push(f);
    parts.push(len, f);
  }
  return { frames, wire: Buffer.concat(parts) };
}

function chunks(rng: Rng, wire: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < wire.length; ) {
    const n = 1 + rng.int(rng.bool(0.3) ? 8 : 5000);
    out.push(wire.subarray(at, at + n));
    at += n;
  }
  return out;
}

test(`frame readers (2- and 4-byte): any chunking gives the same frames; garbage gives ProtocolError only (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(11);
  const n = fuzzIterations(300, 1 / 20);
  for (let i = 0; i < n; i++) {
    const header = rng.bool() ? 2 : 4;
    const { frames, wire } = randomFrames(rng, header, 1 + rng.int(20));
    const got: Buffer[] = [];
    const r = new FrameReader(header, header === 2 ? 0xffff : 1 * MiB);
    for (const c of chunks(rng, wire)) r.push(c, (f) => void got.push(Buffer.from(f)));
    assert.equal(got.length, frames.length, `seed ${SEED} iteration ${i}: frame count`);
    for (let k = 0; k < frames.length; k++) assert.ok(got[k].equals(frames[k]), `seed ${SEED} iteration ${i}: frame ${k}`);
    assert.equal(r.bufferedBytes, 0);
    // The same stream mutated (lengths included): frames or FRAME_TOO_LARGE, nothing else.
    const bad = mutate(rng, wire.subarray(0, 4096));
    const r2 = new FrameReader(header, 64 * 1024);
    expectTyped((b) => { for (const c of chunks(rng, b)) r2.push(c, () => {}); }, bad, [ProtocolError], { target: 'frame reader', seed: SEED, i });
  }
});

test('a 4-byte reader refuses a 4 GiB length claim before buffering anything', async () => {
  const cost = await memoryCost(() => {
    const r = new FrameReader(4);
    assert.throws(() => r.push(hex('ffffffff 00 01 02'), () => {}), (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_FRAME_TOO_LARGE');
    // And when the claim arrives one byte at a time.
    const r2 = new FrameReader(4);
    r2.push(hex('ff'), () => {});
    r2.push(hex('ff'), () => {});
    r2.push(hex('ff'), () => {});
    assert.throws(() => r2.push(hex('ff'), () => {}), ProtocolError);
  });
  assert.ok(cost.peakGrowth < 16 * MiB, `peak RSS grew ${cost.peakGrowth}`);
});

// Frame bodies: `112, 131 Control [131 Message]` made from real OTP 25 control tuples and terms.
const TERMS = OTP25_TERMS.filter(([n]) => !n.startsWith('ctl_')).map(([, h]) => hex(h));
const CONTROLS = OTP25_TERMS.filter(([n]) => n.startsWith('ctl_')).map(([, h]) => hex(h));

test(`frame body + control decoder: mutated real frames end in ProtocolError or DecodeError (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(12);
  const codecs = [passThroughCodec(), passThroughCodec({ limits: { maxDepth: 32, maxTerms: 1000 } })];
  const n = fuzzIterations(20_000);
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const frame = Buffer.concat([Buffer.of(112), rng.pick(CONTROLS), ...(rng.bool() ? [rng.pick(TERMS)] : [])]);
    const input = rng.bool(0.9) ? mutate(rng, frame) : Buffer.concat([Buffer.of(112, 131), rng.bytes(rng.int(40))]);
    if (input.length === 0) continue; // an empty frame is a tick: the connection handles it before the codec
    const r = expectTyped((b) => tupleToControl(rng.pick(codecs).decodeFrame(b).control), input, [ProtocolError, DecodeError], {
      target: 'control',
      seed: SEED,
      i,
    });
    if (!(r instanceof Error)) controls++;
  }
  assert.ok(controls > 0, 'some mutations still decode to controls (the fuzzer reaches past the first checks)');
});

/** `131,68` frames (atom cache refs) and `131,69/70` fragment sequences as our encoder makes them, from the OTP 25 terms. */
function distHeaderFrames(): Buffer[] {
  const enc = distHeaderCodec({ atomCache: true, fragments: true, fragmentSize: 256 });
  const w = new Writer(1024);
  const out: Buffer[] = [];
  for (const c of CONTROLS) {
    for (const t of TERMS) {
      w.reset();
      enc.encodeFrame(w, decode(c), decode(t));
      const frame = w.take();
      const parts = enc.splitFrame(frame);
      if (parts) for (const [head, body] of parts) out.push(Buffer.concat([head, body]).subarray(4));
      else out.push(frame.subarray(4));
    }
  }
  enc.close();
  return out;
}

test(`distribution header codec (atom cache, fragments): mutated frame streams end in ProtocolError or DecodeError (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(16);
  const frames = distHeaderFrames();
  const n = fuzzIterations(20_000);
  let codec = distHeaderCodec({ atomCache: true, fragments: true, fragmentLimits: { maxBytes: 4 * MiB, maxSequences: 8 } });
  let decoded = 0;
  try {
    for (let i = 0; i < n; i++) {
      // A run of frames in order (so cache refs and fragment sequences build up), some mutated.
      const start = rng.int(frames.length);
      for (let k = 0; k < 1 + rng.int(12); k++) {
        const f = frames[(start + k) % frames.length];
        const input = rng.bool(0.3) ? mutate(rng, f) : f;
        if (input.length === 0) continue;
        const r = expectTyped((b) => codec.decodeFrame(b), input, [ProtocolError, DecodeError], { target: 'dist header', seed: SEED, i });
        if (r instanceof Error) {
          // The connection would close here: start over with a fresh codec, as a new connection does.
          codec.close();
          codec = distHeaderCodec({ atomCache: true, fragments: true, fragmentLimits: { maxBytes: 4 * MiB, maxSequences: 8 } });
          break;
        }
        if (r) {
          decoded++;
          expectTyped(() => tupleToControl(r.control), input, [ProtocolError], { target: 'dist header control', seed: SEED, i });
        }
      }
    }
  } finally {
    codec.close();
  }
  assert.ok(decoded > 0, 'unmutated frames decode');
});

// ---- over sockets: both handshake state machines and a live connection -------------------------

const US: HandshakeIdentity = { name: 'us@127.0.0.1', cookie: 'fuzzcookie', creation: 77, flags: DEFAULT_FLAGS };

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

/** The handshake must settle (no hang: setupTime bounds it) with a HandshakeError or a result. */
async function settle(p: Promise<HandshakeResult>, input: Buffer, where: { target: string; seed: number; i: number }): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof HandshakeError)) throw untyped(e, input, where);
  }
}

test(`acceptor handshake: a peer sending mutated send_name/reply bytes gets a HandshakeError (seed ${SEED})`, async () => {
  const rng = new Rng(SEED).fork(13);
  const n = fuzzIterations(400, 1 / 20);
  let pending: Promise<HandshakeResult> | undefined;
  const { server, port } = await listen((s) => {
    s.on('error', () => {});
    pending = handshakeOtherStarted(s, US, 'fuzz', { setupTime: 1000 });
  });
  try {
    for (let i = 0; i < n; i++) {
      const name = rng.bool(0.7) ? OTP_SEND_NAME : encodeSendNameOld({ flags: 0x7df7fbdn, name: 'old@127.0.0.1' });
      const follow = rng.pick(HANDSHAKE_PAYLOADS);
      const wire = mutate(rng, Buffer.concat([frame2(name), frame2(follow)]));
      const c = await dial(port);
      c.on('error', () => {});
      c.resume();
      c.end(wire);
      for (let k = 0; k < 100 && !pending; k++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(pending, 'the server saw the connection');
      await settle(pending, wire, { target: 'acceptor handshake', seed: SEED, i });
      pending = undefined;
      c.destroy();
    }
  } finally {
    server.close();
  }
});

test(`initiator handshake: a peer answering with mutated status/challenge/ack bytes gets a HandshakeError (seed ${SEED})`, async () => {
  const rng = new Rng(SEED).fork(14);
  const n = fuzzIterations(400, 1 / 20);
  let wire: Buffer = Buffer.alloc(0);
  const { server, port } = await listen((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end(wire)); // after our send_name: the scripted answer, then EOF
  });
  try {
    for (let i = 0; i < n; i++) {
      const status = rng.pick([hex('736f6b'), hex('73616c697665'), hex('736e6f6b'), OTP_NAMED]);
      wire = mutate(rng, Buffer.concat([frame2(status), frame2(CHALLENGE), frame2(encodeChallengeAck(digest(1, US.cookie)))]));
      const c = await dial(port);
      c.on('error', () => {});
      await settle(handshakeWeStarted(c, US, 'n1@127.0.0.1', { setupTime: 1000 }), wire, { target: 'initiator handshake', seed: SEED, i });
      c.destroy();
    }
  } finally {
    server.close();
  }
});

test(`a live Connection fed mutated frames closes with a ProtocolError and never throws (seed ${SEED})`, async () => {
  const rng = new Rng(SEED).fork(15);
  const n = fuzzIterations(400, 1 / 20);
  const hs: HandshakeResult = {
    peer: 'peer@127.0.0.1', peerFlags: DEFAULT_FLAGS, flags: DEFAULT_FLAGS, peerCreation: 1,
    ourName: US.name, ourCreation: 77, initiator: true, rest: Buffer.alloc(0),
  };
  let accepted: Socket | undefined;
  const { server, port } = await listen((s) => {
    s.on('error', () => {});
    accepted = s;
  });
  let closedOk = 0;
  try {
    for (let i = 0; i < n; i++) {
      const c = await dial(port);
      for (let k = 0; k < 100 && !accepted; k++) await new Promise((r) => setTimeout(r, 5));
      const peer = accepted!;
      accepted = undefined;
      const conn = new Connection(c, hs, { tickTime: 60_000, maxFrame: 64 * 1024 });
      const closed = new Promise<Error | undefined>((r) => conn.once('close', r));
      conn.on('control', () => {});
      const body = Buffer.concat([Buffer.of(112), rng.pick(CONTROLS), rng.pick(TERMS)]);
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(body.length);
      const wire = mutate(rng, Buffer.concat([len, body]));
      peer.end(wire); // then EOF: the connection closes either way
      const reason = await closed;
      if (!(reason instanceof ProtocolError || reason instanceof DistError)) throw untyped(reason, wire, { target: 'connection', seed: SEED, i });
      if (reason instanceof ProtocolError) closedOk++;
      peer.destroy();
      c.destroy();
    }
  } finally {
    server.close();
  }
  assert.ok(closedOk > 0, 'some mutations were caught as protocol errors');
});
