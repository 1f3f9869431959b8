// Both sides of the handshake against each other and against scripted peers, over loopback TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { Writer } from '../../src/etf/index.js';
import { atom, Pid, tuple } from '../../src/etf/types.js';
import { Connection } from '../../src/dist/net/connection.js';
import { passThroughCodec } from '../../src/dist/protocol/framing.js';
import { digest } from '../../src/dist/net/cookie.js';
import { HandshakeError } from '../../src/dist/errors.js';
import { DEFAULT_FLAGS, DFLAG, MANDATORY_25 } from '../../src/dist/protocol/flags.js';
import {
  handshakeOtherStarted,
  handshakeWeStarted,
  type AcceptHooks,
  type HandshakeIdentity,
  type HandshakeOptions,
  type HandshakeResult,
} from '../../src/dist/net/handshake.js';
import {
  decodeChallenge,
  decodeChallengeReply,
  decodeSendName,
  encodeChallenge,
  encodeChallengeAck,
  encodeChallengeReply,
  encodeComplement,
  encodeSendNameOld,
  encodeStatus,
  frame2,
} from '../../src/dist/protocol/handshake-messages.js';
import { withTimeout } from '../support/otp.js';

const A: HandshakeIdentity = { name: 'a@127.0.0.1', cookie: 'sekrit', creation: 1111, flags: DEFAULT_FLAGS };
const B: HandshakeIdentity = { name: 'b@127.0.0.1', cookie: 'sekrit', creation: 2222, flags: DEFAULT_FLAGS };

interface Pair {
  init: Promise<HandshakeResult>;
  acc: Promise<HandshakeResult>;
  sockets: Socket[];
  server: Server;
}

/** Our initiator `me` dialing `dialed`, answered by our acceptor `peer` (with hooks). */
async function pair(me: HandshakeIdentity, peer: HandshakeIdentity, dialed: string, hooks: AcceptHooks & HandshakeOptions = {}, initOpts: Parameters<typeof handshakeWeStarted>[3] = {}): Promise<Pair> {
  const sockets: Socket[] = [];
  let accResolve!: (p: Promise<HandshakeResult>) => void;
  const accP = new Promise<Promise<HandshakeResult>>((r) => (accResolve = r));
  const server = createServer((s) => {
    sockets.push(s);
    const p = handshakeOtherStarted(s, peer, 'test', hooks);
    p.catch(() => {});
    accResolve(p);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = connect((server.address() as AddressInfo).port, '127.0.0.1');
  sockets.push(c);
  await new Promise<void>((r, j) => c.once('connect', r).once('error', j));
  const init = handshakeWeStarted(c, me, dialed, { setupTime: 2000, ...initOpts });
  init.catch(() => {});
  const acc = accP.then((p) => p);
  acc.catch(() => {});
  return { init, acc, sockets, server };
}

async function done(p: Pair): Promise<void> {
  for (const s of p.sockets) s.destroy();
  await new Promise<void>((r) => p.server.close(() => r()));
}

const rejectsWith = async (p: Promise<unknown>, code: string): Promise<HandshakeError> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HandshakeError, `HandshakeError expected, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
};

test('our initiator and acceptor complete the handshake and agree on flags and names', async () => {
  const p = await pair(A, B, 'b@127.0.0.1');
  try {
    const [i, a] = await Promise.all([p.init, p.acc]);
    assert.equal(i.peer, 'b@127.0.0.1');
    assert.equal(a.peer, 'a@127.0.0.1');
    assert.equal(i.flags, DEFAULT_FLAGS);
    assert.equal(a.flags, DEFAULT_FLAGS);
    assert.equal(i.peerCreation, 2222);
    assert.equal(a.peerCreation, 1111);
    assert.equal(i.initiator, true);
    assert.equal(a.initiator, false);
  } finally {
    await done(p);
  }
});

test('wrong cookie: the acceptor closes without an ack, the initiator reports BAD_COOKIE without the cookie', async () => {
  const p = await pair({ ...A, cookie: 'wrongcookie' }, B, 'b@127.0.0.1');
  try {
    const ei = await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_BAD_COOKIE');
    assert.equal(ei.step, 'recv_challenge_ack');
    assert.match(ei.message, /the peer rejected our challenge reply: the cookies differ/);
    assert.ok(!ei.message.includes('wrongcookie') && !ei.message.includes('sekrit'));
    assert.equal(ei.peerInfo?.name, 'b@127.0.0.1');
    const ea = await rejectsWith(p.acc, 'BEAM_ERR_HANDSHAKE_BAD_COOKIE');
    assert.equal(ea.step, 'recv_challenge_reply');
    assert.match(ea.message, /invalid challenge reply/);
  } finally {
    await done(p);
  }
});

test('name mismatch: dialing a@localhost-style alias gives dialed, actual and the peer info', async () => {
  const p = await pair(A, B, 'b@localhost');
  try {
    const e = await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_NAME_MISMATCH');
    assert.equal(e.dialed, 'b@localhost');
    assert.equal(e.actual, 'b@127.0.0.1');
    assert.equal(e.step, 'recv_challenge');
    assert.deepEqual(e.peerInfo, { name: 'b@127.0.0.1', flags: DEFAULT_FLAGS | MANDATORY_25, creation: 2222 });
  } finally {
    await done(p);
  }
});

test('allow list: a name outside it gets not_allowed', async () => {
  const p = await pair(A, B, 'b@127.0.0.1', { allow: ['x@127.0.0.1'] });
  try {
    await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
    await rejectsWith(p.acc, 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
  } finally {
    await done(p);
  }
});

test('missing mandatory flags: the acceptor says not_allowed and names them', async () => {
  const poor = { ...A, flags: DEFAULT_FLAGS & ~(DFLAG.MAP_TAG | DFLAG.MANDATORY_25_DIGEST) };
  const p = await pair(poor, B, 'b@127.0.0.1');
  try {
    await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_NOT_ALLOWED');
    const e = await rejectsWith(p.acc, 'BEAM_ERR_HANDSHAKE_MISSING_FLAGS');
    assert.deepEqual(e.missing, ['MAP_TAG']);
  } finally {
    await done(p);
  }
});

test('missing mandatory flags seen by the initiator in the challenge', async () => {
  const poor = { ...B, flags: DEFAULT_FLAGS & ~(DFLAG.UNLINK_ID | DFLAG.V4_NC) };
  const p = await pair(A, poor, 'b@127.0.0.1');
  try {
    const e = await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_MISSING_FLAGS');
    assert.deepEqual(e.missing, ['UNLINK_ID', 'V4_NC']);
    assert.equal(e.peerInfo?.name, 'b@127.0.0.1');
  } finally {
    await done(p);
  }
});

test('alive: the initiator replies true by default and the acceptor waits for the old connection', async () => {
  let waited = '';
  const p = await pair(A, B, 'b@127.0.0.1', { markPending: () => 'alive', waitPending: async (peer) => void (waited = peer) });
  try {
    await Promise.all([p.init, p.acc]);
    assert.equal(waited, 'a@127.0.0.1');
  } finally {
    await done(p);
  }
});

test('alive answered false: both sides give up', async () => {
  const p = await pair(A, B, 'b@127.0.0.1', { markPending: () => 'alive' }, { onAlive: () => false });
  try {
    await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_ALIVE');
    await rejectsWith(p.acc, 'BEAM_ERR_HANDSHAKE_ALIVE');
  } finally {
    await done(p);
  }
});

test('nok (simultaneous connect lost) is reported as NOK', async () => {
  const p = await pair(A, B, 'b@127.0.0.1', { markPending: () => 'nok' });
  try {
    await rejectsWith(p.init, 'BEAM_ERR_HANDSHAKE_NOK');
    await rejectsWith(p.acc, 'BEAM_ERR_HANDSHAKE_NOK');
  } finally {
    await done(p);
  }
});

test('NAME_ME: the acceptor names a host-only initiator (status named:)', async () => {
  const anon = { ...A, name: '127.0.0.1', flags: A.flags | DFLAG.NAME_ME };
  const p = await pair(anon, B, 'b@127.0.0.1', { nameForHost: (h) => `given@${h}` });
  try {
    const [i, a] = await Promise.all([p.init, p.acc]);
    assert.equal(i.ourName, 'given@127.0.0.1');
    assert.equal(a.peer, 'given@127.0.0.1');
    assert.equal(i.ourCreation, a.peerCreation);
    assert.notEqual(i.ourCreation, 0);
  } finally {
    await done(p);
  }
});

// ---- scripted peers ----------------------------------------------------------------------------

/** A server that runs `script` on the accepted socket; returns the port and a close function. */
async function scripted(script: (s: Socket, frames: AsyncIterator<Buffer>) => Promise<void>): Promise<{ port: number; close(): Promise<void>; done: Promise<void> }> {
  const sockets: Socket[] = [];
  let doneResolve!: (p: Promise<void>) => void;
  const doneP = new Promise<Promise<void>>((r) => (doneResolve = r));
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    doneResolve(script(s, frames2(s)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    done: doneP.then((p) => p),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** 2-byte framed messages from a socket. */
async function* frames2(s: Socket): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const chunk of s) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const n = buf.readUInt16BE(0);
      yield buf.subarray(2, 2 + n);
      buf = buf.subarray(2 + n);
    }
  }
}

async function dial(port: number): Promise<Socket> {
  const c = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => c.once('connect', r).once('error', j));
  return c;
}

test('frames that arrive in the same read as challenge_ack reach the connection (EXP 9 pitfall)', async () => {
  const peer = await scripted(async (s, frames) => {
    const name = decodeSendName((await frames.next()).value as Buffer);
    assert.equal(name.name, 'a@127.0.0.1');
    s.write(frame2(encodeStatus('ok')));
    s.write(frame2(encodeChallenge({ flags: DEFAULT_FLAGS, challenge: 77, creation: 5, name: 'b@127.0.0.1' })));
    const reply = decodeChallengeReply((await frames.next()).value as Buffer);
    assert.deepEqual(reply.digest, digest(77, 'sekrit'));
    // ack, a tick and a real frame (a LINK control) in ONE write
    const w = new Writer(64);
    passThroughCodec().encodeFrame(w, tuple(1, new Pid(atom('b@127.0.0.1'), 5, 0, 5), new Pid(atom('a@127.0.0.1'), 1, 0, 1111)));
    const linkFrame = w.take();
    s.write(Buffer.concat([frame2(encodeChallengeAck(digest(reply.challenge, 'sekrit'))), Buffer.alloc(4), linkFrame]));
  });
  const c = await dial(peer.port);
  try {
    const hs = await handshakeWeStarted(c, A, 'b@127.0.0.1', { setupTime: 2000 });
    assert.ok(hs.rest.length > 4, 'bytes after the ack are carried over');
    const conn = new Connection(c, hs);
    const events: string[] = [];
    conn.on('tick', () => events.push('tick'));
    const control = new Promise((r) => conn.on('control', (ctl) => r(ctl.op)));
    conn.on('close', (e) => events.push(`close ${e?.message}`));
    const op = await withTimeout(control, 10_000, 'the LINK frame').catch((e: Error) => `${e.message}; events: ${events.join(',')}`);
    assert.equal(op, 'link', events.join(','));
    assert.deepEqual(events, ['tick']);
    conn.close();
  } finally {
    c.destroy();
    await peer.close();
  }
});

test("acceptor takes the old 'n' send_name and its 'c' complement (OTP 25.3+ behaviour)", async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const incoming = once(server, 'connection');
  const c = await dial((server.address() as AddressInfo).port);
  const [s0] = (await incoming) as [Socket];
  const accepted = handshakeOtherStarted(s0, B, 'test', { setupTime: 2000 });
  try {
    const frames = frames2(c);
    c.write(frame2(encodeSendNameOld({ flags: DEFAULT_FLAGS & 0xffffffffn, name: 'old@127.0.0.1' })));
    assert.deepEqual((await frames.next()).value, encodeStatus('ok'));
    const ch = decodeChallenge((await frames.next()).value as Buffer);
    assert.equal(ch.name, 'b@127.0.0.1');
    c.write(frame2(encodeComplement({ flagsHigh: Number(DEFAULT_FLAGS >> 32n), creation: 4242 })));
    c.write(frame2(encodeChallengeReply({ challenge: 99, digest: digest(ch.challenge, 'sekrit') })));
    const ack = (await frames.next()).value as Buffer;
    assert.deepEqual(ack, encodeChallengeAck(digest(99, 'sekrit')));
    const hs = await accepted;
    assert.equal(hs.peer, 'old@127.0.0.1');
    assert.equal(hs.peerCreation, 4242);
    assert.equal(hs.peerFlags & DFLAG.V4_NC, DFLAG.V4_NC, 'high flags from the complement');
  } finally {
    c.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a silent peer: TIMEOUT at recv_status after setupTime', async () => {
  const peer = await scripted(async () => {});
  const c = await dial(peer.port);
  try {
    const e = await rejectsWith(handshakeWeStarted(c, A, 'b@127.0.0.1', { setupTime: 200 }), 'BEAM_ERR_HANDSHAKE_TIMEOUT');
    assert.equal(e.step, 'recv_status');
    assert.equal(c.destroyed, true, 'the socket is closed on failure');
  } finally {
    c.destroy();
    await peer.close();
  }
});

test('a peer that closes after send_name: CLOSED at recv_status', async () => {
  const peer = await scripted(async (s, frames) => {
    await frames.next();
    s.destroy();
  });
  const c = await dial(peer.port);
  try {
    const e = await rejectsWith(handshakeWeStarted(c, A, 'b@127.0.0.1', { setupTime: 2000 }), 'BEAM_ERR_HANDSHAKE_CLOSED');
    assert.equal(e.step, 'recv_status');
    assert.match(e.message, /recv_status with b@127.0.0.1/);
  } finally {
    c.destroy();
    await peer.close();
  }
});

test('an abort signal stops the handshake with ABORTED', async () => {
  const ac = new AbortController();
  // The peer reads send_name, then the caller aborts while the handshake waits for the status.
  const peer = await scripted(async (_s, frames) => {
    await frames.next();
    ac.abort(new Error('stop'));
  });
  const c = await dial(peer.port);
  try {
    const p = handshakeWeStarted(c, A, 'b@127.0.0.1', { setupTime: 5000, signal: ac.signal });
    const e = await rejectsWith(p, 'BEAM_ERR_HANDSHAKE_ABORTED');
    assert.equal((e.cause as Error).message, 'stop');
  } finally {
    c.destroy();
    await peer.close();
  }
});

test('garbage instead of a challenge: PROTOCOL naming the step', async () => {
  const peer = await scripted(async (s, frames) => {
    await frames.next();
    s.write(frame2(encodeStatus('ok')));
    s.write(frame2(Buffer.from('Nshort')));
  });
  const c = await dial(peer.port);
  try {
    const e = await rejectsWith(handshakeWeStarted(c, A, 'b@127.0.0.1', { setupTime: 2000 }), 'BEAM_ERR_HANDSHAKE_PROTOCOL');
    assert.equal(e.step, 'recv_challenge');
  } finally {
    c.destroy();
    await peer.close();
  }
});

test('acceptor: an illegal name in send_name closes silently (BAD_NAME), as OTP does', async () => {
  for (const name of ['js', 'js@a@b', 'js@', '@host']) {
    const sockets: Socket[] = [];
    const server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const incoming = once(server, 'connection');
    const c = await dial((server.address() as AddressInfo).port);
    const [s0] = (await incoming) as [Socket];
    const accepted = handshakeOtherStarted(s0, B, 'test', { setupTime: 2000 });
    try {
      const raw = Buffer.alloc(15 + name.length);
      raw[0] = 0x4e;
      raw.writeBigUInt64BE(DEFAULT_FLAGS, 1);
      raw.writeUInt32BE(1, 9);
      raw.writeUInt16BE(name.length, 13);
      raw.write(name, 15, 'latin1');
      c.write(frame2(raw));
      await rejectsWith(accepted, 'BEAM_ERR_HANDSHAKE_BAD_NAME');
      const got: Buffer[] = [];
      for await (const d of c) got.push(d as Buffer);
      assert.equal(Buffer.concat(got).length, 0, `no status for ${name}`);
    } finally {
      c.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
});

test('a peer that closes right after challenge_ack: the Connection still reports CLOSED', async () => {
  const peer = await scripted(async (s, frames) => {
    await frames.next();
    s.write(frame2(encodeStatus('ok')));
    s.write(frame2(encodeChallenge({ flags: DEFAULT_FLAGS, challenge: 77, creation: 5, name: 'b@127.0.0.1' })));
    const reply = decodeChallengeReply((await frames.next()).value as Buffer);
    s.end(frame2(encodeChallengeAck(digest(reply.challenge, 'sekrit'))));
    await once(s, 'finish'); // the FIN is sent
  });
  const c = await dial(peer.port);
  try {
    const hs = await handshakeWeStarted(c, A, 'b@127.0.0.1', { setupTime: 2000 });
    await withTimeout(peer.done, 10_000, 'the FIN'); // it arrives before the Connection exists
    const conn = new Connection(c, hs);
    const reason = await new Promise<Error | undefined>((r) => conn.once('close', r));
    assert.equal((reason as { code?: string } | undefined)?.code, 'BEAM_ERR_DIST_CLOSED');
  } finally {
    c.destroy();
    await peer.close();
  }
});
