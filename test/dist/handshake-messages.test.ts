import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/dist/errors.js';
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
  encodeSendName,
  encodeSendNameOld,
  encodeStatus,
  encodeStatusNamed,
  frame2,
} from '../../src/dist/protocol/handshake-messages.js';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

test("send_name 'N': the bytes OTP 25 sent decode and re-encode identically", () => {
  const wire = Buffer.concat([hex('4e 0000000d07df7fbd 6b048f4f 000d'), Buffer.from('c10@127.0.0.1')]);
  const m = decodeSendName(wire);
  assert.deepEqual(m, { version: 6, flags: 0xd07df7fbdn, creation: 0x6b048f4f, name: 'c10@127.0.0.1' });
  assert.deepEqual(encodeSendName({ flags: 0xd07df7fbdn, creation: 0x6b048f4f, name: 'c10@127.0.0.1' }), wire);
});

test("send_name 'N': bytes after the name are ignored, as dist_util does", () => {
  const wire = Buffer.concat([encodeSendName({ flags: 1n, creation: 2, name: 'a@b' }), Buffer.from('junk')]);
  assert.equal((decodeSendName(wire) as { name: string }).name, 'a@b');
});

test("send_name old 'n': version 5, 32-bit flags, name to the end", () => {
  const wire = encodeSendNameOld({ flags: 0x7df7fbdn, name: 'old@127.0.0.1' });
  assert.deepEqual(wire.subarray(0, 7), hex('6e 0005 07df7fbd'));
  assert.deepEqual(decodeSendName(wire), { version: 5, wireVersion: 5, flags: 0x7df7fbdn, name: 'old@127.0.0.1' });
});

test('status frames seen from OTP', () => {
  assert.deepEqual(decodeStatus(hex('736f6b')), { status: 'ok' });
  assert.deepEqual(decodeStatus(hex('73616c697665')), { status: 'alive' });
  assert.deepEqual(decodeStatus(hex('736e6f6b')), { status: 'nok' });
  assert.deepEqual(decodeStatus(hex('736e6f745f616c6c6f776564')), { status: 'not_allowed' });
  assert.deepEqual(decodeStatus(Buffer.from('sok_simultaneous')), { status: 'ok_simultaneous' });
  assert.deepEqual(decodeStatus(Buffer.from('sweird')), { status: 'unknown', text: 'weird' });
  assert.deepEqual(encodeStatus('ok'), hex('736f6b'));
  assert.deepEqual(encodeStatus('true'), Buffer.from('strue'));
});

test('status named: decodes and re-encodes identically', () => {
  const wire = Buffer.concat([hex('736e616d65643a 0017'), Buffer.from('3UIBGQRA7JJQS@127.0.0.1'), hex('542f5910')]);
  assert.deepEqual(decodeStatus(wire), { status: 'named', name: '3UIBGQRA7JJQS@127.0.0.1', creation: 0x542f5910 });
  assert.deepEqual(encodeStatusNamed('3UIBGQRA7JJQS@127.0.0.1', 0x542f5910), wire);
});

test("challenge 'N' of 31 bytes for n1@127.0.0.1 round-trips", () => {
  const c = { flags: 0xd07df7fbdn, challenge: 0xdeadbeef, creation: 0x6b048e52, name: 'n1@127.0.0.1' };
  const wire = encodeChallenge(c);
  assert.equal(wire.length, 31);
  assert.deepEqual(wire.subarray(0, 19), hex('4e 0000000d07df7fbd deadbeef 6b048e52 000c'));
  assert.deepEqual(decodeChallenge(wire), c);
});

test('complement, challenge_reply and challenge_ack have fixed sizes', () => {
  assert.deepEqual(encodeComplement({ flagsHigh: 0xd, creation: 7 }), hex('63 0000000d 00000007'));
  assert.deepEqual(decodeComplement(hex('63 0000000d 00000007')), { flagsHigh: 0xd, creation: 7 });
  const d = hex('c38503c315a79e656c40184f444e59d6');
  const r = encodeChallengeReply({ challenge: 0xffffffff, digest: d });
  assert.deepEqual(r, Buffer.concat([hex('72 ffffffff'), d]));
  assert.deepEqual(decodeChallengeReply(r), { challenge: 0xffffffff, digest: d });
  assert.deepEqual(decodeChallengeAck(encodeChallengeAck(d)), { digest: d });
  assert.throws(() => decodeChallengeReply(r.subarray(0, 20)), ProtocolError);
  assert.throws(() => decodeChallengeReply(Buffer.concat([r, Buffer.of(0)])), ProtocolError);
  assert.throws(() => decodeChallengeAck(Buffer.concat([encodeChallengeAck(d), Buffer.of(0)])), ProtocolError);
  assert.throws(() => decodeComplement(hex('63 0000000d 000000')), ProtocolError);
});

test('every rejection is a ProtocolError with BEAM_ERR_DIST_BAD_HANDSHAKE_MESSAGE', () => {
  const bad: [string, () => unknown][] = [
    ['empty name', () => decodeSendName(Buffer.alloc(0))],
    ['wrong tag', () => decodeSendName(Buffer.from('Xabc'))],
    ['short N', () => decodeSendName(hex('4e 00'))],
    ['name past end', () => decodeSendName(hex('4e 0000000000000000 00000000 0009 6162'))],
    ['short n', () => decodeSendName(hex('6e 0005'))],
    ['status tag', () => decodeStatus(Buffer.from('xok'))],
    ['named short', () => decodeStatus(Buffer.from('snamed:'))],
    ['named past end', () => decodeStatus(Buffer.concat([Buffer.from('snamed:'), hex('0010 6162')]))],
    ['challenge old', () => decodeChallenge(Buffer.from('n'))],
    ['challenge short', () => decodeChallenge(hex('4e 00'))],
    ['challenge name past end', () => decodeChallenge(hex('4e 0000000000000000 00000000 00000000 0005 61'))],
  ];
  for (const [what, f] of bad) {
    assert.throws(f, (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_BAD_HANDSHAKE_MESSAGE', what);
  }
  assert.throws(() => encodeSendName({ flags: 0n, creation: 0, name: 'ä\u0100@x' }), ProtocolError);
});

test('decoders never throw anything but ProtocolError on random bytes', () => {
  const decoders = [decodeSendName, decodeStatus, decodeChallenge, decodeComplement, decodeChallengeReply, decodeChallengeAck];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(0x4e, 0x6e, 0x73, 0x63, 0x72, 0x61), (rest, tag) => {
      const bytes = Buffer.concat([Buffer.of(tag), rest]);
      for (const d of decoders) {
        try {
          d(bytes);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('names are Latin-1 on the wire (dist_util atom_to_binary(Node, latin1))', () => {
  const wire = encodeSendName({ flags: 0n, creation: 1, name: 'nö@host' });
  assert.equal(wire.length, 15 + 'nö@host'.length);
  assert.equal((decodeSendName(wire) as { name: string }).name, 'nö@host');
});

test('frame2 prefixes a 2-byte length and refuses more than 65535 bytes', () => {
  assert.deepEqual(frame2(Buffer.from('sok')), hex('0003 736f6b'));
  assert.throws(() => frame2(Buffer.alloc(65536)), ProtocolError);
});
