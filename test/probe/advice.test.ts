/** Verdict and advice from crafted findings: each rule fires on its finding and stays quiet otherwise. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advise, judge, adviseAndJudge } from '../../src/probe/advice.js';
import { inferDnsMode } from '../../src/probe/discover.js';
import { attempt, defaultModeNode, host, podNamesNode, report, SVC } from './fixtures.js';

const codes = (r: ReturnType<typeof report>) => advise(r).map((a) => a.code);

test('CoreDNS default with Deployment pods: broken, endpoint_pod_names advice with the Corefile line', () => {
  const r = report({ nodes: [defaultModeNode('myapp-7d9f8b6c5-abcde', '10.99.0.11'), defaultModeNode('myapp-7d9f8b6c5-fghij', '10.99.0.12')] });
  const { verdict, advice } = adviseAndJudge(r);
  assert.equal(verdict, 'broken');
  assert.deepEqual(advice.map((a) => a.code), ['endpoint_pod_names']);
  assert.match(advice[0].text, /endpoint_pod_names\n/);
  assert.match(advice[0].text, /kubernetes cluster\.local in-addr\.arpa ip6\.arpa \{/);
  assert.match(advice[0].text, /10-99-0-11\.myapp-headless/);
  assert.match(advice[0].text, /StatefulSet with serviceName: myapp-headless/);
});

test('endpoint_pod_names: every node accepted under its discovery name → ok, no advice', () => {
  const r = report({ dnsMode: 'endpoint_pod_names', nodes: [podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11'), podNamesNode('myapp-7d9f8b6c5-fghij', '10.99.0.12')] });
  assert.equal(judge(r), 'ok');
  assert.deepEqual(advise(r), []);
});

test('one node of two broken makes the whole verdict broken', () => {
  const r = report({ nodes: [podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11'), defaultModeNode('myapp-7d9f8b6c5-fghij', '10.99.0.12')] });
  assert.equal(judge(r), 'broken');
});

test('no nodes, or an EPMD that did not answer, is broken', () => {
  assert.equal(judge(report({ nodes: [] })), 'broken');
  const n = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  const r = report({ nodes: [n], hosts: [host(n.host, n.dnsName), host('10.99.0.12', 'x', { epmd: 'unreachable', error: 'ECONNREFUSED' })] });
  assert.equal(judge(r), 'broken');
  assert.ok(codes(r).includes('epmd-unreachable'));
  assert.match(advise(r).find((a) => a.code === 'epmd-unreachable')!.text, /10\.99\.0\.12/);
});

test('bad cookie under the right name: broken with cookie advice (hash, never the cookie); without a given cookie it counts as reachable', () => {
  const n = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  n.attempts[3] = { ...n.attempts[3], accepted: false, reason: 'bad-cookie' };
  const r = report({ dnsMode: 'endpoint_pod_names', nodes: [n] });
  assert.equal(judge(r), 'broken');
  const a = advise(r);
  assert.deepEqual(a.map((x) => x.code), ['cookie']);
  assert.match(a[0].text, /1a2b3c4d/);
  assert.match(a[0].text, /RELEASE_COOKIE/);
  const unknown = { ...r, cookie: { hash: 'ffff0000', known: false } };
  assert.equal(judge(unknown), 'ok', 'names match; the cookie was never given');
  assert.match(advise(unknown)[0].text, /no cookie was given/);
});

test('short names: name-mode advice with RELEASE_DISTRIBUTION=name', () => {
  const r = report({
    nodes: [
      {
        name: 'myapp@myapp-7d9f8b6c5-abcde', nameKnown: true, alive: 'myapp', host: '10.99.0.11', dnsName: `10-99-0-11.${SVC}`, port: 1, longNames: false,
        attempts: [
          attempt('ip', 'myapp@10.99.0.11', { reason: 'illegal-host' }),
          attempt('dns', `myapp@10-99-0-11.${SVC}`, { reason: 'illegal-host' }),
          attempt('fqdn', 'myapp@myapp-7d9f8b6c5-abcde', { forms: ['short', 'fqdn'], accepted: true }),
        ],
      },
    ],
  });
  assert.equal(judge(r), 'broken');
  const a = advise(r);
  assert.ok(a.some((x) => x.code === 'name-mode' && /RELEASE_DISTRIBUTION=name/.test(x.text)), JSON.stringify(a));
});

test('discovery gives IPs, nodes are named by FQDN: name-ip-mismatch with both fixes', () => {
  const name = `myapp@myapp-7d9f8b6c5-abcde.${SVC}`;
  const r = report({
    nodes: [
      {
        name, nameKnown: true, alive: 'myapp', host: '10.99.0.11', dnsName: '10.99.0.11', port: 1, longNames: true,
        attempts: [attempt('ip', 'myapp@10.99.0.11', { forms: ['ip', 'dns'], reason: 'mismatch', actual: name }), attempt('fqdn', name, { accepted: true })],
      },
    ],
  });
  r.discovery.targets = [];
  const a = advise(r);
  const m = a.find((x) => x.code === 'name-ip-mismatch');
  assert.ok(m, JSON.stringify(a));
  assert.match(m.text, /POD_IP/);
  assert.match(m.text, /status\.podIP/);
  assert.equal(judge(r), 'broken');
});

test('nodes named by IP, discovery gives DNS names: ip-name-mismatch', () => {
  const r = report({
    nodes: [
      {
        name: 'myapp@10.99.0.11', nameKnown: true, alive: 'myapp', host: '10.99.0.11', dnsName: `10-99-0-11.${SVC}`, port: 1, longNames: true,
        attempts: [attempt('ip', 'myapp@10.99.0.11', { forms: ['ip', 'fqdn'], accepted: true }), attempt('dns', `myapp@10-99-0-11.${SVC}`, { reason: 'mismatch', actual: 'myapp@10.99.0.11' })],
      },
    ],
  });
  assert.ok(codes(r).includes('ip-name-mismatch'));
  assert.ok(!codes(r).includes('endpoint_pod_names'), 'the node is not named by its pod FQDN');
});

test('a pod FQDN under another subdomain: subdomain advice names the service', () => {
  const n = defaultModeNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  n.name = 'myapp@myapp-7d9f8b6c5-abcde.myapp.default.svc.cluster.local';
  const a = advise(report({ nodes: [n] }));
  const s = a.find((x) => x.code === 'subdomain');
  assert.ok(s, JSON.stringify(a));
  assert.match(s.text, /subdomain: myapp-headless/);
});

test('service itself as SRV target: not-headless; SRV NODATA with A records: no-ports; NXDOMAIN everywhere: no-service', () => {
  const n = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  const r = report({ nodes: [n] });
  r.discovery.targets = [{ name: SVC, kind: 'service-itself', port: 4369 }];
  assert.ok(codes(r).includes('not-headless'));
  assert.match(advise(r).find((a) => a.code === 'not-headless')!.text, /clusterIP: None/);

  const r2 = report({ nodes: [] });
  r2.hosts = [];
  r2.discovery.srv = { epmd: 'nxdomain', bare: 'nodata', a: 'ok', aaaa: 'nodata' };
  assert.ok(codes(r2).includes('no-ports'));

  const r3 = report({ nodes: [] });
  r3.hosts = [];
  r3.discovery.srv = { epmd: 'nxdomain', bare: 'nxdomain', a: 'nxdomain', aaaa: 'nxdomain' };
  assert.deepEqual(codes(r3), ['no-service']);
});

test('dist port refused after EPMD answered: dist-port advice with inet_dist_listen_min/max', () => {
  const n = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  n.attempts = n.attempts.map((a) => ({ ...a, accepted: false, reason: 'unreachable', detail: 'cannot connect to x at 10.99.0.11:40000: ECONNREFUSED' }));
  n.nameKnown = false;
  n.firstContact = 'cannot connect to x at 10.99.0.11:40000: ECONNREFUSED';
  const a = advise(report({ nodes: [n] }));
  assert.ok(a.some((x) => x.code === 'dist-port' && /inet_dist_listen_min/.test(x.text)), JSON.stringify(a));
});

test('Kubernetes facts: not-ready endpoints without publishNotReadyAddresses, API errors', () => {
  const r = report({ dnsMode: 'endpoint_pod_names', nodes: [podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11')] });
  r.discovery.kubernetes = {
    namespace: 'default', headless: true, publishNotReadyAddresses: false,
    endpoints: [{ ip: '10.99.0.11', pod: 'myapp-7d9f8b6c5-abcde', ready: true }, { ip: '10.99.0.13', pod: 'myapp-7d9f8b6c5-klmno', ready: false }],
    pods: [], error: 'list pods in default: forbidden',
  };
  const a = advise(r);
  assert.ok(a.some((x) => x.code === 'publish-not-ready' && /publishNotReadyAddresses: true/.test(x.text)));
  assert.ok(a.some((x) => x.code === 'kubernetes-access' && /list pods/.test(x.text)));
  r.discovery.kubernetes.headless = false;
  assert.ok(codes(r).includes('not-headless'));
});

test('mesh pangs make the verdict broken and are listed', () => {
  const r = report({ dnsMode: 'endpoint_pod_names', nodes: [podNamesNode('a-7d9f8b6c5-abcde', '10.99.0.11'), podNamesNode('a-7d9f8b6c5-fghij', '10.99.0.12')] });
  r.mesh = { matrix: [{ from: 'x', to: 'y', result: 'pong' }, { from: 'y', to: 'x', result: 'pang' }], skipped: [] };
  assert.equal(judge(r), 'broken');
  assert.match(advise(r).find((a) => a.code === 'mesh')!.text, /y → x: pang/);
  r.mesh.matrix[1].result = 'pong';
  assert.equal(judge(r), 'ok');
});

test('dnsMode from SRV target shapes (and the Corefile when known)', () => {
  assert.equal(inferDnsMode([{ name: `10-99-0-11.${SVC}` }]), 'default');
  assert.equal(inferDnsMode([{ name: `fd00-10-99--11.${SVC}` }]), 'default');
  assert.equal(inferDnsMode([{ name: `myapp-7d9f8b6c5-abcde.${SVC}` }, { name: `10-99-0-12.${SVC}` }]), 'endpoint_pod_names', 'a long pod name falls back to the dashed IP');
  assert.equal(inferDnsMode([{ name: `myapp-0.${SVC}` }]), 'unknown', 'StatefulSet hostnames look the same in both modes');
  assert.equal(inferDnsMode([]), 'unknown');
  assert.equal(inferDnsMode([{ name: `10-99-0-11.${SVC}` }], true), 'endpoint_pod_names');
});

test('a host whose EPMD lists no application node makes the verdict broken, with no-nodes advice naming it', () => {
  const n = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  const r = report({ dnsMode: 'endpoint_pod_names', nodes: [n], hosts: [host(n.host, n.dnsName), host('10.99.0.12', `myapp-7d9f8b6c5-fghij.${SVC}`, { skipped: ['rpc-1a2b-myapp'] })] });
  assert.equal(judge(r), 'broken');
  const a = advise(r).find((x) => x.code === 'no-nodes');
  assert.ok(a);
  assert.match(a.text, /10\.99\.0\.12/);
  assert.doesNotMatch(a.text, /10\.99\.0\.11/);
});

test('two hosts with one node name: duplicate-name advice (fixed hostname in a Deployment)', () => {
  const a = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  const b = { ...podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.12') };
  const adv = advise(report({ dnsMode: 'endpoint_pod_names', nodes: [a, b] }));
  const d = adv.find((x) => x.code === 'duplicate-name');
  assert.ok(d, JSON.stringify(adv));
  assert.match(d.text, /10\.99\.0\.11, 10\.99\.0\.12/);
  assert.ok(!advise(report({ nodes: [a] })).some((x) => x.code === 'duplicate-name'));
});

test('no DNS answer at all: dns-unreachable, not no-service', () => {
  const r = report({ nodes: [] });
  r.hosts = [];
  r.discovery.srv = { epmd: 'timeout', bare: 'timeout', a: 'timeout', aaaa: 'timeout' };
  assert.deepEqual(advise(r).map((a) => a.code), ['dns-unreachable']);
  assert.match(advise(r)[0].text, /--nameserver/);
});
