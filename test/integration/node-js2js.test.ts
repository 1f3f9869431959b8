// Two beamnode nodes in one process, through a real epmd: both ends of every feature are ours
// (rpc via our rex, gen_server calls, links, monitors, exits, nodedown).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Tuple, atom, type Term } from '../../src/etf/types.js';
import { Node } from '../../src/dist/node/node.js';
import { CallError, RpcError } from '../../src/dist/runtime/errors.js';
import { formatTerm, termEquals } from '../../src/dist/runtime/terms.js';
import { startEpmd, type Epmd } from '../support/otp.js';

const T = (...e: Term[]) => new Tuple(e);
const eq = (a: Term, b: Term) => assert.ok(termEquals(a, b), `${formatTerm(a)} =/= ${formatTerm(b)}`);

let epmd: Epmd;
let a: Node;
let b: Node;
before(async () => {
  epmd = await startEpmd();
  const o = { cookie: 'js2js', epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } };
  a = await Node.start({ name: 'ja@127.0.0.1', ...o });
  b = await Node.start({ name: 'jb@127.0.0.1', ...o });
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await epmd?.stop();
});

test('beamnode ↔ beamnode: rpc through our rex (value and badrpc), gen_server call/cast', async () => {
  b.handleRpc('m', 'double', ([x]) => (x as number) * 2);
  assert.equal(await a.rpc(b.name, 'm', 'double', [21]), 42);
  await assert.rejects(a.rpc(b.name, 'm', 'missing', []), (e: unknown) => e instanceof RpcError && /undef/.test(e.message));
  let casted: Term | undefined;
  b.serve('kv', { call: (req) => T(atom('ok'), req), cast: (m) => void (casted = m) });
  eq(await a.call(['kv', b.name], atom('get')), T(atom('ok'), atom('get')));
  await a.cast(['kv', b.name], atom('hi'));
  for (let i = 0; i < 100 && casted === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(casted, atom('hi'));
  await assert.rejects(a.call(['nobody', b.name], atom('x')), (e: unknown) => e instanceof CallError && e.reason === atom('noproc'));
});

test('beamnode ↔ beamnode: a throwing serve handler fails that call only (CallError {js_error, Msg}); the same server answers the next', async () => {
  const srv = b.serve('thrower', {
    call: (req) => {
      if (req === atom('bad')) throw new Error('no good');
      return T(atom('ok'), req);
    },
  });
  try {
    const pid = srv.pid;
    await assert.rejects(a.call(['thrower', b.name], atom('bad')), (e: unknown) => e instanceof CallError && termEquals(e.reason, T(atom('js_error'), Buffer.from('no good'))));
    eq(await a.call(['thrower', b.name], atom('good')), T(atom('ok'), atom('good')));
    // by pid as well (the caller's monitor is on the pid)
    await assert.rejects(a.call(pid, atom('bad')), CallError);
    eq(await a.call(pid, atom('again')), T(atom('ok'), atom('again')));
    assert.ok(srv.pid.equals(pid));
  } finally {
    srv.close();
  }
});

test("beamnode ↔ beamnode: rex's C-node form {Self, {call, M, F, A, GL}} answers {rex, Result}", async () => {
  b.handleRpc('m', 'triple', ([x]) => (x as number) * 3);
  const p = a.spawn();
  await p.send(['rex', b.name], T(p.pid, T(atom('call'), atom('m'), atom('triple'), [5], atom('user'))));
  eq(await p.receive({ timeout: 5000 }), T(atom('rex'), 15));
  p.close();
});

test('Node.start honours an aborted signal and a taken EPMD name', async () => {
  const ac = new AbortController();
  ac.abort(new Error('not now'));
  await assert.rejects(Node.start({ name: 'jabort@127.0.0.1', cookie: 'x', epmd: { port: epmd.port }, signal: ac.signal }), /not now/);
  await assert.rejects(Node.start({ name: 'ja@127.0.0.1', cookie: 'x', epmd: { port: epmd.port } }), (e: unknown) => (e as { code?: string }).code === 'BEAM_ERR_EPMD_NAME_TAKEN');
});

test('beamnode ↔ beamnode: links, unlink, monitors and exit/2 across the connection', async () => {
  const pa = a.spawn();
  const pb = b.spawn({ trapExit: false });
  await pa.link(pb.pid);
  const ref = pa.monitor(pb.pid);
  const pb2 = b.spawn();
  await pa.link(pb2.pid);
  pa.unlink(pb2.pid);
  for (let i = 0; i < 100 && pb2.state.links.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pb2.state.links.size, 0, 'UNLINK_ID reached the other node');
  for (let i = 0; i < 100 && pa.state.links.size > 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pa.state.links.size, 1, 'the ack cleared our unlinking entry');
  pa.exit(pb.pid, atom('stop_it'));
  eq(await pa.receive({ timeout: 5000 }), T(atom('EXIT'), pb.pid, atom('stop_it')));
  eq(await pa.receive({ timeout: 5000 }), T(atom('DOWN'), ref, atom('process'), pb.pid, atom('stop_it')));
  assert.equal(await pb.exited, atom('stop_it'));
  pb2.close();
  pa.close();
});

test('beamnode ↔ beamnode: stopping one node gives nodedown and noconnection on the other', async () => {
  const c = await Node.start({ name: 'jc@127.0.0.1', cookie: 'js2js', epmd: { port: epmd.port }, listen: { address: '127.0.0.1' } });
  const pc = c.spawn();
  pc.register('target');
  const pa = a.spawn();
  const ref = pa.monitor(['target', c.name]);
  await a.connect(c.name);
  for (let i = 0; i < 100 && pc.state.watchedBy.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pc.state.watchedBy.size, 1);
  const down = new Promise<string>((r) => a.once('nodedown', (n) => r(n)));
  await c.stop();
  assert.equal(await down, c.name);
  eq(await pa.receive({ timeout: 5000 }), T(atom('DOWN'), ref, atom('process'), T(atom('target'), atom(c.name)), atom('noconnection')));
  pa.close();
});
