// Fragments on a Connection between two of our own nodes over loopback: the hot path on both
// sides, a big message each way, an abandoned sequence dropped by its timeout while the
// connection lives on, a reassembly limit closing the connection, and back-pressure with 'drain'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { loopbackPair } from '../support/loopback.js';
import { atom, Pid, Tuple, tuple } from '../../src/etf/types.js';
import { Connection, type ConnectionOptions } from '../../src/dist/net/connection.js';
import { ProtocolError } from '../../src/dist/errors.js';
import { DEFAULT_FLAGS, HOT_PATH_FLAGS } from '../../src/dist/protocol/flags.js';
import { handshakeOtherStarted, handshakeWeStarted, type HandshakeIdentity } from '../../src/dist/net/handshake.js';
import { sleep, withTimeout } from '../support/otp.js';

const FLAGS = DEFAULT_FLAGS | HOT_PATH_FLAGS;
const A: HandshakeIdentity = { name: 'fa@127.0.0.1', cookie: 'c', creation: 1, flags: FLAGS };
const B: HandshakeIdentity = { name: 'fb@127.0.0.1', cookie: 'c', creation: 2, flags: FLAGS };
const pa = new Pid(atom(A.name), 1, 0, 1);
const pb = new Pid(atom(B.name), 1, 0, 2);

/** Two connected Connections with the hot path negotiated. */
async function pair(oa: ConnectionOptions = {}, ob: ConnectionOptions = {}): Promise<{ ca: Connection; cb: Connection; sockets: Socket[]; cleanup(): Promise<void> }> {
  const { a, b, close } = await loopbackPair();
  const [ha, hb] = await Promise.all([handshakeWeStarted(a, A, B.name), handshakeOtherStarted(b, B, 'test')]);
  const ca = new Connection(a, ha, oa);
  const cb = new Connection(b, hb, ob);
  return {
    ca,
    cb,
    sockets: [a, b],
    cleanup: async () => {
      ca.close();
      cb.close();
      await close();
    },
  };
}

const message = (c: Connection, ms = 20_000) =>
  withTimeout(new Promise<unknown>((r) => c.once('control', (_c, m) => r(m))), ms, 'message');

/** A raw `131,69` start frame of a sequence that says it has `count` fragments. */
function startFrame(seq: bigint, count: bigint, body: Buffer): Buffer {
  const f = Buffer.alloc(4 + 18 + 1 + body.length);
  f.writeUInt32BE(18 + 1 + body.length, 0);
  f[4] = 131;
  f[5] = 69;
  f.writeBigUInt64BE(seq, 6);
  f.writeBigUInt64BE(count, 14);
  f[22] = 0; // no atom cache refs
  body.copy(f, 23);
  return f;
}

test('hot path on both sides: flags, a 3 MB message each way in fragments', async () => {
  const p = await pair({ fragmentSize: 64 * 1024 }, {});
  try {
    assert.equal(p.ca.flags & HOT_PATH_FLAGS, HOT_PATH_FLAGS);
    const big = Buffer.alloc(3 * 1024 * 1024, 3);
    const got = message(p.cb);
    p.ca.send({ op: 'send_sender', from: pa, to: pb }, tuple(atom('big'), big));
    assert.deepEqual(await got, tuple(atom('big'), big));
    const back = message(p.ca);
    p.cb.send({ op: 'send_sender', from: pb, to: pa }, big);
    assert.deepEqual(await back, big);
    assert.equal(p.ca.pendingFragmentBytes, 0);
    assert.equal(p.cb.pendingFragmentBytes, 0);
  } finally {
    await p.cleanup();
  }
});

test('an abandoned sequence is dropped after fragmentLimits.timeout; the connection lives on', async () => {
  const p = await pair({}, { fragmentLimits: { timeout: 200 } });
  try {
    p.ca.sendRaw(startFrame(77n, 3n, Buffer.alloc(5000)));
    for (let i = 0; i < 200 && p.cb.pendingFragmentBytes === 0; i++) await sleep(10);
    assert.ok(p.cb.pendingFragmentBytes >= 5000, 'held while the sequence is open');
    for (let i = 0; i < 300 && p.cb.pendingFragmentBytes > 0; i++) await sleep(10);
    assert.equal(p.cb.pendingFragmentBytes, 0, 'dropped by the timeout');
    assert.equal(p.cb.closed, false);
    const got = message(p.cb);
    p.ca.send({ op: 'send_sender', from: pa, to: pb }, atom('still_here'));
    assert.equal(await got, atom('still_here'));
  } finally {
    await p.cleanup();
  }
});

test('a sequence past fragmentLimits.maxBytes closes the connection with BEAM_ERR_DIST_FRAGMENT_LIMIT', async () => {
  const p = await pair({ fragmentSize: 16 * 1024 }, { fragmentLimits: { maxBytes: 100_000 } });
  try {
    const closed = withTimeout(new Promise<Error | undefined>((r) => p.cb.once('close', r)), 10_000, 'close');
    p.ca.send({ op: 'send_sender', from: pa, to: pb }, Buffer.alloc(1_000_000));
    const reason = await closed;
    assert.ok(reason instanceof ProtocolError && reason.code === 'BEAM_ERR_DIST_FRAGMENT_LIMIT', String(reason));
    assert.equal(p.cb.pendingFragmentBytes, 0);
  } finally {
    await p.cleanup();
  }
});

test('send() says false past highWater and drain follows; frames of one burst arrive in order', async () => {
  const p = await pair({ highWater: 64 * 1024 }, {});
  try {
    // 20 MB in all: more than the kernel's socket buffers hold, so the socket itself fills (the
    // sender writes every 64 KiB batch at once: only a full socket makes it say false).
    const n = 20_000;
    const pad = Buffer.alloc(1024, 7);
    const seen: number[] = [];
    const all = withTimeout(
      new Promise<void>((resolve) =>
        p.cb.on('control', (_c, m) => {
          seen.push((m as Tuple).elements[0] as number);
          if (seen.length === n) resolve();
        }),
      ),
      30_000,
      'all messages',
    );
    let refused = 0;
    for (let i = 0; i < n; i++) if (!p.ca.send({ op: 'send_sender', from: pa, to: pb }, tuple(i, pad))) refused++;
    assert.ok(refused > 0, 'a 20 000-message burst crosses 64 KiB');
    await withTimeout(new Promise<void>((r) => p.ca.once('drain', () => r())), 10_000, 'drain');
    await all;
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i));
  } finally {
    await p.cleanup();
  }
});
