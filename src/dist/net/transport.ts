/**
 * How distribution bytes travel: plain TCP (inet_tcp_dist) or TLS (inet_tls_dist). The
 * handshake messages and the frames are the same either way, inside the TLS stream. EPMD stays plain TCP, as OTP's does.
 *
 * One difference on the wire: inet_tls_dist (OTP 25: ssl:connect/handshake with {packet,4}) frames
 * the handshake messages with 4-byte lengths too, not 2-byte ones as inet_tcp_dist does.
 *
 * TLS follows what `-proto_dist inet_tls` with an `-ssl_dist_optfile` of `verify_peer` does: both
 * sides present a certificate and both verify the other's against `ca`. As the dialer we check
 * the acceptor's certificate against the host we dialed (node:tls's `checkServerIdentity`: DNS or
 * IP subjectAltName). As the acceptor we ask for the dialer's certificate and, unless
 * `rejectUnauthorized: false`, refuse a dialer without a valid one (fail_if_no_peer_cert).
 */
import { createServer as createTcpServer, connect as tcpConnect, isIP, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type ConnectionOptions, type SecureContextOptions, type TLSSocket } from 'node:tls';
import createDebug from 'debug';
import { TimeoutError } from '../../errors.js';
import { DistError } from '../errors.js';

const log = createDebug('beamnode:dist:transport');

/** TLS for the distribution: the node's certificate and key, and the CA its peers' certificates come from. */
export interface DistTlsOptions extends SecureContextOptions {
  /** Our certificate chain (PEM), shown to peers both when we dial and when we accept. */
  cert: string | Buffer | (string | Buffer)[];
  /** Our private key (PEM). */
  key: string | Buffer | (string | Buffer)[];
  /** The CA(s) that signed the peers' certificates (PEM). Default: Node's built-in roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * Verify the peer's certificate (both directions) and, as acceptor, require one. Default true
   * (erl: `{verify, verify_peer}` and `{fail_if_no_peer_cert, true}`). false only for tests.
   */
  rejectUnauthorized?: boolean;
  /** As dialer: the name checked against the acceptor's certificate (default: the host we dial). */
  servername?: (host: string) => string;
  /** As dialer: a custom identity check (node:tls's checkServerIdentity). */
  checkServerIdentity?: ConnectionOptions['checkServerIdentity'];
}

export interface Transport {
  /** 'tcp' or 'tls'. */
  readonly kind: 'tcp' | 'tls';
  /** Length prefix of handshake messages: 2 over TCP ({packet,2}), 4 over TLS (inet_tls_dist uses {packet,4} throughout). */
  readonly handshakeHeaderBytes: 2 | 4;
  /** A server that hands `onSocket` each connection ready for the handshake (TLS: after its handshake). */
  createServer(onSocket: (s: Socket) => void, onRefused: (e: Error, from: string) => void): Server;
  /** Connects within `ms` (TLS: the TLS handshake included), abortable. */
  connect(host: string, port: number, ms: number, signal: AbortSignal, peer: string): Promise<Socket>;
}

export const tcpTransport: Transport = {
  kind: 'tcp',
  handshakeHeaderBytes: 2,
  createServer: (onSocket) => createTcpServer({ noDelay: true }, onSocket),
  connect: (host, port, ms, signal, peer) =>
    connectWith(() => tcpConnect({ host, port, noDelay: true }), 'connect', host, port, ms, signal, peer),
};

/** TLS for both directions; `setupTime` bounds the TLS handshake of inbound connections. */
export function tlsTransport(o: DistTlsOptions, setupTime: number): Transport {
  const { servername, checkServerIdentity, rejectUnauthorized = true, ...context } = o;
  return {
    kind: 'tls',
    handshakeHeaderBytes: 4,
    createServer(onSocket, onRefused) {
      const server = createTlsServer({ ...context, requestCert: true, rejectUnauthorized, handshakeTimeout: setupTime }, (s: TLSSocket) => {
        s.setNoDelay(true);
        onSocket(s);
      });
      // A dialer whose certificate we refuse (or that is no TLS client at all): erl's acceptor
      // logs and closes likewise. The node keeps serving others.
      server.on('tlsClientError', (e: Error & { code?: string }, s: TLSSocket) => {
        const from = `${s.remoteAddress}:${s.remotePort}`;
        log('TLS from %s refused: %s', from, e.code ?? e.message);
        onRefused(new DistError('BEAM_ERR_DIST_TLS', `TLS handshake from ${from} failed: ${e.code ?? e.message}`, { cause: e }), from);
      });
      return server;
    },
    connect: (host, port, ms, signal, peer) =>
      connectWith(
        () =>
          tlsConnect({
            ...context,
            host,
            port,
            rejectUnauthorized,
            ...(checkServerIdentity ? { checkServerIdentity } : {}),
            // SNI takes host names only; the certificate is still checked against an IP host.
            servername: servername ? servername(host) : isIP(host) ? undefined : host,
          }),
        'secureConnect',
        host,
        port,
        ms,
        signal,
        peer,
      ),
  };
}

/** Waits for `ready` on a new socket within `ms` (else TimeoutError, phase connect); errors become DistError CONNECT (TCP) or TLS. */
function connectWith(make: () => Socket, ready: 'connect' | 'secureConnect', host: string, port: number, ms: number, signal: AbortSignal, peer: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let s: Socket;
    try {
      s = make();
    } catch (e) {
      // node:tls throws synchronously on bad options (an unreadable key, a malformed PEM…).
      reject(new DistError('BEAM_ERR_DIST_TLS', `cannot set up TLS to ${peer}: ${(e as Error).message}`, { cause: e, peer }));
      return;
    }
    const tls = ready === 'secureConnect';
    const done = (e?: Error) => {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      s.off(ready, onReady);
      s.off('error', onError);
      if (e) {
        s.on('error', () => {}); // a late error of a socket we gave up on must not crash us
        s.destroy();
        reject(e);
      } else resolve(s);
    };
    const onReady = () => done();
    const onError = (e: NodeJS.ErrnoException) => {
      const tlsFailure = tls && e.code !== undefined && !['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'].includes(e.code);
      done(
        tlsFailure
          ? new DistError('BEAM_ERR_DIST_TLS', `TLS with ${peer} at ${host}:${port} failed: ${e.code} (${e.message.trim().split('\n')[0]})`, { cause: e, peer })
          : new DistError('BEAM_ERR_DIST_CONNECT', `cannot connect to ${peer} at ${host}:${port}: ${e.code ?? e.message}`, { cause: e, peer }),
      );
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new DistError('BEAM_ERR_DIST_ABORTED', 'aborted', { peer }));
    const t = setTimeout(
      () => done(new TimeoutError('connect', `${tls ? 'TLS ' : ''}connect to ${peer} at ${host}:${port}`, ms, { peer })),
      ms,
    );
    s.once(ready, onReady);
    s.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
