import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterDomainFromSearch, parseNameserver, parseResolvConf, searchNames } from '../../src/discovery/resolv-conf.js';

const POD = `# kubelet-written resolv.conf of a pod in namespace default
search default.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.96.0.10
options ndots:5
`;

test('a pod resolv.conf: nameserver, search list, ndots', () => {
  const c = parseResolvConf(POD);
  assert.deepEqual(c.nameservers, [{ address: '10.96.0.10', port: 53 }]);
  assert.deepEqual(c.search, ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
  assert.equal(c.ndots, 5);
  assert.equal(c.timeout, 5);
  assert.equal(c.attempts, 2);
});

test('defaults, comments, IPv6 nameservers, junk lines, last of domain/search wins', () => {
  const c = parseResolvConf(
    'nameserver 127.0.0.53 ; systemd\nnameserver fd00::53\nnameserver not-an-ip\ndomain example.org\n' +
      'search a.example b.example.\nbogus line\noptions timeout:1 attempts:3 ndots:99 rotate use-vc\n',
  );
  assert.deepEqual(c.nameservers.map((n) => n.address), ['127.0.0.53', 'fd00::53']);
  assert.deepEqual(c.search, ['a.example', 'b.example']);
  assert.equal(c.ndots, 15, 'glibc caps ndots at 15');
  assert.equal(c.timeout, 1);
  assert.equal(c.attempts, 3);
  assert.equal(c.useVc, true);
  const d = parseResolvConf('search x.example\ndomain only.example\n');
  assert.deepEqual(d.search, ['only.example']);
  assert.deepEqual(parseResolvConf('').nameservers, []);
  assert.equal(parseResolvConf('').ndots, 1);
});

test('search-list expansion follows glibc: ndots decides whether the name goes first', () => {
  const c = parseResolvConf(POD);
  assert.deepEqual(searchNames('myapp-headless', c), [
    'myapp-headless.default.svc.cluster.local',
    'myapp-headless.svc.cluster.local',
    'myapp-headless.cluster.local',
    'myapp-headless',
  ]);
  // 5 dots ≥ ndots 5: as-is first
  assert.deepEqual(searchNames('a.b.c.d.e.f', c)[0], 'a.b.c.d.e.f');
  // 4 dots < ndots 5: the search list first (the famous ndots:5 extra queries)
  assert.equal(searchNames('myapp-headless.default.svc.cluster.local', c)[0], 'myapp-headless.default.svc.cluster.local.default.svc.cluster.local');
  // absolute names: only themselves
  assert.deepEqual(searchNames('myapp-headless.default.svc.cluster.local.', c), ['myapp-headless.default.svc.cluster.local']);
  assert.deepEqual(searchNames('Host.Example', { search: [], ndots: 1 }), ['host.example']);
});

test('cluster domain from the search list', () => {
  assert.equal(clusterDomainFromSearch(parseResolvConf(POD).search), 'cluster.local');
  assert.equal(clusterDomainFromSearch(['prod.svc.k8s.example.com', 'svc.k8s.example.com']), 'k8s.example.com');
  assert.equal(clusterDomainFromSearch(['example.org']), undefined);
});

test('nameserver specs: IP, IP:PORT, [IPv6]:PORT, bare IPv6; bad ones undefined', () => {
  assert.deepEqual(parseNameserver('127.0.0.1'), { address: '127.0.0.1', port: 53 });
  assert.deepEqual(parseNameserver('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseNameserver('[::1]:5353'), { address: '::1', port: 5353 });
  assert.deepEqual(parseNameserver('fd00::53'), { address: 'fd00::53', port: 53 });
  for (const bad of ['dns.example', '127.0.0.1:0', '127.0.0.1:70000', '[::1', '300.1.1.1', ''])
    assert.equal(parseNameserver(bad), undefined, bad);
});
