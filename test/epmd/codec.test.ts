// EPMD codec: byte vectors captured from OTP 25.2.3's epmd, every
// truncation, malformed input, name rules, and random garbage (typed errors only, never a crash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeAlive2Reply,
  decodeDumpReply,
  decodeKillReply,
  decodeNamesReply,
  decodePort2Reply,
  decodeRequest,
  decodeStopReply,
  encodeAlive2Failure,
  encodeAlive2Reply,
  encodeAlive2Req,
  encodeDumpReply,
  encodeDumpReq,
  encodeKillReq,
  encodeNamesReply,
  encodeNamesReq,
  encodePort2Reply,
  encodePortPlease2Req,
  encodeStopReq,
  nodeNameFromBytes,
  nodeNameToBytes,
  requestFrameLength,
} from '../../src/epmd/codec.js';
import { EpmdError } from '../../src/epmd/errors.js';
import { MAX_REQUEST_BODY, NODE_TYPE_HIDDEN } from '../../src/epmd/messages.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isCode = (code: string) => (e: unknown) => e instanceof EpmdError && e.code === code;

// OTP 25.2.3 epmd's replies, byte for byte
const X_RESP_OK = hex('76 00 6b048e52'); // 'v', 0, creation 1795460690
const PORT2_HX = hex('77 00 15b3 48 00 0006 0005 0002 6878 0000');
const NAMES_HX = Buffer.concat([hex('00001111'), Buffer.from('name hx at port 5555\n')]);
const DUMP_HX = Buffer.concat([hex('00001111'), Buffer.from('active name     <hx> at port 5555, fd = 5\n\0')]);
const RESP_16 = hex('79 00 0003');
const X_RESP_TAKEN = hex('76 01 00000063');
const RESP_TAKEN = hex('79 01 0063');
const PORT2_NONE = hex('77 01');

test('ALIVE2_REQ for hx (type 72, hi 6, lo 5, port 5555) has the layout epmd reads', () => {
  const req = encodeAlive2Req({ port: 5555, name: 'hx', nodeType: NODE_TYPE_HIDDEN, highestVersion: 6, lowestVersion: 5 });
  assert.deepEqual(req, hex('000f 78 15b3 48 00 0006 0005 0002 6878 0000'));
  assert.equal(requestFrameLength(req), req.length);
  assert.deepEqual(decodeRequest(req.subarray(2)), {
    kind: 'alive2',
    port: 5555,
    nodeType: 72,
    protocol: 0,
    highestVersion: 6,
    lowestVersion: 5,
    name: Buffer.from('hx'),
    extra: Buffer.alloc(0),
  });
});

test('the other requests: PORT_PLEASE2, NAMES, DUMP, KILL, STOP', () => {
  assert.deepEqual(encodePortPlease2Req('hx'), hex('0003 7a 6878'));
  assert.deepEqual(encodeNamesReq(), hex('0001 6e'));
  assert.deepEqual(encodeDumpReq(), hex('0001 64'));
  assert.deepEqual(encodeKillReq(), hex('0001 6b'));
  assert.deepEqual(encodeStopReq('hx'), hex('0003 73 6878'));
  assert.deepEqual(decodeRequest(hex('7a 6878')), { kind: 'port_please2', name: Buffer.from('hx') });
  assert.deepEqual(decodeRequest(hex('7a 6878 00')), { kind: 'port_please2', name: Buffer.from('hx') }, 'one trailing NUL skipped, as epmd');
  assert.deepEqual(decodeRequest(hex('6e')), { kind: 'names' });
  assert.deepEqual(decodeRequest(hex('64')), { kind: 'dump' });
  assert.deepEqual(decodeRequest(hex('6b')), { kind: 'kill' });
  assert.deepEqual(decodeRequest(hex('73 6878')), { kind: 'stop', name: Buffer.from('hx') });
});

test('replies from OTP 25 epmd decode', () => {
  assert.deepEqual(decodeAlive2Reply(X_RESP_OK), { value: { kind: 'alive2_x_resp', result: 0, creation: 1795460690 }, end: 6 });
  assert.deepEqual(decodeAlive2Reply(RESP_16), { value: { kind: 'alive2_resp', result: 0, creation: 3 }, end: 4 });
  assert.deepEqual(decodeAlive2Reply(X_RESP_TAKEN)?.value, { kind: 'alive2_x_resp', result: 1, creation: 99 });
  assert.deepEqual(decodeAlive2Reply(RESP_TAKEN)?.value, { kind: 'alive2_resp', result: 1, creation: 99 });
  assert.deepEqual(decodePort2Reply(PORT2_HX), {
    value: {
      kind: 'port2_resp',
      result: 0,
      node: { port: 5555, nodeType: 72, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'hx', extra: Buffer.alloc(0) },
    },
    end: PORT2_HX.length,
  });
  assert.deepEqual(decodePort2Reply(PORT2_NONE), { value: { kind: 'port2_resp', result: 1 }, end: 2 });
  assert.deepEqual(decodeNamesReply(NAMES_HX), { epmdPort: 4369, nodes: [{ name: 'hx', port: 5555 }], unparsed: [] });
  assert.deepEqual(decodeDumpReply(DUMP_HX), { epmdPort: 4369, active: [{ name: 'hx', port: 5555, fd: 5 }], old: [], unparsed: [] });
  assert.deepEqual(decodeKillReply(Buffer.from('NO'))?.value, 'NO');
  assert.deepEqual(decodeStopReply(Buffer.from('NOEXIST'))?.value, 'NOEXIST');
});

test('server-side encoders produce the same bytes as OTP 25 epmd', () => {
  assert.deepEqual(encodeAlive2Reply(0, 1795460690, true), X_RESP_OK);
  assert.deepEqual(encodeAlive2Reply(0, 3, false), RESP_16);
  assert.deepEqual(encodeAlive2Failure(true), X_RESP_TAKEN);
  assert.deepEqual(encodeAlive2Failure(false), RESP_TAKEN);
  assert.deepEqual(
    encodePort2Reply({ port: 5555, nodeType: 72, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'hx', extra: Buffer.alloc(0) }),
    PORT2_HX,
  );
  assert.deepEqual(encodePort2Reply(undefined), PORT2_NONE);
  assert.deepEqual(encodeNamesReply(4369, [{ name: 'hx', port: 5555 }]), NAMES_HX);
  assert.deepEqual(encodeDumpReply(4369, [{ name: 'hx', port: 5555, fd: 5 }], []), DUMP_HX);
  const old = encodeDumpReply(4369, [], [{ name: 'gone', port: 1, fd: 7 }]);
  assert.equal(old.subarray(4).toString(), 'old/unused name <gone>, port = 1, fd = 7 \n\0');
  assert.deepEqual(decodeDumpReply(old).old, [{ name: 'gone', port: 1, fd: 7 }]);
});

test('incremental reply decoders wait for every proper prefix and never over-read', () => {
  for (const [name, full, decode] of [
    ['ALIVE2_X_RESP', X_RESP_OK, decodeAlive2Reply],
    ['ALIVE2_RESP', RESP_16, decodeAlive2Reply],
    ['PORT2_RESP', PORT2_HX, decodePort2Reply],
    ['PORT2_RESP error', PORT2_NONE, decodePort2Reply],
    ['KILL', Buffer.from('OK'), decodeKillReply],
    ['STOP', Buffer.from('STOPPED'), decodeStopReply],
  ] as const) {
    for (let cut = 0; cut < full.length; cut++) {
      assert.equal((decode as (b: Buffer) => unknown)(full.subarray(0, cut)), undefined, `${name} cut at ${cut}`);
    }
    const withTail = Buffer.concat([full, hex('ffff')]);
    assert.equal((decode as (b: Buffer) => { end: number })(withTail).end, full.length, `${name} end`);
  }
});

test('a PORT2_RESP with extra bytes is decoded whole, at every cut', () => {
  const node = { port: 1, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 6, name: 'né', extra: Buffer.from('xyz') };
  const full = encodePort2Reply(node);
  for (let cut = 0; cut < full.length; cut++) assert.equal(decodePort2Reply(full.subarray(0, cut)), undefined);
  assert.deepEqual(decodePort2Reply(full)?.value.node, node);
});

test('NAMES and DUMP replies shorter than the 4-byte port header are MALFORMED', () => {
  for (let cut = 0; cut < 4; cut++) {
    assert.throws(() => decodeNamesReply(NAMES_HX.subarray(0, cut)), isCode('BEAM_ERR_EPMD_MALFORMED'));
    assert.throws(() => decodeDumpReply(DUMP_HX.subarray(0, cut)), isCode('BEAM_ERR_EPMD_MALFORMED'));
  }
  // Cut anywhere after the header: the complete lines are kept, a partial one is unparsed or kept.
  for (let cut = 4; cut <= NAMES_HX.length; cut++) {
    const r = decodeNamesReply(NAMES_HX.subarray(0, cut));
    assert.equal(r.epmdPort, 4369);
    assert.ok(r.nodes.length + r.unparsed.length <= 1);
  }
});

test('wrong reply tags are MALFORMED, not a hang', () => {
  assert.throws(() => decodeAlive2Reply(hex('77')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodePort2Reply(hex('76')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeKillReply(Buffer.from('XX')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeStopReply(Buffer.from('STOPPEX')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  // PORT2 name length 0 or beyond epmd's MAXSYMLEN, extra beyond MAXSYMLEN
  assert.throws(() => decodePort2Reply(hex('77 00 0001 4d 00 0006 0005 0000')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodePort2Reply(hex('77 00 0001 4d 00 0006 0005 ffff')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodePort2Reply(hex('77 00 0001 4d 00 0006 0005 0001 61 ffff')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodePort2Reply(hex('77 00 0001 4d 00 0006 0005 0001 00 0000')), isCode('BEAM_ERR_EPMD_MALFORMED'));
});

test('NAMES parsing is robust: CRLF, junk, spaces in names, bad ports, no final newline', () => {
  const text = 'name a at port 1\r\njunk line\nname with space at port 2\nname big at port 70000\nname x at port\nname ünï at port 65535';
  const r = decodeNamesReply(Buffer.concat([hex('00001111'), Buffer.from(text)]));
  assert.deepEqual(r.nodes, [
    { name: 'a', port: 1 },
    { name: 'with space', port: 2 },
    { name: 'ünï', port: 65535 },
  ]);
  assert.deepEqual(r.unparsed, ['junk line', 'name big at port 70000', 'name x at port']);
  assert.deepEqual(decodeNamesReply(hex('00001111')).nodes, []);
});

test('truncated ALIVE2_REQ bodies (with extra) are MALFORMED at every cut', () => {
  const req = encodeAlive2Req({ port: 1, name: 'node', extra: Buffer.from('extra') }).subarray(2);
  for (let cut = 0; cut < req.length; cut++) {
    assert.throws(() => decodeRequest(req.subarray(0, cut)), isCode('BEAM_ERR_EPMD_MALFORMED'), `cut ${cut}`);
  }
  assert.deepEqual((decodeRequest(req) as { extra: Buffer }).extra, Buffer.from('extra'));
});

test('malformed requests: NUL in names, empty names, unknown tags, bad lengths', () => {
  const nul = Buffer.from(encodeAlive2Req({ port: 1, name: 'ab' }).subarray(2));
  nul[12] = 0;
  assert.throws(() => decodeRequest(nul), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeRequest(hex('7a')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeRequest(hex('7a 00')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeRequest(hex('7a 61 00 62')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeRequest(hex('73')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeRequest(hex('ff')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.throws(() => decodeRequest(hex('')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  assert.equal(requestFrameLength(hex('00')), undefined);
  assert.throws(() => requestFrameLength(hex('0000')), isCode('BEAM_ERR_EPMD_MALFORMED'));
  const big = Buffer.alloc(2);
  big.writeUInt16BE(MAX_REQUEST_BODY + 1);
  assert.throws(() => requestFrameLength(big), isCode('BEAM_ERR_EPMD_MALFORMED'));
  big.writeUInt16BE(MAX_REQUEST_BODY);
  assert.equal(requestFrameLength(big), MAX_REQUEST_BODY + 2);
});

test('alive names follow epmd: UTF-8, no NUL, 1..255 characters', () => {
  assert.equal(nodeNameFromBytes(Buffer.from('ok')), 'ok');
  assert.equal(nodeNameFromBytes(Buffer.from('😀'.repeat(255))), '😀'.repeat(255)); // 1020 bytes
  const invalid = [
    Buffer.alloc(0),
    Buffer.from('a\0b'),
    Buffer.from('a'.repeat(256)),
    Buffer.from('é'.repeat(256)),
    hex('c080'), // overlong NUL
    hex('e0 80 80'), // overlong
    hex('ed a0 80'), // surrogate
    hex('f4 90 80 80'), // above U+10FFFF
    hex('ff'),
    hex('c3'), // truncated sequence
  ];
  for (const b of invalid) assert.throws(() => nodeNameFromBytes(b), isCode('BEAM_ERR_EPMD_INVALID_NAME'), b.toString('hex'));
  assert.throws(() => nodeNameToBytes('a@host'), isCode('BEAM_ERR_EPMD_INVALID_NAME'));
  assert.throws(() => nodeNameToBytes('\ud800'), isCode('BEAM_ERR_EPMD_INVALID_NAME'));
  assert.throws(() => encodePortPlease2Req(''), isCode('BEAM_ERR_EPMD_INVALID_NAME'));
  assert.throws(() => encodeAlive2Req({ port: 70000, name: 'a' }), isCode('BEAM_ERR_EPMD_USAGE'));
  assert.throws(() => encodeAlive2Req({ port: 1, name: 'a', extra: Buffer.alloc(1021) }), isCode('BEAM_ERR_EPMD_USAGE'));
});

test('random bytes never crash a decoder: a value, undefined, or an EpmdError', () => {
  const decoders: ((b: Buffer) => unknown)[] = [
    (b) => decodeRequest(b),
    (b) => requestFrameLength(b),
    (b) => decodeAlive2Reply(b),
    (b) => decodePort2Reply(b),
    (b) => decodeNamesReply(b),
    (b) => decodeDumpReply(b),
    (b) => decodeKillReply(b),
    (b) => decodeStopReply(b),
  ];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(120, 122, 119, 118, 121, 110), (bytes, tag) => {
      for (const input of [Buffer.from(bytes), Buffer.concat([Buffer.of(tag), bytes])]) {
        for (const d of decoders) {
          try {
            d(input);
          } catch (e) {
            if (!(e instanceof EpmdError)) throw e;
          }
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('every ALIVE2_REQ the encoder makes decodes back to the same fields', () => {
  fc.assert(
    fc.property(
      fc.record({
        port: fc.integer({ min: 0, max: 65535 }),
        name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('@') && !s.includes('\0')),
        nodeType: fc.constantFrom(72, 77),
        highestVersion: fc.integer({ min: 0, max: 65535 }),
        lowestVersion: fc.integer({ min: 0, max: 65535 }),
        extra: fc.uint8Array({ maxLength: 100 }),
      }),
      (r) => {
        const req = encodeAlive2Req(r);
        const d = decodeRequest(req.subarray(2));
        assert.equal(d.kind, 'alive2');
        if (d.kind !== 'alive2') return;
        assert.equal(nodeNameFromBytes(d.name), r.name);
        assert.deepEqual(d.extra, Buffer.from(r.extra));
        assert.equal(d.port, r.port);
        assert.equal(d.highestVersion, r.highestVersion);
      },
    ),
  );
});
