// Bad input never crashes or hangs: random bytes at every handshake step and as frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type AddressInfo, type Server } from 'node:net';
import fc from 'fast-check';
import { Connection } from '../../src/dist/net/connection.js';
import { HandshakeError } from '../../src/dist/errors.js';
import { TimeoutError } from '../../src/errors.js';
import { DEFAULT_FLAGS } from '../../src/dist/protocol/flags.js';
import { handshakeOtherStarted, handshakeWeStarted, type HandshakeIdentity } from '../../src/dist/net/handshake.js';
import { encodeChallenge, encodeStatus, frame2 } from '../../src/dist/protocol/handshake-messages.js';
import { withTimeout } from '../support/otp.js';

const ME: HandshakeIdentity = { name: 'a@127.0.0.1', cookie: 'c', creation: 1, flags: DEFAULT_FLAGS };

async function listening(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Random handshake input: either a 2-byte framed random payload (tag biased to real tags) or raw bytes. */
const junk = fc.oneof(
  fc.tuple(fc.constantFrom(0x4e, 0x6e, 0x73, 0x63, 0x72, 0x61, 0), fc.uint8Array({ maxLength: 80 })).map(([tag, rest]) => frame2(Buffer.concat([Buffer.of(tag), rest]))),
  fc.uint8Array({ minLength: 1, maxLength: 80 }).map((b) => Buffer.from(b)),
);

test('the acceptor rejects random first messages with a HandshakeError (or a handshake TimeoutError for a partial message), within setupTime', async () => {
  let sockets: Socket[] = [];
  let accepted: Promise<unknown> = Promise.resolve();
  let onAccept: (() => void) | undefined;
  const { server, port } = await listening((s) => {
    accepted = handshakeOtherStarted(s, ME, 'fuzz', { setupTime: 100 });
    accepted.catch(() => {});
    onAccept?.();
  });
  try {
    await fc.assert(
      fc.asyncProperty(junk, async (bytes) => {
        const got = new Promise<void>((r) => (onAccept = r));
        const c = connect(port, '127.0.0.1');
        sockets.push(c);
        c.on('error', () => {});
        await new Promise<void>((r) => c.once('connect', r));
        await got;
        c.write(bytes);
        try {
          await withTimeout(accepted, 2000, 'acceptor verdict');
        } catch (e) {
          assert.ok(e instanceof HandshakeError || (e instanceof TimeoutError && e.phase === 'handshake'), `not a HandshakeError: ${String(e)}`);
        } finally {
          c.destroy();
        }
      }),
      { numRuns: 100 },
    );
  } finally {
    for (const s of sockets) s.destroy();
    sockets = [];
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('the initiator rejects random status/challenge answers with a HandshakeError (or a handshake TimeoutError)', async () => {
  let script: Buffer[] = [];
  const { server, port } = await listening((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      for (const b of script) s.write(b);
    });
  });
  try {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), junk, async (validStatus, bytes) => {
        script = validStatus ? [frame2(encodeStatus('ok')), bytes] : [bytes];
        const c = connect(port, '127.0.0.1');
        c.on('error', () => {});
        await new Promise<void>((r) => c.once('connect', r));
        try {
          await withTimeout(handshakeWeStarted(c, ME, 'b@127.0.0.1', { setupTime: 100 }), 2000, 'initiator verdict');
          assert.fail('random bytes completed a handshake');
        } catch (e) {
          assert.ok(e instanceof HandshakeError || (e instanceof TimeoutError && e.phase === 'handshake'), `not a HandshakeError: ${String(e)}`);
        } finally {
          c.destroy();
        }
      }),
      { numRuns: 100 },
    );
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('random frames after the handshake never throw out of the connection', async () => {
  // One scripted peer: a valid handshake, then whatever frames the property gives.
  let frames: Buffer[] = [];
  const { server, port } = await listening((s) => {
    s.on('error', () => {});
    let step = 0;
    s.on('data', (d: Buffer) => {
      if (step === 0) {
        step = 1;
        s.write(frame2(encodeStatus('ok')));
        s.write(frame2(encodeChallenge({ flags: DEFAULT_FLAGS, challenge: 5, creation: 9, name: 'b@127.0.0.1' })));
      } else if (step === 1 && d[2] === 0x72) {
        step = 2;
        import('../../src/dist/net/cookie.js').then(({ digest }) => {
          const challenge = d.readUInt32BE(3);
          s.end(Buffer.concat([frame2(Buffer.concat([Buffer.of(0x61), digest(challenge, 'c')])), ...frames])); // then FIN
        });
      }
    });
  });
  const frameArb = fc.oneof(
    fc.uint8Array({ maxLength: 60 }).map((b) => {
      const f = Buffer.alloc(4 + b.length);
      f.writeUInt32BE(b.length, 0);
      Buffer.from(b).copy(f, 4);
      return f;
    }),
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.concat([Buffer.from([0, 0, 0, b.length + 2, 112, 131]), Buffer.from(b)])),
    fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)),
  );
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 5 }), async (fs) => {
        frames = fs;
        const c = connect(port, '127.0.0.1');
        c.on('error', () => {});
        await new Promise<void>((r) => c.once('connect', r));
        const hs = await handshakeWeStarted(c, ME, 'b@127.0.0.1', { setupTime: 1000 });
        const conn = new Connection(c, hs, { maxFrame: 1 << 16 });
        const events: string[] = [];
        conn.on('control', (ctl) => events.push(ctl.op));
        const closed = new Promise<void>((r) => conn.once('close', () => r()));
        conn.on('close', (e) => events.push(`close:${(e as { code?: string } | undefined)?.code ?? 'none'}`));
        // The peer ends after its frames: the close (a frame's error, else the FIN) comes after them all.
        await withTimeout(closed, 10_000, 'the connection closes');
        conn.close();
        c.destroy();
        // Whatever happened, each close carries a coded error (or none for our own close).
        const closes = events.filter((x) => x.startsWith('close:'));
        assert.equal(closes.length, 1, events.join());
        assert.match(closes[0], /^close:BEAM_ERR_/);
      }),
      { numRuns: 100 },
    );
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
