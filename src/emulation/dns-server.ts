/**
 * An in-process authoritative DNS server that answers like CoreDNS's `kubernetes` plugin for a
 * model you give it (cluster-dns.ts has the rules), over UDP and TCP on one port. For the demo and
 * for tests: the model can be swapped at any time (`setModel`), like endpoints changing under
 * CoreDNS. UDP replies larger than 512 bytes (or the query's EDNS size) are truncated with TC set,
 * so clients must retry over TCP, as with a real server.
 */
import dnsPacket from 'dns-packet';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import createDebug from 'debug';
import { answerQuestion, checkModel, type ClusterDnsModel } from './cluster-dns.js';
import { toPacketAnswer } from '../discovery/dns-packet-records.js';

const log = createDebug('beamnode:discovery:dns-server');

export interface ClusterDnsOptions extends ClusterDnsModel {
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0 (a free port; the same port for UDP and TCP). */
  port?: number;
}

export interface QueryLogEntry {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
  rcode: string;
  truncated: boolean;
}

export interface ClusterDns {
  address: string;
  port: number;
  /** `address:port` (or `[address]:port`), ready for DnsClient's `nameserver`. */
  nameserver: string;
  /** Replaces the model; later queries see it. Throws TypeError on a bad model. */
  setModel(model: ClusterDnsModel): void;
  /** The last queries answered (at most 1000), oldest first. */
  readonly queries: readonly QueryLogEntry[];
  close(): Promise<void>;
}

const CLASSIC_UDP_LIMIT = 512;
const MAX_QUERY_LOG = 1000;
const TCP_IDLE_MS = 10_000;
const RCODE_NUM: Record<string, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const { address = '127.0.0.1', port = 0, ...initial } = opts;
  checkModel(initial);
  let model: ClusterDnsModel = initial;
  const queries: QueryLogEntry[] = [];
  const family = isIP(address) === 6 ? 'udp6' : 'udp4';

  const respond = (query: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
    let q: ReturnType<typeof dnsPacket.decode>;
    try {
      q = dnsPacket.decode(query);
    } catch {
      // FORMERR needs the ID; a packet shorter than a header gets no reply at all.
      return query.length >= 12 ? header(query.readUInt16BE(0), RCODE_NUM.FORMERR) : undefined;
    }
    if (q.flag_qr) return undefined;
    const id = q.id ?? 0;
    const question = q.questions?.[0];
    const opcode = (query[2] >> 3) & 0x0f;
    if (!question || opcode !== 0 || (q.questions?.length ?? 0) !== 1) return header(id, opcode !== 0 ? RCODE_NUM.NOTIMP : RCODE_NUM.FORMERR);
    const a = answerQuestion(model, question.name, question.type);
    const rd = q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | rd | RCODE_NUM[a.rcode];
    const full = dnsPacket.encode({
      type: 'response',
      id,
      flags,
      questions: [question],
      answers: a.answers.map(toPacketAnswer),
      authorities: a.authorities.map(toPacketAnswer),
      additionals: a.additionals.map(toPacketAnswer),
    });
    const opt = q.additionals?.find((r) => r.type === 'OPT');
    const udpLimit = opt && 'udpPayloadSize' in opt && opt.udpPayloadSize ? Math.max(CLASSIC_UDP_LIMIT, opt.udpPayloadSize) : CLASSIC_UDP_LIMIT;
    const truncated = transport === 'udp' && full.length > udpLimit;
    const reply = truncated
      ? dnsPacket.encode({ type: 'response', id, flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: [question] })
      : full;
    if (queries.length >= MAX_QUERY_LOG) queries.shift();
    queries.push({ name: question.name.toLowerCase(), type: question.type, transport, rcode: a.rcode, truncated });
    log('%s %s %s → %s answers=%d%s', transport, question.type, question.name, a.rcode, a.answers.length, truncated ? ' (TC)' : '');
    return reply;
  };

  // UDP and TCP share one port. With port 0 the UDP port the kernel picks may be taken for TCP:
  // then try again with a new UDP port (bounded).
  let udp: UdpSocket | undefined;
  let tcp: Server | undefined;
  let boundPort = 0;
  const sockets = new Set<Socket>();
  for (let attempt = 0; attempt < 5 && !tcp; attempt++) {
    const u = createSocket(family);
    u.on('message', (msg, rinfo) => {
      const reply = respond(msg, 'udp');
      if (reply) u.send(reply, rinfo.port, rinfo.address);
    });
    u.on('error', (e) => log('udp error %s', e.message));
    u.bind(port, address);
    await once(u, 'listening');
    const p = u.address().port;
    const t = createServer((sock) => serveTcp(sock, respond, sockets));
    t.listen(p, address);
    try {
      await once(t, 'listening');
      udp = u;
      tcp = t;
      boundPort = p;
    } catch (e) {
      u.close();
      if (port !== 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 4) throw e;
    }
  }
  if (!udp || !tcp) throw new Error('cluster DNS: could not bind UDP and TCP on one port');
  const [udpSock, tcpServer] = [udp, tcp];

  return {
    address,
    port: boundPort,
    nameserver: isIP(address) === 6 ? `[${address}]:${boundPort}` : `${address}:${boundPort}`,
    setModel(m) {
      checkModel(m);
      model = m;
    },
    get queries() {
      return queries;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => tcpServer.close(() => r())), new Promise<void>((r) => udpSock.close(() => r()))]);
    },
  };
}

/** DNS over TCP: two-byte length, then the message; several messages per connection. */
function serveTcp(sock: Socket, respond: (q: Buffer, t: 'tcp') => Buffer | undefined, sockets: Set<Socket>): void {
  sockets.add(sock);
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    // A length is at most 65535, so the buffer never holds more than one message plus a chunk.
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const n = buf.readUInt16BE(0);
      const reply = respond(buf.subarray(2, 2 + n), 'tcp');
      buf = buf.subarray(2 + n);
      if (reply) {
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(reply.length, 0);
        sock.write(Buffer.concat([len, reply]));
      }
    }
  });
  sock.on('error', () => sock.destroy());
  sock.on('close', () => sockets.delete(sock));
}

function header(id: number, rcode: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | rcode, 2); // QR set, no records
  return b;
}
