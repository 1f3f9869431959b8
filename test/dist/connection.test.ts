// Connection behaviour over loopback between our own two handshake sides (no erl needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { loopbackPair } from '../support/loopback.js';
import { atom, Pid, tuple } from '../../src/etf/types.js';
import { Connection } from '../../src/dist/net/connection.js';
import { DistError, ProtocolError } from '../../src/dist/errors.js';
import { DEFAULT_FLAGS, DFLAG } from '../../src/dist/protocol/flags.js';
import { handshakeOtherStarted, handshakeWeStarted, type HandshakeIdentity, type HandshakeResult } from '../../src/dist/net/handshake.js';
import { withTimeout } from '../support/otp.js';

const A: HandshakeIdentity = { name: 'a@127.0.0.1', cookie: 'c', creation: 1, flags: DEFAULT_FLAGS };
const B: HandshakeIdentity = { name: 'b@127.0.0.1', cookie: 'c', creation: 2, flags: DEFAULT_FLAGS };
const pa = new Pid(atom('a@127.0.0.1'), 1, 0, 1);
const pb = new Pid(atom('b@127.0.0.1'), 1, 0, 2);

/** A handshaken socket pair: `a` (initiator) and `b` (acceptor), with their results. */
async function handshaken(aFlags = DEFAULT_FLAGS): Promise<{ a: Socket; b: Socket; ha: HandshakeResult; hb: HandshakeResult; cleanup(): Promise<void> }> {
  const { a, b, close } = await loopbackPair();
  const [ha, hb] = await Promise.all([handshakeWeStarted(a, { ...A, flags: aFlags }, 'b@127.0.0.1'), handshakeOtherStarted(b, B, 'test')]);
  return {
    a,
    b,
    ha,
    hb,
    cleanup: close,
  };
}

const closeOf = (c: Connection, ms = 5000) => withTimeout(new Promise<Error | undefined>((r) => c.once('close', r)), ms, 'close');

test('controls and messages go both ways; close() gives close(undefined) here and CLOSED there', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha);
    const cb = new Connection(p.b, p.hb);
    assert.equal(ca.peer, 'b@127.0.0.1');
    assert.equal(cb.peerAtom, atom('a@127.0.0.1'));
    assert.equal(ca.hidden, true);
    const got = new Promise((r) => cb.once('control', (c, m) => r([c, m])));
    assert.equal(ca.send({ op: 'send_sender', from: pa, to: pb }, tuple(atom('hi'), 1)), true);
    assert.deepEqual(await got, [{ op: 'send_sender', from: pa, to: pb }, tuple(atom('hi'), 1)]);
    const back = new Promise((r) => ca.once('control', (c, m) => r([c, m])));
    cb.send({ op: 'link', from: pb, to: pa });
    assert.deepEqual(await back, [{ op: 'link', from: pb, to: pa }, undefined]);
    const bClosed = closeOf(cb);
    const aClosed = closeOf(ca);
    ca.close();
    assert.equal(await aClosed, undefined);
    const r = await bClosed;
    assert.ok(r instanceof DistError && r.code === 'BEAM_ERR_DIST_CLOSED');
    assert.equal(ca.send({ op: 'link', from: pa, to: pb }), false, 'send after close');
  } finally {
    await p.cleanup();
  }
});

test('send adapts to the negotiated flags: without SEND_SENDER a send_sender goes out as send', async () => {
  const p = await handshaken(DEFAULT_FLAGS & ~(DFLAG.SEND_SENDER | DFLAG.DIST_MONITOR));
  try {
    const ca = new Connection(p.a, p.ha);
    const cb = new Connection(p.b, p.hb);
    const got = new Promise((r) => cb.once('control', (c) => r(c)));
    ca.send({ op: 'send_sender', from: pa, to: pb }, 1);
    assert.deepEqual(await got, { op: 'send', to: pb });
    assert.equal(ca.send({ op: 'monitor_p', from: pa, to: pb, ref: new (await import('../../src/etf/types.js')).Reference(atom('a@127.0.0.1'), 1, [1, 2, 3]) }), false, 'dropped: no DIST_MONITOR');
    assert.throws(() => ca.send({ op: 'send', to: pb }), ProtocolError, 'send needs a message');
    assert.throws(() => ca.send({ op: 'link', from: pa, to: pb }, 1), ProtocolError, 'link takes none');
  } finally {
    await p.cleanup();
  }
});

test('a malformed frame closes only that connection, with a ProtocolError', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha);
    const closed = closeOf(ca);
    p.b.write(Buffer.from('00000003707070', 'hex')); // 112 then not 131
    const r = await closed;
    assert.ok(r instanceof ProtocolError, String(r));
    assert.equal(r.code, 'BEAM_ERR_DIST_PROTOCOL');
  } finally {
    await p.cleanup();
  }
});

test('an invalid control tuple closes with BEAM_ERR_DIST_BAD_CONTROL', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha);
    const closed = closeOf(ca);
    // 112, 131 {5}  (NODE_LINK, removed from OTP)
    p.b.write(Buffer.from('00000006 70 83 68 01 61 05'.replaceAll(' ', ''), 'hex'));
    const r = await closed;
    assert.ok(r instanceof ProtocolError, String(r));
    assert.equal(r.code, 'BEAM_ERR_DIST_BAD_CONTROL');
  } finally {
    await p.cleanup();
  }
});

test('a frame length above maxFrame closes with FRAME_TOO_LARGE before buffering', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha, { maxFrame: 1024 });
    const closed = closeOf(ca);
    p.b.write(Buffer.from('ffffffff', 'hex'));
    const r = await closed;
    assert.ok(r instanceof ProtocolError);
    assert.equal(r.code, 'BEAM_ERR_DIST_FRAME_TOO_LARGE');
  } finally {
    await p.cleanup();
  }
});

test('a silent peer is dropped with TICK_TIMEOUT after tickTime; we tick meanwhile', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha, { tickTime: 400 });
    const seen: Buffer[] = [];
    p.b.on('data', (d: Buffer) => seen.push(d)); // the peer reads but never writes
    p.b.resume(); // the handshake left it paused for a Connection to take over
    const r = await closeOf(ca, 5000);
    assert.ok(r instanceof DistError);
    assert.equal(r.code, 'BEAM_ERR_DIST_TICK_TIMEOUT');
    assert.ok(Buffer.concat(seen).equals(Buffer.alloc(Buffer.concat(seen).length)), 'only ticks (zeros) were sent');
    assert.ok(Buffer.concat(seen).length >= 4, 'at least one tick');
  } finally {
    await p.cleanup();
  }
});

test('two of our connections keep each other up with ticks alone', async () => {
  const p = await handshaken();
  try {
    // tickTime 400: each side drops the other after 400 ms without a byte; 10 ticks each way take
    // several tick times, so both staying open means the ticks kept them up.
    const ca = new Connection(p.a, p.ha, { tickTime: 400 });
    const cb = new Connection(p.b, p.hb, { tickTime: 400 });
    const tenTicks = (c: Connection) => {
      let n = 0;
      return new Promise<void>((r, reject) => {
        c.on('tick', () => ++n === 10 && r());
        c.once('close', (why) => reject(new Error(`closed after ${n} ticks: ${why}`)));
      });
    };
    await withTimeout(Promise.all([tenTicks(ca), tenTicks(cb)]), 30_000, 'ten ticks each way');
    assert.equal(ca.closed || cb.closed, false);
    ca.close();
  } finally {
    await p.cleanup();
  }
});

test('a burst of received ticks is answered at most once: two of our nodes cannot echo ticks forever', async () => {
  const p = await handshaken();
  try {
    // Default tickTime (60 s): no timer tick comes between; the 50 ticks arrive in one read.
    const ca = new Connection(p.a, p.ha);
    let received = 0;
    const all = new Promise<void>((r) => ca.on('tick', () => ++received === 50 && r()));
    const answered: Buffer[] = [];
    p.b.on('data', (d: Buffer) => answered.push(d));
    p.b.resume();
    p.b.write(Buffer.alloc(4 * 50)); // 50 empty frames
    await withTimeout(all, 10_000, '50 ticks received');
    // A control message after the burst: once b has read it, b has read every answer before it.
    const marked = new Promise<void>((r) => p.b.on('data', () => Buffer.concat(answered).some((x) => x !== 0) && r()));
    ca.send({ op: 'link', from: pa, to: pb });
    await withTimeout(marked, 10_000, 'the control message after the burst');
    const bytes = Buffer.concat(answered);
    const ticks = bytes.indexOf(bytes.find((x) => x !== 0)!) >> 2; // whole empty frames before the message
    assert.ok(ticks <= 1, `${ticks} ticks written in answer to 50`);
    ca.close();
  } finally {
    await p.cleanup();
  }
});

test('back-pressure: send returns false when the peer does not read, then drain', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha);
    p.b.pause();
    const big = Buffer.alloc(1 << 20, 1);
    let sent = 0;
    while (ca.send({ op: 'send_sender', from: pa, to: pb }, big) && sent < 1000) sent++;
    assert.ok(sent < 1000, 'the socket buffer filled up');
    assert.ok(ca.bufferedBytes > 0);
    const drained = withTimeout(new Promise<void>((r) => ca.once('drain', () => r())), 20_000, 'drain');
    p.b.resume(); // no Connection on b: bytes are just read and dropped
    await drained;
    ca.close();
  } finally {
    await p.cleanup();
  }
});

test('batching: a loop of awaited sends goes out in few writes, in order (not one write per frame)', async () => {
  const p = await handshaken();
  try {
    const ca = new Connection(p.a, p.ha);
    const cb = new Connection(p.b, p.hb);
    let writes = 0;
    const write = p.a.write.bind(p.a) as (chunk: Uint8Array) => boolean;
    (p.a as unknown as { write: (chunk: Uint8Array) => boolean }).write = (chunk) => {
      writes++;
      return write(chunk);
    };
    const n = 2000;
    const seen: number[] = [];
    const all = withTimeout(
      new Promise<void>((resolve) =>
        cb.on('control', (_c, m) => {
          seen.push(m as number);
          if (seen.length === n) resolve();
        }),
      ),
      20_000,
      'all messages',
    );
    // As `for (…) await proc.send(…)` runs: every send is followed by an await of a settled promise.
    for (let i = 0; i < n; i++) {
      ca.send({ op: 'send_sender', from: pa, to: pb }, i);
      await Promise.resolve();
    }
    await all;
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i));
    assert.ok(writes <= 4, `${n} awaited sends took ${writes} socket writes`);
    ca.close();
    cb.close();
  } finally {
    await p.cleanup();
  }
});

test('batching: a loop that awaits only back-pressure holds at most highWater plus one batch while the peer does not read', async () => {
  const p = await handshaken();
  try {
    const highWater = 256 * 1024;
    const ca = new Connection(p.a, p.ha, { highWater });
    p.b.pause();
    const msg = Buffer.alloc(1000, 3);
    let sent = 0;
    let most = 0;
    let stalled = false;
    const loop = (async () => {
      for (let i = 0; i < 100_000; i++) {
        const ok = ca.send({ op: 'send_sender', from: pa, to: pb }, msg);
        sent++;
        most = Math.max(most, ca.bufferedBytes);
        if (!ok) {
          stalled = true;
          await new Promise<void>((r) => ca.once('drain', () => r()));
        } else {
          await Promise.resolve();
        }
      }
    })();
    // Bounded wait until the loop waits for 'drain' (the kernel's buffers are full too).
    for (let i = 0; i < 200 && !stalled; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(stalled, 'the loop got back-pressure');
    assert.ok(sent < 100_000);
    assert.ok(most <= highWater + 64 * 1024 + 2048, `held ${most} bytes`);
    p.b.resume(); // no Connection on b: bytes are read and dropped
    await withTimeout(loop, 30_000, 'the loop to finish');
    ca.close();
  } finally {
    await p.cleanup();
  }
});
