// Node.start options and node-level helpers against a real erl (host OTP): the embedded EPMD when
// none answers, a visible (non-hidden) node, node.monitor/link/exit, and what stop() leaves behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pid, atom } from '../../src/etf/types.js';
import { names } from '../../src/epmd/client.js';
import { Node } from '../../src/dist/node/node.js';
import { NodeError } from '../../src/dist/runtime/errors.js';
import { hostname } from 'node:os';
import { ErlNode, freePort, hostOtp, startEpmd } from '../support/otp.js';
import { startPeers } from './node-fixture.js';

const otp = hostOtp();

test(`${otp.label}: with epmd.embedded and no EPMD running, the node serves one; erl registers there and pings us`, async () => {
  const epmdPort = await freePort();
  const node = await Node.start({ name: 'jsemb@127.0.0.1', cookie: 'emb', epmd: { port: epmdPort, embedded: true }, listen: { address: '127.0.0.1' } });
  let erl: ErlNode | undefined;
  try {
    const listed = await names('127.0.0.1', { port: epmdPort });
    assert.ok(listed.some((e) => e.name === 'jsemb' && e.port === node.port), JSON.stringify(listed));
    erl = await ErlNode.start(otp, { name: 'erlemb@127.0.0.1', cookie: 'emb', epmdPort });
    assert.equal(await erl.evalText(`net_adm:ping('jsemb@127.0.0.1')`), 'pong');
    assert.deepEqual(await node.rpc('erlemb@127.0.0.1', 'erlang', 'node', []), atom('erlemb@127.0.0.1'));
  } finally {
    await erl?.stop();
    await node.stop();
  }
  // without `embedded` the missing EPMD is an error
  await assert.rejects(Node.start({ name: 'jsnoepmd@127.0.0.1', cookie: 'x', epmd: { port: await freePort() } }), /EPMD|epmd/);
});

test(`${otp.label}: a bare name ('jsshort') takes this host's short name, and -sname nodes talk to it both ways`, async () => {
  const host = hostname().split('.')[0];
  const epmd = await startEpmd();
  const node = await Node.start({ name: 'jsshort', cookie: 'short', epmd: { port: epmd.port } });
  let erl: ErlNode | undefined;
  try {
    assert.equal(node.name, `jsshort@${host}`);
    assert.equal(node.longNames, false);
    erl = await ErlNode.start(otp, { name: 'erlshort', sname: true, cookie: 'short', epmdPort: epmd.port });
    assert.equal(await erl.evalText(`net_adm:ping('jsshort@${host}')`), 'pong');
    assert.equal(await node.rpc(`erlshort@${host}`, 'erlang', 'node', []), atom(`erlshort@${host}`));
    // a short-names node refuses to dial a dotted host, as erl does
    await assert.rejects(node.connect('x@127.0.0.1'), /NOT running to use fully qualified hostnames|illegal/i);
  } finally {
    await erl?.stop();
    await node.stop();
    await epmd.stop();
  }
});

test(`${otp.label}: a visible node (hidden: false) is in erl's nodes() and answers rex's features_request`, async () => {
  const p = await startPeers(otp, { erlAlive: 'erlvis', jsAlive: 'jsvis', node: { hidden: false } });
  try {
    assert.equal(await p.erl.evalText(`net_adm:ping('${p.jsName}')`), 'pong');
    assert.equal(await p.erl.evalText(`lists:member('${p.jsName}', nodes())`), 'true');
    // rex's features request gets the reply a real rex sends
    assert.equal(
      await p.erl.evalText(`{rex, '${p.jsName}'} ! {self(), features_request}, receive {features_reply, N_, F_} -> {N_, F_} after 5000 -> timeout end`),
      `{'${p.jsName}',[erpc]}`,
    );
  } finally {
    await p.stop();
  }
});

test(`${otp.label}: node.monitor, node.link and node.exit at node level; stop() ends processes, connections and the EPMD entry`, async () => {
  const p = await startPeers(otp, { erlAlive: 'erlnl', jsAlive: 'jsnl' });
  let stopped = false;
  try {
    await p.erl.evalText(`jsnode_peer:collector(a), jsnode_peer:collector(b), jsnode_peer:collector(c), ok`);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => p.node.rpc(p.erlName, 'erlang', 'whereis', [atom(n)])));
    assert.ok(a instanceof Pid && b instanceof Pid && c instanceof Pid);
    const mon = p.node.monitor(a);
    const lnk = await p.node.link(b);
    const gone = p.node.monitor(['nobody', p.erlName]);
    assert.equal((await gone.down).reason, atom('noproc'));
    await p.erl.evalText(`a ! {'$exit', bye_a}, b ! {'$exit', bye_b}, ok`);
    assert.equal((await mon.down).reason, atom('bye_a'));
    assert.equal(await lnk.exit, atom('bye_b'));
    p.node.exit(c, atom('kill'));
    assert.equal(await p.erl.evalText(`(fun W_(0) -> alive; W_(N) -> case whereis(c) of undefined -> dead; _ -> timer:sleep(20), W_(N - 1) end end)(250)`), 'dead');
    // stop: the JS process dies with shutdown, erl sees nodedown, epmd forgets us
    const box = p.node.spawn();
    await p.erl.evalText(`erlang:monitor_node('${p.jsName}', true), ok`);
    await p.node.stop();
    stopped = true;
    assert.equal(await box.exited, atom('shutdown'));
    assert.equal(await p.erl.evalText(`receive {nodedown, N_} -> N_ after 10000 -> timeout end`), `'${p.jsName}'`);
    const listed = await names('127.0.0.1', { port: p.epmd.port });
    assert.ok(!listed.some((e) => e.name === 'jsnl'), JSON.stringify(listed));
    assert.throws(() => p.node.spawn(), (e: unknown) => e instanceof NodeError && e.code === 'BEAM_ERR_NODE_STOPPED');
    await assert.rejects(p.node.send(['x', p.erlName], 1), NodeError);
  } finally {
    if (!stopped) await p.node.stop();
    await p.stop();
  }
});


test(`${otp.label}: atomCache and fragments off (the 112 pass-through path) through the Node API: rpc and a 1 MB reply both ways`, async () => {
  const epmd = await startEpmd();
  const node = await Node.start({ name: 'jsplain@127.0.0.1', cookie: 'plain', epmd: { port: epmd.port }, listen: { address: '127.0.0.1' }, atomCache: false, fragments: false });
  let erl: ErlNode | undefined;
  try {
    erl = await ErlNode.start(otp, { name: 'erlplain@127.0.0.1', cookie: 'plain', epmdPort: epmd.port });
    const big = await node.rpc('erlplain@127.0.0.1', 'binary', 'copy', [Buffer.from('ab'), 500_000]);
    assert.ok(Buffer.isBuffer(big) && big.length === 1_000_000);
    assert.equal(await node.rpc('erlplain@127.0.0.1', 'erlang', 'byte_size', [big]), 1_000_000);
  } finally {
    await erl?.stop();
    await node.stop();
    await epmd.stop();
  }
});
