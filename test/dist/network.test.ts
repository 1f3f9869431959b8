// DistNetwork between our own nodes over loopback: the connection table, shared attempts,
// simultaneous connects, replacing a dead connection (`alive`), and dial-time errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atom, Pid } from '../../src/etf/types.js';
import type { Connection } from '../../src/dist/net/connection.js';
import { DistError, HandshakeError } from '../../src/dist/errors.js';
import { DistNetwork, type DistNetworkOptions } from '../../src/dist/net/network.js';
import { withTimeout } from '../support/otp.js';

const COOKIE = 'netcookie';

async function node(name: string, o: Partial<DistNetworkOptions> = {}): Promise<{ net: DistNetwork; port: number }> {
  const net = new DistNetwork({ name, cookie: COOKIE, setupTime: 3000, ...o });
  const port = await net.listen({ address: '127.0.0.1' });
  return { net, port };
}

test('concurrent connect() calls for one peer share one attempt', async () => {
  const a = await node('a@127.0.0.1');
  const b = await node('b@127.0.0.1');
  try {
    let inbound = 0;
    b.net.on('nodeup', () => inbound++);
    const [c1, c2, c3] = await Promise.all([1, 2, 3].map(() => a.net.connect('b@127.0.0.1', { port: b.port })));
    assert.equal(c1, c2);
    assert.equal(c2, c3);
    assert.equal(inbound, 1);
    assert.equal(await a.net.connect('b@127.0.0.1', { port: b.port }), c1, 'the open connection is reused');
    assert.equal(a.net.connections().size, 1);
  } finally {
    await a.net.close();
    await b.net.close();
  }
});

test('simultaneous connect: both calls resolve to the two ends of one connection', async () => {
  for (let round = 0; round < 5; round++) {
    const a = await node('a@127.0.0.1');
    const b = await node('b@127.0.0.1');
    try {
      const [ab, ba] = await Promise.all([a.net.connect('b@127.0.0.1', { port: b.port }), b.net.connect('a@127.0.0.1', { port: a.port })]);
      assert.equal(a.net.get('b@127.0.0.1'), ab);
      assert.equal(b.net.get('a@127.0.0.1'), ba);
      assert.equal(ab.closed || ba.closed, false);
      // The two ends talk to each other: a frame sent on one arrives on the other.
      const got = withTimeout(new Promise((r) => ba.once('control', (c) => r(c.op))), 3000, 'frame across');
      ab.send({ op: 'link', from: new Pid(atom('a@127.0.0.1'), 1, 0, a.net.creation), to: new Pid(atom('b@127.0.0.1'), 1, 0, b.net.creation) });
      assert.equal(await got, 'link');
      assert.equal(ab.initiator, !ba.initiator, 'one side dialed, the other accepted');
    } finally {
      await a.net.close();
      await b.net.close();
    }
  }
});

test('a peer that comes back while we hold a dead connection replaces it (alive → true)', async () => {
  const a = await node('a@127.0.0.1');
  const b1 = await node('b@127.0.0.1');
  const b2 = await node('b@127.0.0.1');
  try {
    const old = await b1.net.connect('a@127.0.0.1', { port: a.port });
    await withTimeout(new Promise<void>((r) => (a.net.get('b@127.0.0.1') ? r() : a.net.once('nodeup', () => r()))), 3000, 'a sees b1');
    const aOld = a.net.get('b@127.0.0.1')!;
    const downs: [string, string | undefined][] = [];
    a.net.on('nodedown', (n, reason) => downs.push([n, (reason as DistError | undefined)?.code]));
    // b "restarts": a new node with the same name dials a, which still holds the old connection.
    const fresh = await b2.net.connect('a@127.0.0.1', { port: a.port });
    assert.equal(fresh.closed, false);
    const aNew = a.net.get('b@127.0.0.1')!;
    assert.notEqual(aNew, aOld);
    assert.equal(aNew.peerCreation, b2.net.creation);
    assert.equal(aOld.closed, true);
    assert.deepEqual(downs, [['b@127.0.0.1', 'BEAM_ERR_DIST_REPLACED']]);
    await withTimeout(new Promise<void>((r) => (old.closed ? r() : old.once('close', () => r()))), 3000, 'old end closed');
  } finally {
    await a.net.close();
    await b1.net.close();
    await b2.net.close();
  }
});

test('nodeup, control and nodedown events of the network', async () => {
  const a = await node('a@127.0.0.1');
  const b = await node('b@127.0.0.1');
  try {
    const ups: string[] = [];
    b.net.on('nodeup', (n) => ups.push(n));
    const controls = withTimeout(new Promise<[Connection, string]>((r) => b.net.once('control', (conn, c) => r([conn, c.op]))), 3000, 'control');
    const conn = await a.net.connect('b@127.0.0.1', { port: b.port });
    conn.send({ op: 'reg_send', from: new Pid(atom('a@127.0.0.1'), 1, 0, a.net.creation), toName: atom('x') }, atom('hello'));
    const [bconn, op] = await controls;
    assert.equal(op, 'reg_send');
    assert.equal(bconn.peer, 'a@127.0.0.1');
    assert.deepEqual(ups, ['a@127.0.0.1']);
    const down = withTimeout(new Promise<string>((r) => b.net.once('nodedown', (n) => r(n))), 3000, 'nodedown');
    assert.equal(a.net.disconnect('b@127.0.0.1'), true);
    assert.equal(await down, 'a@127.0.0.1');
    assert.equal(a.net.disconnect('b@127.0.0.1'), false);
  } finally {
    await a.net.close();
    await b.net.close();
  }
});

test('dial-time errors: own name, illegal host, unresolvable host, nothing listening, wrong cookie', async () => {
  const a = await node('a@127.0.0.1');
  const b = await node('b@127.0.0.1', { cookie: 'other' });
  try {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return (e as DistError).code;
      }
      return 'resolved';
    };
    assert.equal(await code(a.net.connect('a@127.0.0.1')), 'BEAM_ERR_DIST_SELF');
    assert.equal(await code(a.net.connect('b@localhost')), 'BEAM_ERR_DIST_ILLEGAL_HOST');
    assert.equal(await code(a.net.connect('nohost')), 'BEAM_ERR_DIST_BAD_NAME');
    assert.equal(await code(a.net.connect('b@nohost.invalid')), 'BEAM_ERR_DIST_UNRESOLVED');
    assert.equal(await code(a.net.connect('b@127.0.0.1', { port: 1 })), 'BEAM_ERR_DIST_CONNECT');
    const bad = a.net.connect('b@127.0.0.1', { port: b.port });
    await assert.rejects(bad, (e: unknown) => e instanceof HandshakeError && e.code === 'BEAM_ERR_HANDSHAKE_BAD_COOKIE');
    assert.equal(a.net.connections().size, 0);
    const ac = new AbortController();
    ac.abort(new Error('nope'));
    await assert.rejects(a.net.connect('b@127.0.0.1', { port: b.port, signal: ac.signal }), /nope/);
  } finally {
    await a.net.close();
    await b.net.close();
  }
});

test('short names: a short-names node dials short hosts only', async () => {
  const a = new DistNetwork({ name: 'a@localhost', cookie: COOKIE });
  assert.equal(a.longNames, false);
  await assert.rejects(a.connect('b@127.0.0.1'), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_DIST_ILLEGAL_HOST');
  await a.close();
});

test('close() rejects attempts in progress and closes every connection', async () => {
  const a = await node('a@127.0.0.1');
  const b = await node('b@127.0.0.1');
  const conn = await a.net.connect('b@127.0.0.1', { port: b.port });
  const closed = withTimeout(new Promise<Error | undefined>((r) => conn.once('close', r)), 3000, 'close');
  await a.net.close();
  assert.equal(await closed, undefined);
  await assert.rejects(a.net.connect('b@127.0.0.1', { port: b.port }), (e: unknown) => e instanceof DistError && e.code === 'BEAM_ERR_DIST_CLOSED');
  await b.net.close();
});
