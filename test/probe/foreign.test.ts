/** What answered instead of a BEAM node: first bytes as real peers send them, and the failures the dialer reports for them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeError } from '../../src/dist/errors.js';
import { TimeoutError } from '../../src/errors.js';
import { classifyFailure } from '../../src/probe/dial.js';
import { identifyForeign } from '../../src/probe/foreign.js';

// OTP 25's ssl (-proto_dist inet_tls) answers a plain send_name with this fatal alert (captured).
const OTP_TLS_ALERT = Buffer.from('1503030002020a', 'hex');
const ENVOY_400 = Buffer.from('HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nBad Request');
// An HTTP/2 server's first frame: SETTINGS (type 4), flags 0, stream 0, one setting (6 bytes).
const H2_SETTINGS = Buffer.from('000006040000000000000300000064', 'hex');
const H2_GOAWAY = Buffer.from('0000080700000000000000000000000001', 'hex');

test('TLS records: an alert named by its description, a handshake record', () => {
  assert.deepEqual(identifyForeign(OTP_TLS_ALERT), { kind: 'tls', what: 'a TLS alert (unexpected_message)', hex: '1503030002020a' });
  assert.equal(identifyForeign(Buffer.from('160301002a01', 'hex'))!.what, 'a TLS handshake record');
  assert.equal(identifyForeign(Buffer.from('150303', 'hex'))!.kind, 'tls', 'a cut alert is still TLS');
});

test('HTTP/1.1 status line, the HTTP/2 preface and a server SETTINGS or GOAWAY frame', () => {
  assert.deepEqual([identifyForeign(ENVOY_400)!.kind, identifyForeign(ENVOY_400)!.what], ['http', 'HTTP/1.1 400 Bad Request']);
  assert.equal(identifyForeign(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))!.kind, 'http2');
  assert.deepEqual([identifyForeign(H2_SETTINGS)!.kind, identifyForeign(H2_SETTINGS)!.what], ['http2', 'an HTTP/2 SETTINGS frame']);
  assert.equal(identifyForeign(H2_GOAWAY)!.what, 'an HTTP/2 GOAWAY frame');
});

test('anything else: printable text quoted, bytes in hex; nothing for no bytes', () => {
  assert.deepEqual([identifyForeign(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))!.kind, identifyForeign(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))!.what], ['other', '"SSH-2.0-OpenSSH_9.2"']);
  assert.match(identifyForeign(Buffer.from([1, 2, 3, 4]))!.what, /^bytes 01020304/);
  assert.equal(identifyForeign(Buffer.alloc(0)), undefined);
  assert.equal(identifyForeign(undefined), undefined);
  // A short real handshake frame is not foreign: the dialer passes only bytes that never made a message.
});

const hsError = (code: ConstructorParameters<typeof HandshakeError>[0], step: 'recv_status' | 'recv_challenge', received?: Buffer, message = 'the peer closed the connection at recv_status') =>
  new HandshakeError(code, message, { step, peer: 'myapp@10.0.0.1', ...(received ? { received } : {}) });

test('classifyFailure: a TLS alert is tls, an HTTP answer foreign, a silent close after connect a reset', () => {
  const tls = classifyFailure(hsError('BEAM_ERR_HANDSHAKE_CLOSED', 'recv_status', OTP_TLS_ALERT));
  assert.equal(tls.reason, 'tls');
  assert.match(tls.detail, /speaks TLS.*--tls-cert/);
  const http = classifyFailure(new TimeoutError('handshake', 'handshake step recv_status with myapp@10.0.0.1 (setupTime)', 3000, { peer: 'myapp@10.0.0.1', step: 'recv_status', received: ENVOY_400 }));
  assert.equal(http.reason, 'foreign');
  assert.match(http.detail, /HTTP\/1\.1 400 Bad Request/);
  const reset = classifyFailure(hsError('BEAM_ERR_HANDSHAKE_CLOSED', 'recv_status', undefined, 'socket error ECONNRESET at recv_status'));
  assert.equal(reset.reason, 'reset');
  assert.match(reset.detail, /reset it/);
  // Over TLS, a certificate the node refuses shows as the socket's SSL error, not as a proxy.
  assert.equal(classifyFailure(hsError('BEAM_ERR_HANDSHAKE_CLOSED', 'recv_status', undefined, 'socket error ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED at recv_status')).reason, 'tls');
  // A close later in the handshake stays what it was (not a proxy).
  assert.equal(classifyFailure(hsError('BEAM_ERR_HANDSHAKE_CLOSED', 'recv_challenge')).reason, 'handshake-failed');
});
