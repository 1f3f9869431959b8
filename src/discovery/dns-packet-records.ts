/**
 * DnsRecord <-> dns-packet's answer shapes. Internal: dns-client.ts reads answers with it and the
 * emulated cluster DNS writes them. Not exported from the package, so that the published types
 * never name dns-packet (whose types live in a separate @types package).
 */
import type { Answer } from 'dns-packet';
import { lowerName as lower, type DnsRecord } from './dns-records.js';

export function fromPacketAnswer(a: Answer): DnsRecord {
  const name = lower(a.name);
  const ttl = 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0;
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return { type: a.type, name, ttl, address: a.data };
    case 'PTR':
    case 'CNAME':
      return { type: a.type, name, ttl, target: lower(a.data) };
    case 'SRV':
      return {
        type: 'SRV',
        name,
        ttl,
        priority: a.data.priority ?? 0,
        weight: a.data.weight ?? 0,
        port: a.data.port,
        target: lower(a.data.target),
      };
    case 'SOA':
      return {
        type: 'SOA',
        name,
        ttl,
        mname: lower(a.data.mname),
        rname: lower(a.data.rname),
        serial: a.data.serial ?? 0,
        minimum: a.data.minimum ?? 0,
      };
    default:
      return { type: 'OTHER', name, ttl, rrtype: a.type };
  }
}

export function toPacketAnswer(r: DnsRecord): Answer {
  const base = { name: r.name, ttl: r.ttl, class: 'IN' as const };
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return { ...base, type: r.type, data: r.address };
    case 'PTR':
    case 'CNAME':
      return { ...base, type: r.type, data: r.target };
    case 'SRV':
      return { ...base, type: 'SRV', data: { priority: r.priority, weight: r.weight, port: r.port, target: r.target } };
    case 'SOA':
      return {
        ...base,
        type: 'SOA',
        data: { mname: r.mname, rname: r.rname, serial: r.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: r.minimum },
      };
    case 'OTHER':
      throw new TypeError(`cannot encode record type ${r.rrtype}`);
  }
}
