// Links, exit signals and monitors between JS processes and erl processes, both directions,
// on every OTP release in the matrix (UNLINK_ID, PAYLOAD_EXIT, MONITOR_P, PAYLOAD_MONITOR_P_EXIT).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { TimeoutError } from '../../src/errors.js';
import { formatTerm, isTuple, termEquals } from '../../src/dist/runtime/terms.js';
import type { Process } from '../../src/dist/runtime/process.js';
import { otpMatrix } from '../support/otp.js';
import { startPeers, type Peers } from './node-fixture.js';

const T = (...e: Term[]) => new Tuple(e);
const eq = (a: Term, b: Term) => assert.ok(termEquals(a, b), `${formatTerm(a)} =/= ${formatTerm(b)}`);

for (const otp of otpMatrix()) {
  describe(`Node links and monitors with ${otp.label}`, () => {
    let p: Peers;
    let n = 0;
    const JS = () => `'${p.jsName}'`;
    /** A fresh collector on erl: its name and pid. */
    const collector = async (): Promise<{ name: string; pid: Pid }> => {
      const name = `col${++n}`;
      await p.erl.evalText(`jsnode_peer:collector(${name}), ok`);
      const pid = await p.node.rpc(p.erlName, 'erlang', 'whereis', [atom(name)]);
      assert.ok(pid instanceof Pid);
      return { name, pid };
    };
    /** Erl-side: waits until the collector holds a message matching the Erlang pattern; returns it as text. */
    const waitErl = (col: string, pattern: string, guard = '') =>
      p.erl.evalText(`jsnode_peer:wait_for(${col}, fun(${pattern}) ${guard ? `when ${guard} ` : ''}-> true; (_) -> false end, 5000)`);
    /** Makes the erl side know a JS pid: binds it to the Erlang variable `v`. */
    const tellPid = async (col: string, proc: Process, v: string) => {
      await proc.send([col, p.erlName], T(atom('pid_is'), atom(v.toLowerCase()), proc.pid));
      await p.erl.evalText(`{pid_is, ${v.toLowerCase()}, ${v}} = jsnode_peer:wait_for(${col}, fun({pid_is, ${v.toLowerCase()}, _}) -> true; (_) -> false end, 5000), ok`);
    };
    const erlLinks = async (col: string) => p.erl.evalText(`{links, L${++n}} = process_info(whereis(${col}), links), L${n}`);

    before(async () => {
      p = await startPeers(otp, { erlAlive: `erlk${otp.release}`, jsAlive: `jsk${otp.release}` });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: JS links to an erl process; its exit reaches a trapping JS process as EXIT`, async () => {
      const c = await collector();
      const proc = p.node.spawn();
      await proc.link(c.pid);
      assert.match(await erlLinks(c.name), /^\[<\d+\.\d+\.\d+>\]$/, 'erl sees the link');
      await p.erl.evalText(`${c.name} ! {'$exit', boom}, ok`);
      eq(await proc.receive({ timeout: 5000 }), T(atom('EXIT'), c.pid, atom('boom')));
      proc.close();
    });

    test(`${otp.label}: a non-trapping JS process dies with the linked erl process's reason, and its own links see it`, async () => {
      const c = await collector();
      const watcher = await collector();
      const proc = p.node.spawn({ trapExit: false });
      await tellPid(watcher.name, proc, 'JsVictim');
      await p.erl.evalText(`${watcher.name} ! {'$link', JsVictim}, ok`);
      await proc.link(c.pid);
      await p.erl.evalText(`${c.name} ! {'$exit', {shutdown, because}}, ok`);
      eq(await proc.exited, T(atom('shutdown'), atom('because')));
      assert.match(await waitErl(watcher.name, `{'EXIT', _, _}`), /^\{'EXIT',<\d+\.\d+\.\d+>,\{shutdown,because\}\}$/);
    });

    test(`${otp.label}: erl links to a JS process; the JS exit reason reaches erl as EXIT`, async () => {
      const c = await collector();
      const proc = p.node.spawn();
      await tellPid(c.name, proc, 'JsL1');
      await p.erl.evalText(`${c.name} ! {'$link', JsL1}, ok`);
      for (let i = 0; i < 250 && proc.state.links.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(proc.state.links.size, 1, 'the LINK arrived');
      proc.exit(T(atom('js_bye'), 1));
      assert.equal(await waitErl(c.name, `{'EXIT', _, _}`), `{'EXIT',${await p.erl.evalText('JsL1')},{js_bye,1}}`);
    });

    test(`${otp.label}: unlink from JS (UNLINK_ID) and from erl: no exit crosses afterwards`, async () => {
      const c = await collector();
      const proc = p.node.spawn();
      await proc.link(c.pid);
      proc.unlink(c.pid);
      for (let i = 0; i < 250 && (await erlLinks(c.name)) !== '[]'; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await erlLinks(c.name), '[]', 'erl dropped the link');
      // erl's answer to evalText comes over stdio, its UNLINK_ID_ACK over the connection: either may be first
      for (let i = 0; i < 250 && proc.state.links.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(proc.state.links.size, 0, 'the UNLINK_ID_ACK cleared our side');
      await p.erl.evalText(`${c.name} ! {'$exit', after_unlink}, ok`);
      await assert.rejects(proc.receive({ timeout: 300 }), TimeoutError);
      // erl unlinks: we get UNLINK_ID, ack it, and our exit no longer reaches erl
      const c2 = await collector();
      const proc2 = p.node.spawn();
      await tellPid(c2.name, proc2, 'JsU2');
      await p.erl.evalText(`${c2.name} ! {'$link', JsU2}, ${c2.name} ! {'$unlink', JsU2}, ok`);
      for (let i = 0; i < 250 && (await erlLinks(c2.name)) !== '[]'; i++) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 250 && proc2.state.links.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(proc2.state.links.size, 0);
      proc2.exit(atom('unseen'));
      await p.erl.evalText(`${c2.name} ! marker, ok`);
      assert.equal(await waitErl(c2.name, 'marker'), 'marker');
      assert.doesNotMatch(await p.erl.evalText(`jsnode_peer:collected(${c2.name})`), /EXIT/);
    });

    test(`${otp.label}: exit/2 both ways: JS kills an erl process; erl's exit(JsPid, shutdown) is trapped`, async () => {
      const c = await collector();
      const proc = p.node.spawn();
      const ref = proc.monitor(c.pid);
      proc.exit(c.pid, atom('kill'));
      eq(await proc.receive({ timeout: 5000 }), T(atom('DOWN'), ref, atom('process'), c.pid, atom('killed')));
      const c2 = await collector();
      await tellPid(c2.name, proc, 'JsX1');
      await p.erl.evalText(`${c2.name} ! {'$send', self(), ok}, exit(JsX1, shutdown), ok`);
      const m = await proc.receive({ timeout: 5000 });
      assert.ok(isTuple(m, 3, 'EXIT') && m.elements[2] === atom('shutdown'), formatTerm(m));
      assert.ok(proc.alive);
      proc.close();
    });

    test(`${otp.label}: JS monitors erl processes: DOWN normal by pid, {Name, Node} by name, noproc for a missing name, none after demonitor`, async () => {
      const proc = p.node.spawn();
      const c1 = await collector();
      const c2 = await collector();
      const c3 = await collector();
      const r1 = proc.monitor(c1.pid);
      const r2 = proc.monitor([c2.name, p.erlName]);
      const r3 = proc.monitor({ name: 'no_such_name', node: p.erlName });
      const r4 = proc.monitor(c3.pid);
      eq(await proc.receive({ timeout: 5000 }), T(atom('DOWN'), r3, atom('process'), T(atom('no_such_name'), atom(p.erlName)), atom('noproc')));
      assert.ok(proc.demonitor(r4));
      await p.erl.evalText(`${c1.name} ! {'$exit', normal}, ${c2.name} ! {'$exit', {bad, <<"thing">>}}, ${c3.name} ! {'$exit', ignored}, ok`);
      const downs = [await proc.receive({ timeout: 5000 }), await proc.receive({ timeout: 5000 })];
      const find = (r: Term) => downs.find((d) => isTuple(d, 5, 'DOWN') && termEquals(d.elements[1], r));
      eq(find(r1)!, T(atom('DOWN'), r1, atom('process'), c1.pid, atom('normal')));
      eq(find(r2)!, T(atom('DOWN'), r2, atom('process'), T(atom(c2.name), atom(p.erlName)), T(atom('bad'), Buffer.from('thing'))));
      await assert.rejects(proc.receive({ timeout: 300 }), TimeoutError, 'no DOWN after demonitor');
      proc.close();
    });

    test(`${otp.label}: erl monitors JS processes: DOWN with the JS reason, by name, noproc for a missing JS name`, async () => {
      const c = await collector();
      const proc = p.node.spawn();
      const named = p.node.spawn();
      named.register('watched_js');
      await tellPid(c.name, proc, 'JsM1');
      await p.erl.evalText(`${c.name} ! {'$monitor', JsM1}, ${c.name} ! {'$monitor', {watched_js, ${JS()}}}, ${c.name} ! {'$monitor', {missing_js, ${JS()}}}, ok`);
      assert.match(await waitErl(c.name, `{'DOWN', _, process, {missing_js, _}, _}`), /^\{'DOWN',#Ref<[\d.]+>,process,\{missing_js,'jsk\d+@127\.0\.0\.1'\},noproc\}$/);
      for (let i = 0; i < 250 && (proc.state.watchedBy.size === 0 || named.state.watchedBy.size === 0); i++) await new Promise((r) => setTimeout(r, 20));
      proc.exit(T(atom('js_reason'), [1, 2]));
      named.exit(atom('named_gone'));
      assert.match(await waitErl(c.name, `{'DOWN', _, process, P, _}`, 'is_pid(P)'), /^\{'DOWN',#Ref<[\d.]+>,process,<\d+\.\d+\.\d+>,\{js_reason,\[1,2\]\}\}$/);
      assert.match(await waitErl(c.name, `{'DOWN', _, process, {watched_js, _}, _}`), /,named_gone\}$/);
    });

    test(`${otp.label}: erl linking to a JS pid that is gone gets EXIT noproc`, async () => {
      const c = await collector();
      const proc = p.node.spawn();
      await tellPid(c.name, proc, 'JsDead');
      proc.close();
      await p.erl.evalText(`${c.name} ! {'$link', JsDead}, ok`);
      assert.match(await waitErl(c.name, `{'EXIT', _, _}`), /,noproc\}$/);
    });
  });
}
