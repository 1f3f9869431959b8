import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistError } from '../../src/dist/errors.js';
import {
  checkDialName,
  checkHost,
  checkOwnName,
  compareNodeNames,
  isAllowed,
  isNameOk,
  isValidAlive,
  nameSyntaxProblem,
  parseNodeName,
} from '../../src/dist/protocol/names.js';

test('parseNodeName splits alive@host and refuses what is not one @ with both parts', () => {
  assert.deepEqual(parseNodeName('n1@127.0.0.1'), { alive: 'n1', host: '127.0.0.1', full: 'n1@127.0.0.1' });
  for (const bad of ['js', 'js@a@b', 'js@', '@host', '']) {
    assert.throws(() => parseNodeName(bad), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_DIST_BAD_NAME', bad);
  }
  assert.equal(nameSyntaxProblem('js'), "no '@' character");
  assert.equal(nameSyntaxProblem('a@b@c'), "more than one '@' character");
});

test('acceptor name check is syntax only (js, js@a@b, js@, @host closed; js@localhost accepted)', () => {
  for (const bad of ['js', 'js@a@b', 'js@', '@host']) assert.equal(isNameOk(bad), false, bad);
  assert.equal(isNameOk('js@localhost'), true);
  assert.equal(isNameOk('js@vm'), true);
  // NAME_ME: host only
  assert.equal(isNameOk('127.0.0.1', true), true);
  assert.equal(isNameOk('a@127.0.0.1', true), false);
});

test('dialing from a long-names node: a host needs a dot (n1@localhost, n1@vm illegal)', () => {
  assert.equal(checkHost('127.0.0.1', true).ok, true);
  assert.equal(checkHost('vm.example.com', true).ok, true);
  const l = checkHost('localhost', true);
  assert.equal(l.ok, false);
  assert.equal(l.problem, 'illegal-host-long');
  assert.match(l.message!, /System running to use fully qualified hostnames; Hostname localhost is illegal/);
  assert.equal(checkHost('vm', true).ok, false);
  // IPv6 literals pass only with inet6_tcp (inet_tcp:parse_address("::1") is {error,einval})
  assert.equal(checkHost('::1', true).ok, false);
  assert.equal(checkHost('::1', true, true).ok, true);
});

test('dialing from a short-names node: a host with a dot is illegal (-sname c6 → n1@127.0.0.1)', () => {
  const s = checkHost('127.0.0.1', false);
  assert.equal(s.ok, false);
  assert.equal(s.problem, 'illegal-host-short');
  assert.match(s.message!, /System NOT running to use fully qualified hostnames; Hostname 127.0.0.1 is illegal/);
  assert.equal(checkHost('vm', false).ok, true);
  assert.equal(checkHost('localhost', false).ok, true);
});

test('checkDialName throws BEAM_ERR_DIST_ILLEGAL_HOST with erl\'s explanation', () => {
  assert.deepEqual(checkDialName('n1@127.0.0.1', true).host, '127.0.0.1');
  assert.throws(() => checkDialName('n1@localhost', true), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_DIST_ILLEGAL_HOST' && /Hostname localhost is illegal/.test(e.message));
  assert.throws(() => checkDialName('n1@a.b', false), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_DIST_ILLEGAL_HOST');
});

test('our own name: alive part [0-9A-Za-z_-]+, short-names host without a dot', () => {
  assert.equal(isValidAlive('js_1-x'), true);
  assert.equal(isValidAlive('js.1'), false);
  assert.equal(isValidAlive(''), false);
  assert.doesNotThrow(() => checkOwnName('n3@localhost', true)); // accepted by erl -name too
  assert.throws(() => checkOwnName('n4@a.b', false), /Can't set short node name/);
  assert.throws(() => checkOwnName('bad.name@host', false), DistError);
});

test('allow lists as net_kernel:allow/1', () => {
  const allow = ['foo@127.0.0.1', 'alloweddomain.example'];
  assert.equal(isAllowed('foo@127.0.0.1', allow), true);
  assert.equal(isAllowed('bar@alloweddomain.example', allow), true);
  assert.equal(isAllowed('notallowed@127.0.0.1', allow), false);
  assert.equal(isAllowed('foo@other', ['foo@']), true);
  assert.equal(isAllowed('bar@other', ['foo@']), false);
  assert.equal(isAllowed('x@y', []), false);
});

test('node names compare as Erlang atoms do', () => {
  assert.ok(compareNodeNames('b@h', 'a@h') > 0);
  assert.ok(compareNodeNames('a@h', 'a@i') < 0);
  assert.ok(compareNodeNames('a@h', 'a@h') === 0);
  assert.ok(compareNodeNames('ab@h', 'a@h') > 0); // 'b' (0x62) > '@' (0x40)
});
