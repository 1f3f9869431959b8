/**
 * DNS records as plain tagged objects (names without the trailing dot, as `inet_res` gives them),
 * and the reverse-name helpers for PTR (dns-packet-records.ts converts them from and to the wire
 * library's shapes; it is kept apart so that the public types never name dns-packet).
 */
import { isIP } from 'node:net';

export type DnsRecord =
  | { type: 'A'; name: string; ttl: number; address: string }
  | { type: 'AAAA'; name: string; ttl: number; address: string }
  | { type: 'SRV'; name: string; ttl: number; priority: number; weight: number; port: number; target: string }
  | { type: 'PTR'; name: string; ttl: number; target: string }
  | { type: 'CNAME'; name: string; ttl: number; target: string }
  | { type: 'SOA'; name: string; ttl: number; mname: string; rname: string; serial: number; minimum: number }
  | { type: 'OTHER'; name: string; ttl: number; rrtype: string };

export type SrvRecord = Extract<DnsRecord, { type: 'SRV' }>;
export type AddressRecord = Extract<DnsRecord, { type: 'A' | 'AAAA' }>;

/** The record types the client asks for. */
export type QueryType = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME' | 'SOA';

/** A DNS name as inet_res gives it: lower case, no trailing dot. */
export const lowerName = (n: string) => (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase();


/** `10.1.2.3` → `3.2.1.10.in-addr.arpa`; `fd00::1` → nibbles `.ip6.arpa`. Undefined for a non-IP. */
export function reverseName(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (family === 6) return `${expandIpv6(ip).replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
  return undefined;
}

/** The IP a reverse name stands for, or undefined when it is not a complete reverse name. */
export function ipFromReverseName(name: string): string | undefined {
  const n = lowerName(name);
  let m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(n);
  if (m) {
    const ip = [m[4], m[3], m[2], m[1]].map(Number).join('.');
    return isIP(ip) === 4 ? ip : undefined;
  }
  m = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(n);
  if (m) {
    const hex = m[1].split('.').filter(Boolean).reverse().join('');
    return compressIpv6(hex.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

/** `fd00::1` → `fd00:0000:…:0001` (eight 4-digit groups). Assumes a valid IPv6 literal. */
export function expandIpv6(ip: string): string {
  let s = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const p = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

/** The canonical (RFC 5952) text of an IPv6 address given as eight groups. */
export function compressIpv6(ip: string): string {
  const groups = expandIpv6(ip).split(':').map((g) => g.replace(/^0+(?=.)/, ''));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Canonical text of any IP (IPv6 compressed, lowercase); the input when it is not an IP. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? compressIpv6(ip) : ip;
}
