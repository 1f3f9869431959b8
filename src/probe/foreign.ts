/**
 * What answered instead of a BEAM node or EPMD, from the first bytes it sent (pure: no sockets).
 * A port that accepts and then speaks another protocol is, in a cluster, almost always a proxy:
 * a service-mesh sidecar (Istio's Envoy, Linkerd's proxy) that captured the port, or a TLS
 * distribution listener (`-proto_dist inet_tls`) dialed in plain TCP.
 *
 * Shapes recognised:
 * - TLS record header: content type 0x15 (alert) or 0x16 (handshake), version 0x03 0x00–0x04
 *   (RFC 8446 §5.1). OTP's ssl answers a plain send_name with a fatal alert `15 03 03 00 02 02 0a`
 *   (unexpected_message).
 * - HTTP/1.x status line (`HTTP/1.1 400 Bad Request`: Envoy's answer to bytes that are no HTTP).
 * - HTTP/2: the client preface `PRI * HTTP/2.0`, or a server's first frame, a SETTINGS frame
 *   (type 4) or GOAWAY (type 7) on stream 0 (RFC 9113 §3.4, §6.5, §6.8).
 */

export type ForeignKind = 'tls' | 'http' | 'http2' | 'other';

export interface Foreign {
  kind: ForeignKind;
  /** A short human description, e.g. `a TLS alert (unexpected_message)` or `HTTP/1.1 400 Bad Request`. */
  what: string;
  /** The bytes as hex (at most 32), for the report. */
  hex: string;
}

const TLS_ALERTS: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure',
  42: 'bad_certificate', 46: 'certificate_unknown', 48: 'unknown_ca', 70: 'protocol_version', 80: 'internal_error',
  116: 'certificate_required',
};

/** Classifies bytes a peer sent instead of the expected protocol; undefined for none. */
export function identifyForeign(bytes: Uint8Array | undefined): Foreign | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hex = b.subarray(0, 32).toString('hex');
  if (b.length >= 3 && (b[0] === 0x15 || b[0] === 0x16) && b[1] === 0x03 && b[2] <= 0x04) {
    if (b[0] === 0x15) {
      const desc = b.length >= 7 ? TLS_ALERTS[b[6]] ?? `alert ${b[6]}` : 'alert';
      return { kind: 'tls', what: `a TLS alert (${desc})`, hex };
    }
    return { kind: 'tls', what: 'a TLS handshake record', hex };
  }
  const text = b.subarray(0, 64).toString('latin1');
  const status = /^HTTP\/1\.[01] \d{3}[^\r\n]*/.exec(text);
  if (status) return { kind: 'http', what: status[0].trim(), hex };
  if (text.startsWith('PRI * HTTP/2.0')) return { kind: 'http2', what: 'the HTTP/2 client preface', hex };
  // A frame header: 24-bit length, type, flags, 31-bit stream id; SETTINGS and GOAWAY are on stream 0.
  if (b.length >= 9 && (b[3] === 0x04 || b[3] === 0x07) && b.readUInt32BE(5) === 0 && b.readUIntBE(0, 3) <= 16_384) {
    return { kind: 'http2', what: `an HTTP/2 ${b[3] === 0x04 ? 'SETTINGS' : 'GOAWAY'} frame`, hex };
  }
  const printable = /^[\x20-\x7e\r\n\t]{4,}/.exec(text);
  return { kind: 'other', what: printable ? JSON.stringify(printable[0].split(/\r?\n/)[0].slice(0, 40)) : `bytes ${hex.slice(0, 16)}…`, hex };
}
