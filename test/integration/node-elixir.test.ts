// Elixir (the host's, on OTP 25) talking to the JS node: Node.ping, GenServer.call/cast to a JS
// server, :rpc.call to a JS handler, send/receive; and the JS node calling an Elixir GenServer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Pid, Tuple, atom, type Term } from '../../src/etf/types.js';
import { isBinary, isNumber, isPid, isTuple } from '../../src/etf/terms/guards.js';
import { UnexpectedReplyError } from '../../src/dist/runtime/errors.js';
import { hostOtp } from '../support/otp.js';
import { runElixir, startPeers, type Peers } from './node-fixture.js';
import { skipUnlessEnv } from '../support/env.js';

const hasElixir = spawnSync('elixir', ['--version'], { encoding: 'utf8', timeout: 60_000 }).status === 0;
const label = hasElixir ? `Elixir on ${hostOtp().label}` : 'Elixir (not installed)';

describe(`Node interop with ${label}`, { skip: skipUnlessEnv(!hasElixir && 'elixir is not installed') }, () => {
  let p: Peers;
  let k = 0;
  const exName = () => `ex${++k}_${process.pid}@127.0.0.1`;
  /** A registered JS process; `run` starts an Elixir node (a fresh name) that defines the GenServer `mod` (these handle_call clauses), then runs `script`. */
  const boxAndElixir = (boxName: string) => {
    const box = p.node.spawn();
    box.register(boxName);
    const name = exName();
    const run = (mod: string, calls: string, script: string) =>
      runElixir(p.epmd.port, name, p.cookie, `defmodule ${mod} do\n  use GenServer\n  def init(x), do: {:ok, x}\n${calls}\nend\n${script}`);
    return { box, name, run };
  };
  before(async () => {
    p = await startPeers(hostOtp(), { erlAlive: 'erlx', jsAlive: 'jsx' });
  });
  after(async () => {
    await p?.stop();
  });

  test(`${label}: Node.ping, GenServer.call and GenServer.cast reach a JS gen_server; :rpc.call reaches a JS handler`, async () => {
    const casts: Term[] = [];
    const srv = p.node.serve('jsrv', {
      call: (req) => new Tuple([atom('js_got'), req]),
      cast: (m) => void casts.push(m),
    });
    p.node.handleRpc('Elixir.JsMath', 'mul', ([a, b]) => (a as number) * (b as number));
    try {
      const out = await runElixir(
        p.epmd.port,
        exName(),
        p.cookie,
        `js = :"${p.jsName}"
IO.inspect(Node.ping(js), label: "ping")
IO.inspect(GenServer.call({:jsrv, js}, {:hello, "world"}), label: "call")
GenServer.cast({:jsrv, js}, {:note, 7})
IO.inspect(:rpc.call(js, JsMath, :mul, [6, 7]), label: "rpc")
IO.inspect(Node.list(:hidden), label: "hidden")`,
      );
      assert.match(out, /^ping: :pong$/m);
      assert.match(out, /^call: \{:js_got, \{:hello, "world"\}\}$/m);
      assert.match(out, /^rpc: 42$/m);
      assert.match(out, new RegExp(`^hidden: \\[.*:"${p.jsName}".*\\]$`, 'm'));
      for (let i = 0; i < 100 && casts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(isTuple(casts[0], 2, 'note') && casts[0].elements[1] === 7);
    } finally {
      srv.stop();
      p.node.handleRpc('Elixir.JsMath', 'mul', undefined);
    }
  });

  test(`${label}: the JS node calls an Elixir GenServer and exchanges messages with an Elixir process`, async () => {
    const { box, name, run } = boxAndElixir('jsbox');
    try {
      const elixir = run(
        'ExSrv',
        `  def handle_call(:ping, _from, s), do: {:reply, :pong_from_elixir, s}
  def handle_call({:add, n}, _from, s), do: {:reply, s + n, s + n}`,
        `{:ok, _} = GenServer.start(ExSrv, 100, name: :exsrv)
send({:jsbox, :"${p.jsName}"}, {:ready, self()})
receive do
  {:from_js, x} -> IO.inspect(x, label: "from_js")
after 30_000 -> exit(:timeout)
end`,
      );
      const ready = await box.receive({ timeout: 60_000 });
      assert.ok(isTuple(ready, 2, 'ready') && ready.elements[1] instanceof Pid);
      assert.equal(await p.node.call(['exsrv', name], atom('ping')), atom('pong_from_elixir'));
      assert.equal(await p.node.call(['exsrv', name], new Tuple([atom('add'), 5])), 105);
      await box.send(ready.elements[1] as Pid, new Tuple([atom('from_js'), 'ünïcode ✓']));
      const out = await elixir;
      assert.match(out, /^from_js: "ünïcode ✓"$/m);
    } finally {
      box.close();
    }
  });

  test(`${label}: GenServer.call into a JS handler that throws raises in Elixir and the next call succeeds; rpc<T>/call<T> with a validator; messages() with match and abort`, async () => {
    const srv = p.node.serve('jsthrow', {
      call(req) {
        if (isTuple(req, 2, 'fail') && isBinary(req.elements[1])) throw new Error(req.elements[1].toString());
        return new Tuple([atom('fine'), req]);
      },
    });
    const { box, name, run } = boxAndElixir('jsbox2');
    try {
      const elixir = run(
        'ExCounter',
        '  def handle_call({:add, n}, _from, s), do: {:reply, s + n, s + n}',
        `{:ok, _} = GenServer.start(ExCounter, 10, name: :excounter)
js = :"${p.jsName}"
send({:jsbox2, js}, {:ready, self()})
receive do
  :go -> :ok
after 30_000 -> exit(:timeout)
end
first = try do
  GenServer.call({:jsthrow, js}, {:fail, "boom"})
catch
  :exit, reason -> {:caught, reason}
end
IO.inspect(first, label: "first", width: :infinity)
IO.inspect(GenServer.call({:jsthrow, js}, :next), label: "second")
for m <- [:skip, {:n, 1}, {:n, 2}, {:n, 3}, {:n, 4}], do: send({:jsbox2, js}, m)
receive do
  :done -> :ok
after 30_000 -> exit(:timeout)
end`,
      );
      const ready = await box.receive({ timeout: 60_000, match: (m) => isTuple(m, 2, 'ready') });
      const exPid = ready.elements[1];
      assert.ok(isPid(exPid));
      // rpc<T> and call<T>, typed by their guards, against Elixir
      const up: Buffer = await p.node.rpc(name, 'Elixir.String', 'upcase', ['élixir'], { validate: isBinary });
      assert.equal(up.toString(), 'ÉLIXIR');
      const sum: number = await p.node.call(['excounter', name], new Tuple([atom('add'), 5]), { validate: isNumber });
      assert.equal(sum, 15);
      await assert.rejects(p.node.rpc(name, 'Elixir.String', 'upcase', ['x'], { validate: isPid }), UnexpectedReplyError);
      await box.send(exPid, atom('go'));
      // messages() with a match and an abort: the loop ends after three {n, _}
      const ac = new AbortController();
      const ns: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const m of box.messages({ signal: ac.signal, match: (m) => isTuple(m, 2, 'n') })) {
            if (isNumber(m.elements[1])) ns.push(m.elements[1]);
            if (ns.length === 3) ac.abort();
          }
        })(),
        (e: unknown) => e === ac.signal.reason,
      );
      assert.deepEqual(ns, [1, 2, 3]);
      assert.equal(await box.receive({ timeout: 10_000 }), atom('skip'));
      await box.send(exPid, atom('done'));
      const out = await elixir;
      assert.match(out, /^first: \{:caught,\s*\{\{:js_error, "boom"\},\s*\{GenServer, :call, \[\{:jsthrow, :"js[^"]*"\}, \{:fail, "boom"\}, 5000\]\}\}\}$/m, out);
      assert.match(out, /^second: \{:fine, :next\}$/m, out);
      assert.ok(srv.alive, 'the server still runs');
    } finally {
      srv.close();
      box.close();
    }
  });
});
