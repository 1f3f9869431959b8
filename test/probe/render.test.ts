/** The table and JSON renderers on crafted reports: content, colour rules, JSON shape. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviseAndJudge } from '../../src/probe/advice.js';
import { renderJson, renderTable, wantColor } from '../../src/probe/render.js';
import { defaultModeNode, podNamesNode, report } from './fixtures.js';

const ANSI = /\x1b\[/;

function judged(r: ReturnType<typeof report>) {
  Object.assign(r, adviseAndJudge(r));
  return r;
}

test('table: verdict, DNS mode, every attempt with its reason and the true name, advice', () => {
  const r = judged(report({ nodes: [defaultModeNode('myapp-7d9f8b6c5-abcde', '10.99.0.11')] }));
  const t = renderTable(r, { color: false });
  assert.doesNotMatch(t, ANSI);
  assert.match(t, /verdict: BROKEN/);
  assert.match(t, /DNS mode +CoreDNS default/);
  assert.match(t, /cookie +sha256 1a2b3c4d/);
  assert.match(t, /\n {2}ip +myapp@10\.99\.0\.11 +name mismatch: node calls itself myapp@myapp-7d9f8b6c5-abcde\.myapp-headless/);
  assert.match(t, /\n {2}localhost +myapp@localhost +illegal host: a -name node refuses hosts without a dot \("Hostname localhost is illegal"\)/);
  assert.match(t, /\n {2}dns +myapp@10-99-0-11\.myapp-headless\.default\.svc\.cluster\.local +name mismatch/);
  assert.match(t, /\n {2}fqdn +myapp@myapp-7d9f8b6c5-abcde\.myapp-headless\.default\.svc\.cluster\.local +unresolvable: .*NXDOMAIN/);
  assert.match(t, /\nadvice\n {2}\[endpoint_pod_names\]/);
  assert.match(t, /\n {6}kubernetes cluster\.local[^\n]*\n {8,}pods insecure\n {8,}endpoint_pod_names\n/, 'the Corefile lines keep their indentation');
});

test('table: merged forms are shown together; accepted in the ok case', () => {
  const r = judged(report({ dnsMode: 'endpoint_pod_names', nodes: [podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11')] }));
  const t = renderTable(r, { color: false });
  assert.match(t, /verdict: OK/);
  assert.match(t, /\n {2}dns=fqdn +myapp@myapp-7d9f8b6c5-abcde\.myapp-headless\.default\.svc\.cluster\.local +accepted\n/);
  assert.doesNotMatch(t, /\nadvice/);
});

test('table: colour only when asked; wantColor follows the TTY and NO_COLOR', () => {
  const r = judged(report({ nodes: [defaultModeNode('myapp-7d9f8b6c5-abcde', '10.99.0.11')] }));
  assert.match(renderTable(r, { color: true }), /\x1b\[31mname mismatch/);
  assert.equal(wantColor({ isTTY: true }, {}), true);
  assert.equal(wantColor({ isTTY: false }, {}), false);
  assert.equal(wantColor({}, {}), false);
  assert.equal(wantColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(wantColor({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
});

test('table: EPMD failures, unknown true names and no nodes are shown', () => {
  const n = podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11');
  n.nameKnown = false;
  n.firstContact = 'cannot connect: ECONNREFUSED';
  const r = judged(report({ nodes: [n] }));
  r.hosts.push({ ip: '10.99.0.12', dnsName: '10-99-0-12.x', sources: ['srv'], kind: 'dashed-ipv4', epmd: 'unreachable', error: 'ECONNREFUSED', skipped: [] });
  const t = renderTable(r, { color: false });
  assert.match(t, /\(true name unknown\)/);
  assert.match(t, /first contact: cannot connect: ECONNREFUSED/);
  assert.match(t, /10\.99\.0\.12 \(10-99-0-12\.x\): EPMD unreachable ECONNREFUSED/);
  assert.match(renderTable(judged(report({ nodes: [] })), { color: false }), /no nodes found/);
});

test('JSON: { verdict, dnsMode, nodes: [{ name, host, attempts: [{ form, dialed, accepted, reason }] }], advice: [{ code, text }] }', () => {
  const r = judged(report({ nodes: [defaultModeNode('myapp-7d9f8b6c5-abcde', '10.99.0.11')] }));
  const j = JSON.parse(renderJson(r));
  assert.equal(j.verdict, 'broken');
  assert.equal(j.dnsMode, 'default');
  assert.deepEqual(Object.keys(j).slice(0, 4), ['verdict', 'dnsMode', 'service', 'nodes']);
  assert.equal(j.nodes[0].name, 'myapp@myapp-7d9f8b6c5-abcde.myapp-headless.default.svc.cluster.local');
  assert.equal(j.nodes[0].host, '10.99.0.11');
  assert.deepEqual(
    j.nodes[0].attempts.map((a: { form: string; accepted: boolean; reason: string | null }) => [a.form, a.accepted, a.reason]),
    [['ip', false, 'mismatch'], ['localhost', false, 'illegal-host'], ['short', false, 'illegal-host'], ['dns', false, 'mismatch'], ['fqdn', false, 'unresolvable']],
  );
  assert.equal(j.nodes[0].attempts[0].actual, j.nodes[0].name);
  assert.deepEqual(j.advice.map((a: { code: string }) => a.code), ['endpoint_pod_names']);
  assert.equal(typeof j.advice[0].text, 'string');
  assert.deepEqual(j.cookie, { hash: '1a2b3c4d', known: true });
  const ok = JSON.parse(renderJson(judged(report({ dnsMode: 'endpoint_pod_names', nodes: [podNamesNode('myapp-7d9f8b6c5-abcde', '10.99.0.11')] }))));
  assert.equal(ok.nodes[0].attempts.at(-1).reason, null, 'accepted attempts carry reason null');
  assert.deepEqual(ok.nodes[0].attempts.at(-1).forms, ['dns', 'fqdn']);
});
