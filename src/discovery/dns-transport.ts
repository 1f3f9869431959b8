/**
 * One DNS exchange over UDP or TCP with one nameserver: send the query bytes, wait for the reply
 * whose ID matches, within a deadline and an AbortSignal. UDP replies with another ID are ignored
 * (a late answer to an earlier try, or spoofing); TCP replies with another ID fail the exchange.
 * Every reply is bounded by `maxBytes` before it is buffered.
 */
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { addAbortListener } from 'node:events';
import createDebug from 'debug';
import { DnsError } from './errors.js';
import type { Nameserver } from './resolv-conf.js';

const log = createDebug('beamnode:discovery:dns');

export interface ExchangeOptions {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** For error messages: the name and type asked. */
  name: string;
  type: string;
}

/** Returns the raw reply. Rejects with DnsError TIMEOUT / NETWORK / BAD_RESPONSE, or the signal's reason. */
export function exchangeUdp(server: Nameserver, id: number, query: Buffer, o: ExchangeOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    o.signal?.throwIfAborted();
    const sock = createSocket(isIP(server.address) === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (err: unknown, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSub?.[Symbol.dispose]();
      sock.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () => finish(new DnsError('BEAM_ERR_DNS_TIMEOUT', o.type, [o.name], `${o.type} ${o.name}: no UDP reply from ${fmt(server)} within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    const abortSub = o.signal ? addAbortListener(o.signal, () => finish(o.signal!.reason)) : undefined;
    sock.on('error', (e) =>
      finish(new DnsError('BEAM_ERR_DNS_NETWORK', o.type, [o.name], `${o.type} ${o.name}: UDP to ${fmt(server)}: ${e.message}`, { cause: e })),
    );
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.address)) return;
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) {
        log('udp %s ignored reply with wrong id (%d bytes)', fmt(server), msg.length);
        return;
      }
      if (msg.length > o.maxBytes)
        return finish(new DnsError('BEAM_ERR_DNS_BAD_RESPONSE', o.type, [o.name], `${o.type} ${o.name}: UDP reply of ${msg.length} bytes exceeds ${o.maxBytes}`));
      finish(undefined, msg);
    });
    sock.connect(server.port, server.address, () => {
      if (!settled) sock.send(query);
    });
  });
}

export function exchangeTcp(server: Nameserver, id: number, query: Buffer, o: ExchangeOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    o.signal?.throwIfAborted();
    const sock = connect({ host: server.address, port: server.port });
    let settled = false;
    const chunks: Buffer[] = [];
    let have = 0;
    let want = -1;
    const finish = (err: unknown, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSub?.[Symbol.dispose]();
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const fail = (code: 'BEAM_ERR_DNS_NETWORK' | 'BEAM_ERR_DNS_BAD_RESPONSE', what: string, cause?: Error) =>
      finish(new DnsError(code, o.type, [o.name], `${o.type} ${o.name}: TCP ${fmt(server)}: ${what}`, cause ? { cause } : undefined));
    const timer = setTimeout(
      () => finish(new DnsError('BEAM_ERR_DNS_TIMEOUT', o.type, [o.name], `${o.type} ${o.name}: no TCP reply from ${fmt(server)} within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    const abortSub = o.signal ? addAbortListener(o.signal, () => finish(o.signal!.reason)) : undefined;
    sock.on('error', (e) => fail('BEAM_ERR_DNS_NETWORK', e.message, e));
    sock.on('close', () => fail('BEAM_ERR_DNS_NETWORK', `connection closed after ${have} bytes`));
    sock.on('connect', () => {
      const framed = Buffer.allocUnsafe(2 + query.length);
      framed.writeUInt16BE(query.length, 0); // RFC 1035 4.2.2: two-byte length prefix
      query.copy(framed, 2);
      sock.write(framed);
    });
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (want < 0 && have >= 2) {
        want = Buffer.concat(chunks, 2).readUInt16BE(0);
        if (want > o.maxBytes) return fail('BEAM_ERR_DNS_BAD_RESPONSE', `reply length ${want} exceeds ${o.maxBytes}`);
        if (want < 12) return fail('BEAM_ERR_DNS_BAD_RESPONSE', `reply length ${want} is shorter than a DNS header`);
      }
      if (want >= 0 && have >= 2 + want) {
        const reply = Buffer.concat(chunks, have).subarray(2, 2 + want);
        if (reply.readUInt16BE(0) !== id) return fail('BEAM_ERR_DNS_BAD_RESPONSE', 'reply ID does not match the query');
        finish(undefined, reply);
      }
    });
  });
}

const fmt = (s: Nameserver) => (isIP(s.address) === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`);
export const formatNameserver = fmt;

function sameAddress(a: string, b: string): boolean {
  const norm = (x: string) => x.replace(/^::ffff:/, '').replace(/%.*$/, '').toLowerCase();
  return norm(a) === norm(b);
}
