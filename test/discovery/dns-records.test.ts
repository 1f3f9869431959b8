import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalIp, compressIpv6, expandIpv6, ipFromReverseName, reverseName } from '../../src/discovery/dns-records.js';
import { dashedIp, dashedIpv4, dashedIpv6 } from '../../src/discovery/classify.js';

// WHATWG URL serialises IPv6 hosts in RFC 5952 form: an independent oracle for compressIpv6.
const urlCanonical = (ip: string) => new URL(`http://[${ip}]/`).hostname.slice(1, -1);

test('reverse names: fixed examples', () => {
  assert.equal(reverseName('10.99.0.12'), '12.0.99.10.in-addr.arpa');
  assert.equal(reverseName('fd00:10:99::11'), '1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.9.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa');
  assert.equal(reverseName('not-an-ip'), undefined);
  assert.equal(ipFromReverseName('12.0.99.10.in-addr.arpa.'), '10.99.0.12');
  assert.equal(ipFromReverseName('0.99.10.in-addr.arpa'), undefined, 'a partial reverse name');
  assert.equal(ipFromReverseName('300.0.99.10.in-addr.arpa'), undefined);
  assert.equal(expandIpv6('::ffff:10.1.2.3'), '0000:0000:0000:0000:0000:ffff:0a01:0203');
});

test('IPv6 canonical form agrees with WHATWG URL; reverse names round-trip', () => {
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      assert.equal(compressIpv6(ip), urlCanonical(ip));
      assert.equal(ipFromReverseName(reverseName(ip)!), canonicalIp(ip));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      assert.equal(ipFromReverseName(reverseName(ip)!), ip);
      assert.equal(dashedIpv4(dashedIp(ip)), ip);
    }),
  );
});

test('CoreDNS dashed IPv6 labels parse back to the address (when the label is a valid DNS label)', () => {
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      const label = dashedIp(canonicalIp(ip));
      fc.pre(!label.startsWith('-') && !label.includes('.')); // `::1` → `--1`, IPv4-mapped forms: no label
      assert.equal(dashedIpv6(label), canonicalIp(ip));
    }),
    { numRuns: 2000 },
  );
});
