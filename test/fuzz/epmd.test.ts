// Fuzzing EPMD: the request decoder (server side) and the reply decoders (client side) fed
// mutations of OTP 25 bytes and random bytes; then the embedded server fed
// garbage connections (it keeps serving) and the client talking to an EPMD that answers garbage
// (every call ends in an EpmdError). Never a RangeError/TypeError, a crash or a hang.
import { TimeoutError } from '../../src/errors.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import {
  decodeAlive2Reply,
  decodeDumpReply,
  decodeKillReply,
  decodeNamesReply,
  decodePort2Reply,
  decodeRequest,
  decodeStopReply,
  encodeAlive2Req,
  encodeDumpReq,
  encodeKillReq,
  encodeNamesReq,
  encodePortPlease2Req,
  encodeStopReq,
  requestFrameLength,
} from '../../src/epmd/codec.js';
import { dump, names, portPlease, register } from '../../src/epmd/client.js';
import { EpmdError } from '../../src/epmd/errors.js';
import { startEpmdServer } from '../../src/epmd/server.js';
import { expectTyped, fuzzIterations, fuzzSeed, hex, memoryCost, MiB, mutate, Rng, untyped } from './harness.js';

const SEED = fuzzSeed();
console.log(`# fuzz epmd: BEAMNODE_FUZZ_SEED=${SEED}`);

const REQUESTS = [
  encodeAlive2Req({ port: 5555, nodeType: 72, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'hx', extra: Buffer.alloc(0) }),
  encodePortPlease2Req('hx'),
  encodeNamesReq(),
  encodeDumpReq(),
  encodeKillReq(),
  encodeStopReq('hx'),
];
// OTP 25.2.3 epmd: ALIVE2_X_RESP, PORT2_RESP, NAMES, DUMP, ALIVE2_RESP; plus KILL/STOP replies.
const REPLIES = [
  hex('76006b048e52'),
  hex('770015b3480000060005000268780000'),
  Buffer.concat([hex('00001111'), Buffer.from('name hx at port 5555\n')]),
  Buffer.concat([hex('00001111'), Buffer.from('active name     <hx> at port 5555, fd = 5\n\0')]),
  hex('79000003'),
  hex('7701'),
  Buffer.from('OK'),
  Buffer.from('STOPPED'),
];
const REPLY_DECODERS: ((b: Buffer) => unknown)[] = [decodeAlive2Reply, decodePort2Reply, decodeNamesReply, decodeDumpReply, decodeKillReply, decodeStopReply];

test(`EPMD request framing and decoding: mutations and random bytes end in EpmdError (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(20);
  const n = fuzzIterations(20_000);
  for (let i = 0; i < n; i++) {
    const input = rng.bool(0.85) ? mutate(rng, rng.pick(REQUESTS)) : rng.bytes(rng.int(64));
    expectTyped(
      (b) => {
        const len = requestFrameLength(b);
        if (len !== undefined && len <= b.length) decodeRequest(b.subarray(2, len));
        decodeRequest(b);
      },
      input,
      [EpmdError],
      { target: 'epmd request', seed: SEED, i },
    );
  }
});

test(`EPMD reply decoders: mutations and random bytes end in EpmdError (seed ${SEED})`, () => {
  const rng = new Rng(SEED).fork(21);
  const n = fuzzIterations(20_000);
  for (let i = 0; i < n; i++) {
    const input = rng.bool(0.85) ? mutate(rng, rng.pick(REPLIES)) : rng.bytes(rng.int(64));
    for (const dec of REPLY_DECODERS) expectTyped(dec, input, [EpmdError], { target: 'epmd reply', seed: SEED, i });
  }
});

test(`the embedded EPMD server survives garbage connections and keeps serving (seed ${SEED})`, async () => {
  const rng = new Rng(SEED).fork(22);
  const n = fuzzIterations(300, 1 / 20);
  const server = await startEpmdServer({ port: 0, address: '127.0.0.1', packetTimeout: 2000 });
  const port = server.port;
  const reg = await register({ alive: 'keeper', port: 40000, epmdPort: port, hidden: true });
  let malformed = 0;
  server.on('malformed', () => malformed++);
  try {
    const cost = await memoryCost(async () => {
      for (let i = 0; i < n; i++) {
        const wire = rng.bool(0.85) ? mutate(rng, rng.pick(REQUESTS)) : rng.bytes(1 + rng.int(64));
        await new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1');
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.resume();
          s.end(wire);
        });
      }
    });
    assert.ok(cost.retained < 16 * MiB, `the server kept ${cost.retained} bytes`);
    // Still serving: the registration is intact and NAMES answers.
    const listed = await names('127.0.0.1', { port, timeout: 2000 });
    assert.ok(listed.some((e) => e.name === 'keeper'), JSON.stringify(listed));
    assert.equal((await portPlease('keeper', '127.0.0.1', { port, timeout: 2000 })).port, 40000);
    assert.ok(malformed > 0, 'garbage was seen as malformed');
  } finally {
    await reg.close();
    await server.close();
  }
});

test(`the EPMD client talking to an EPMD that answers garbage gets EpmdError every time (seed ${SEED})`, async () => {
  const rng = new Rng(SEED).fork(23);
  const n = fuzzIterations(300, 1 / 20);
  let answer: Buffer = Buffer.alloc(0);
  const sockets = new Set<Socket>();
  const fake = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.once('data', () => (rng.bool(0.95) ? s.end(answer) : s.write(answer))); // sometimes never closes: the timeout ends it
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const port = (fake.address() as AddressInfo).port;
  try {
    for (let i = 0; i < n; i++) {
      answer = rng.bool(0.85) ? mutate(rng, rng.pick(REPLIES)) : rng.bytes(rng.int(64));
      const o = { port, timeout: 150, maxReplyBytes: 4096 };
      const call = rng.pick([
        () => portPlease('hx', '127.0.0.1', o),
        () => names('127.0.0.1', o),
        () => dump('127.0.0.1', o),
        async () => (await register({ alive: 'hx', port: 5555, epmdPort: port, timeout: 150 })).close(),
      ]);
      try {
        await call();
      } catch (e) {
        // A reply that never completes is a deadline: TimeoutError with phase 'epmd' (one timeout class).
        if (!(e instanceof EpmdError) && !(e instanceof TimeoutError && e.phase === 'epmd')) throw untyped(e, answer, { target: 'epmd client', seed: SEED, i });
      }
    }
  } finally {
    for (const s of sockets) s.destroy();
    fake.close();
  }
});
