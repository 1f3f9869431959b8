import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../src/etf/index.js';
import { atom, Pid, Reference, Tuple, tuple, type Term } from '../../src/etf/types.js';
import {
  adaptToFlags,
  controlToTuple,
  exit2Signal,
  hasMessage,
  linkExit,
  monitorExit,
  monitorsSupported,
  OP,
  sendToPid,
  tupleToControl,
  type Control,
} from '../../src/dist/protocol/control.js';
import { ProtocolError } from '../../src/dist/errors.js';
import { DEFAULT_FLAGS, DFLAG } from '../../src/dist/protocol/flags.js';

const a = new Pid(atom('a@127.0.0.1'), 87, 0, 0x6b048e52);
const b = new Pid(atom('js@127.0.0.1'), 1, 2, 7);
const ref = new Reference(atom('a@127.0.0.1'), 0x6b048e52, [1, 2, 3]);
const tok = tuple(0, atom('label'), 0, atom('undefined'), 1);
const mfa = { module: atom('erpc'), function: atom('execute_call'), arity: 4 };

const ALL: Control[] = [
  { op: 'link', from: a, to: b },
  { op: 'send', to: b },
  { op: 'exit', from: a, to: b, reason: atom('normal') },
  { op: 'unlink', from: a, to: b },
  { op: 'reg_send', from: a, toName: atom('rex') },
  { op: 'group_leader', from: a, to: b },
  { op: 'exit2', from: a, to: b, reason: tuple(atom('shutdown'), 1) },
  { op: 'send_tt', to: b, token: tok },
  { op: 'exit_tt', from: a, to: b, token: tok, reason: atom('kill') },
  { op: 'reg_send_tt', from: a, toName: atom('net_kernel'), token: tok },
  { op: 'exit2_tt', from: a, to: b, token: tok, reason: atom('kill') },
  { op: 'monitor_p', from: a, to: atom('net_kernel'), ref },
  { op: 'monitor_p', from: a, to: b, ref },
  { op: 'demonitor_p', from: a, to: b, ref },
  { op: 'monitor_p_exit', from: atom('no_such_name'), to: b, ref, reason: atom('noproc') },
  { op: 'send_sender', from: a, to: b },
  { op: 'send_sender_tt', from: a, to: b, token: tok },
  { op: 'payload_exit', from: a, to: b },
  { op: 'payload_exit_tt', from: a, to: b, token: tok },
  { op: 'payload_exit2', from: a, to: b },
  { op: 'payload_exit2_tt', from: a, to: b, token: tok },
  { op: 'payload_monitor_p_exit', from: a, to: b, ref },
  { op: 'spawn_request', reqId: ref, from: a, groupLeader: a, mfa, options: [atom('monitor')] },
  { op: 'spawn_request_tt', reqId: ref, from: a, groupLeader: a, mfa, options: [], token: tok },
  { op: 'spawn_reply', reqId: ref, to: a, flags: 2, result: b },
  { op: 'spawn_reply', reqId: ref, to: a, flags: 0, result: atom('notsup') },
  { op: 'spawn_reply_tt', reqId: ref, to: a, flags: 1, result: b, token: tok },
  { op: 'alias_send', from: a, alias: ref },
  { op: 'alias_send_tt', from: a, alias: ref, token: tok },
  { op: 'unlink_id', id: 42, from: a, to: b },
  { op: 'unlink_id_ack', id: 2n ** 63n, from: b, to: a },
  { op: 'altact_sig_send', flags: 4, from: a, to: ref },
  { op: 'altact_sig_send', flags: 6, from: a, to: ref, token: tok },
  { op: 'altact_sig_send', flags: 1, from: a, to: b },
  { op: 'altact_sig_send', flags: 8 | 1, from: a, to: atom('srv') },
  { op: 'altact_sig_send', flags: 4 | 16, from: a, to: ref },
];

test('every op is in the table with the number of dist.h', () => {
  assert.deepEqual(
    Object.entries(OP).map(([, n]) => n),
    [1, 2, 3, 4, 6, 7, 8, 12, 13, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37],
  );
  const covered = new Set(ALL.map((c) => c.op));
  assert.equal(covered.size, Object.keys(OP).length, 'the sample covers every op');
});

test('control → tuple → ETF → tuple → control is the identity for every op', () => {
  for (const c of ALL) {
    const t = controlToTuple(c);
    assert.equal(t.at(0), OP[c.op]);
    const back = tupleToControl(decode(encode(t)));
    assert.deepEqual(back, c, c.op);
  }
});

test('wire shapes: SEND and REG_SEND carry the unused empty atom; the facts examples', () => {
  assert.deepEqual(controlToTuple({ op: 'send', to: b }), tuple(2, atom(''), b));
  assert.deepEqual(controlToTuple({ op: 'reg_send', from: a, toName: atom('rex') }), tuple(6, a, atom(''), atom('rex')));
  assert.deepEqual(controlToTuple({ op: 'unlink_id', id: 42, from: b, to: a }), tuple(35, 42, b, a));
  // {29, ReqId, From, GL, {erpc, execute_call, 4}, [monitor]}
  const sr = controlToTuple(ALL.find((c) => c.op === 'spawn_request')!);
  assert.deepEqual(sr.at(4), tuple(atom('erpc'), atom('execute_call'), 4));
});

test('the unused field of SEND/REG_SEND is not checked (OTP does not either)', () => {
  assert.deepEqual(tupleToControl(tuple(2, atom('cookie'), b)), { op: 'send', to: b });
  assert.deepEqual(tupleToControl(tuple(6, a, 123, atom('rex'))), { op: 'reg_send', from: a, toName: atom('rex') });
});

test('atoms true/false decoded as booleans still work as names', () => {
  assert.deepEqual(tupleToControl(tuple(6, a, atom(''), true)), { op: 'reg_send', from: a, toName: atom('true') });
});

test('malformed controls throw ProtocolError BEAM_ERR_DIST_BAD_CONTROL', () => {
  const bad: Term[] = [
    atom('x'),
    tuple(),
    tuple(5), // NODE_LINK, removed
    tuple(99, a, b),
    tuple(atom('link'), a, b),
    tuple(1, a), // arity
    tuple(1, a, b, b),
    tuple(1, atom('x'), b), // from not a pid
    tuple(6, a, atom(''), 'rex'), // name not an atom
    tuple(19, a, 1, ref),
    tuple(19, a, b, b), // ref not a ref
    tuple(31, ref, a, -1, b),
    tuple(31, ref, a, 0, 'x'),
    tuple(35, 0, a, b), // unlink id 0 invalid
    tuple(29, ref, a, a, tuple(atom('m'), atom('f')), []),
    tuple(29, ref, a, a, tuple(atom('m'), atom('f'), 1), atom('notalist')),
    new Tuple([37, 1, a]),
  ];
  for (const t of bad) {
    assert.throws(() => tupleToControl(t), (e: unknown) => e instanceof ProtocolError && e.code === 'BEAM_ERR_DIST_BAD_CONTROL', String(t));
  }
});

test('hasMessage: which controls are followed by a second term', () => {
  assert.equal(hasMessage('send'), true);
  assert.equal(hasMessage('payload_exit'), true);
  assert.equal(hasMessage('spawn_request'), true);
  assert.equal(hasMessage('spawn_reply'), false);
  assert.equal(hasMessage('link'), false);
  assert.equal(hasMessage('monitor_p_exit'), false);
});

test('op choice follows the negotiated flags (erts_dsig_send_*)', () => {
  const none = DEFAULT_FLAGS & ~(DFLAG.SEND_SENDER | DFLAG.EXIT_PAYLOAD | DFLAG.ALIAS | DFLAG.SPAWN | DFLAG.DIST_MONITOR);
  assert.deepEqual(sendToPid(DEFAULT_FLAGS, a, b), { op: 'send_sender', from: a, to: b });
  assert.deepEqual(sendToPid(none, a, b), { op: 'send', to: b });
  assert.deepEqual(sendToPid(none, a, b, tok), { op: 'send_tt', to: b, token: tok });
  assert.deepEqual(linkExit(DEFAULT_FLAGS, a, b, atom('normal')), { control: { op: 'payload_exit', from: a, to: b }, message: atom('normal') });
  assert.deepEqual(linkExit(none, a, b, atom('normal')), { control: { op: 'exit', from: a, to: b, reason: atom('normal') }, message: undefined });
  assert.equal(exit2Signal(none, a, b, atom('kill')).control.op, 'exit2');
  assert.equal(monitorExit(DEFAULT_FLAGS, atom('x'), b, ref, atom('noproc')).control.op, 'payload_monitor_p_exit');
  assert.equal(monitorsSupported(DEFAULT_FLAGS), true);
  assert.equal(monitorsSupported(DEFAULT_FLAGS & ~DFLAG.DIST_MONITOR_NAME), false);
});

test('adaptToFlags downgrades or drops what the peer cannot take', () => {
  const none = DEFAULT_FLAGS & ~(DFLAG.SEND_SENDER | DFLAG.EXIT_PAYLOAD | DFLAG.ALIAS | DFLAG.SPAWN | DFLAG.DIST_MONITOR);
  assert.deepEqual(adaptToFlags({ op: 'send_sender', from: a, to: b }, 1, none), { control: { op: 'send', to: b }, message: 1 });
  assert.deepEqual(adaptToFlags({ op: 'payload_exit', from: a, to: b }, atom('boom'), none), {
    control: { op: 'exit', from: a, to: b, reason: atom('boom') },
    message: undefined,
  });
  assert.equal(adaptToFlags({ op: 'monitor_p', from: a, to: b, ref }, undefined, none), undefined);
  assert.equal(adaptToFlags({ op: 'alias_send', from: a, alias: ref }, 1, none), undefined);
  assert.equal(adaptToFlags({ op: 'spawn_reply', reqId: ref, to: a, flags: 0, result: atom('notsup') }, undefined, none), undefined);
  const same = { op: 'link', from: a, to: b } as const;
  assert.deepEqual(adaptToFlags(same, undefined, none), { control: same, message: undefined });
  assert.deepEqual(adaptToFlags({ op: 'send_sender', from: a, to: b }, 1, DEFAULT_FLAGS)?.control.op, 'send_sender');
});

test('ALTACT_SIG_SEND: To must match the ALIAS/NAME flags; TOKEN needs a 5th element; more elements are ignored', () => {
  const a = new Pid(atom('n@h'), 1, 0, 1);
  const ref = new Reference(atom('n@h'), 1, [1, 2, 3]);
  assert.throws(() => tupleToControl(new Tuple([37, 4, a, a])), /not a reference/);
  assert.throws(() => tupleToControl(new Tuple([37, 8, a, ref])), /not an atom/);
  assert.throws(() => tupleToControl(new Tuple([37, 0, a, ref])), /not a pid/);
  assert.throws(() => tupleToControl(new Tuple([37, 4 | 2, a, ref])), /arity 4, expected 5/);
  const grown = tupleToControl(new Tuple([37, 4 | 64, a, ref, atom('future')]));
  assert.ok(grown.op === 'altact_sig_send' && grown.to === ref && grown.token === undefined);
});
