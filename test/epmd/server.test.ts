// The embedded EPMD server against our client and raw sockets (no erl here; the integration tests
// run real erl nodes and OTP's epmd client against it). Every test stops its server in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startEpmdServer, type EpmdServer, type UnregisterInfo } from '../../src/epmd/server.js';
import { dump, kill, names, portPlease, register, stop } from '../../src/epmd/client.js';
import { encodeAlive2Req, encodeNamesReq, decodeNamesReply } from '../../src/epmd/codec.js';
import { EpmdError } from '../../src/epmd/errors.js';

const HOST = '127.0.0.1';
const isCode = (code: string) => (e: unknown) => e instanceof EpmdError && e.code === code;

/** Sends `chunks` (one write each) and collects everything until the server closes (≤ 5 s). */
function raw(port: number, ...chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: HOST });
    const got: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('server did not close the connection within 5 s'));
    }, 5000);
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(got));
    });
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
    });
  });
}

async function withServer(fn: (s: EpmdServer) => Promise<void>, opts = {}) {
  const s = await startEpmdServer({ port: 0, address: HOST, ...opts });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

function nextUnregister(s: EpmdServer): Promise<UnregisterInfo> {
  return once(s, 'unregister').then(([i]) => i as UnregisterInfo);
}

test('register, resolve, list, unregister on close', () =>
  withServer(async (s) => {
    const r = await register({ alive: 'ts', port: 5555, hidden: true, epmdPort: s.port, extra: Buffer.from('x') });
    try {
      assert.equal(r.extended, true);
      assert.ok(r.creation >= 4, `creation ${r.creation}`);
      assert.deepEqual(await names(HOST, { port: s.port }), [{ name: 'ts', port: 5555 }]);
      const p = await portPlease('ts', HOST, { port: s.port });
      assert.deepEqual(p, { port: 5555, nodeType: 72, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'ts', extra: Buffer.from('x') });
      assert.equal(s.nodes()[0].creation, r.creation);
      const d = await dump(HOST, { port: s.port });
      assert.deepEqual(d.active.map((e) => [e.name, e.port]), [['ts', 5555]]);
    } finally {
      const gone = nextUnregister(s);
      await r.close();
      assert.equal((await gone).node.name, 'ts');
    }
    assert.deepEqual(await names(HOST, { port: s.port }), []);
    await assert.rejects(portPlease('ts', HOST, { port: s.port }), isCode('BEAM_ERR_EPMD_NOT_REGISTERED'));
  }));

test('a name is taken while registered; registering it again later bumps the creation by one', () =>
  withServer(async (s) => {
    const first = await register({ alive: 'n', port: 1000, epmdPort: s.port });
    await assert.rejects(register({ alive: 'n', port: 1001, epmdPort: s.port }), isCode('BEAM_ERR_EPMD_NAME_TAKEN'));
    const gone = nextUnregister(s);
    await first.close();
    await gone;
    const second = await register({ alive: 'n', port: 1002, epmdPort: s.port });
    try {
      assert.equal(second.creation, first.creation + 1);
    } finally {
      await second.close();
    }
  }));

test('HighestVersion 5 gets ALIVE2_RESP with a 16-bit creation 1..3', () =>
  withServer(async (s) => {
    const r = await register({ alive: 'old', port: 1, epmdPort: s.port, highestVersion: 5, lowestVersion: 5 });
    try {
      assert.equal(r.extended, false);
      assert.ok(r.creation >= 1 && r.creation <= 3, `creation ${r.creation}`);
      assert.equal(s.nodes()[0].creation, r.creation);
    } finally {
      await r.close();
    }
  }));

test('NAMES lists the newest registration first, as epmd', () =>
  withServer(async (s) => {
    const a = await register({ alive: 'a', port: 1, epmdPort: s.port });
    const b = await register({ alive: 'b', port: 2, epmdPort: s.port });
    try {
      const bytes = await raw(s.port, encodeNamesReq());
      assert.equal(bytes.readUInt32BE(0), s.port);
      assert.equal(bytes.subarray(4).toString(), 'name b at port 2\nname a at port 1\n');
      assert.deepEqual(decodeNamesReply(bytes).nodes.map((n) => n.name), ['b', 'a']);
    } finally {
      await a.close();
      await b.close();
    }
  }));

test('garbage, oversize, split and over-long requests close only their connection; the server keeps serving', () =>
  withServer(async (s) => {
    const r = await register({ alive: 'keep', port: 7, epmdPort: s.port });
    const malformed: string[] = [];
    s.on('malformed', (m) => malformed.push(m.error.message));
    try {
      assert.equal((await raw(s.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'))).length, 0);
      assert.equal((await raw(s.port, Buffer.from([0x00, 0x00]))).length, 0); // length 0
      assert.equal((await raw(s.port, Buffer.from([0xff, 0xff]))).length, 0); // beyond 3057
      assert.equal((await raw(s.port, Buffer.from([0x00, 0x01, 0x6e, 0x6e]))).length, 0); // more than announced
      assert.equal((await raw(s.port, Buffer.from([0x00, 0x01, 0x99]))).length, 0); // unknown tag
      assert.equal((await raw(s.port, Buffer.from([0x00, 0x03, 0x78, 0x00, 0x01]))).length, 0); // short ALIVE2
      // A valid request split at every byte still works.
      const req = encodeNamesReq();
      const split = await raw(s.port, ...[...req].map((b) => Buffer.of(b)));
      assert.equal(decodeNamesReply(split).nodes[0].name, 'keep');
      assert.ok(malformed.length >= 6, malformed.join('; '));
      assert.deepEqual(await names(HOST, { port: s.port }), [{ name: 'keep', port: 7 }]);
    } finally {
      await r.close();
    }
  }));

test('a registration that sends anything more is unregistered (epmd: "got more than expected")', () =>
  withServer(async (s) => {
    const sock = connect({ port: s.port, host: HOST });
    try {
      await once(sock, 'connect');
      sock.write(encodeAlive2Req({ port: 9, name: 'chatty' }));
      const [reply] = (await once(sock, 'data')) as [Buffer];
      assert.equal(reply[0], 118);
      assert.equal(reply[1], 0);
      const gone = nextUnregister(s);
      sock.write(Buffer.from('more'));
      assert.equal((await gone).reason, 'unexpected-data');
      assert.deepEqual(s.nodes(), []);
    } finally {
      sock.destroy();
    }
  }));

test('invalid ALIVE2 names get result 1 / creation 99, like a taken name', () =>
  withServer(async (s) => {
    const req = Buffer.from(encodeAlive2Req({ port: 9, name: 'ab' }));
    req[13] = 0xc0; // "ab" -> 0xC0 'b': not UTF-8
    assert.deepEqual(await raw(s.port, req), Buffer.from([118, 1, 0, 0, 0, 99]));
    const long = encodeAlive2Req({ port: 9, name: 'a'.repeat(255) });
    const tooLong = Buffer.concat([long.subarray(0, 11), Buffer.from([0x01, 0x00]), Buffer.from('a'.repeat(256)), Buffer.from([0, 0])]);
    tooLong.writeUInt16BE(tooLong.length - 2, 0);
    assert.deepEqual(await raw(s.port, tooLong), Buffer.from([118, 1, 0, 0, 0, 99]));
    assert.deepEqual(s.nodes(), []);
  }));

test('an incomplete request is closed after packetTimeout', () =>
  withServer(
    async (s) => {
      assert.equal((await raw(s.port, Buffer.from([0x00, 0x05, 0x78]))).length, 0);
      assert.deepEqual(await names(HOST, { port: s.port }), []);
    },
    { packetTimeout: 200 },
  ));

test('KILL is refused while nodes live, then honoured; STOP needs relaxedCommandCheck', async () => {
  await withServer(async (s) => {
    const r = await register({ alive: 'live', port: 1, epmdPort: s.port });
    try {
      assert.equal(await kill(HOST, { port: s.port }), 'NO');
      await assert.rejects(stop('live', HOST, { port: s.port }), isCode('BEAM_ERR_EPMD_REFUSED')); // closed, no answer
    } finally {
      await r.close();
    }
    const killed = once(s, 'kill');
    assert.equal(await kill(HOST, { port: s.port }), 'OK');
    await killed;
    await assert.rejects(names(HOST, { port: s.port }), isCode('BEAM_ERR_EPMD_UNREACHABLE'));
  });
  await withServer(
    async (s) => {
      const r = await register({ alive: 'victim', port: 1, epmdPort: s.port });
      const closed = once(r, 'close');
      assert.equal(await stop('victim', HOST, { port: s.port }), 'STOPPED');
      assert.deepEqual((await closed)[0], { byUs: false });
      assert.equal(await stop('victim', HOST, { port: s.port }), 'NOEXIST');
    },
    { relaxedCommandCheck: true },
  );
});

test('closing the server ends registrations; the registration says epmd closed it', async () => {
  const s = await startEpmdServer({ port: 0, address: HOST });
  let r;
  try {
    r = await register({ alive: 'orphan', port: 1, epmdPort: s.port });
  } finally {
    const closed = r ? once(r, 'close') : undefined;
    await s.close();
    if (closed) assert.deepEqual((await closed)[0], { byUs: false });
  }
  assert.equal(r?.closed, true);
});

test('listening on a port in use is BEAM_ERR_EPMD_LISTEN', () =>
  withServer(async (s) => {
    await assert.rejects(startEpmdServer({ port: s.port, address: HOST }), isCode('BEAM_ERR_EPMD_LISTEN'));
  }));
