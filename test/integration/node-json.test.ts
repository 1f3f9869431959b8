// JSON mode against real peers. Elixir (host OTP 25): a realistic JSON API payload goes to an
// Elixir GenServer, which finds maps with binary keys, nil and its numbers, computes from them and
// echoes the payload back: JS gets the same JSON. Elixir calls a JSON-mode JS gen_server and a
// JSON-mode rpc handler and checks the maps it gets. Every OTP in the matrix: the payload through
// rpc; OTP 27+ also through its own json module (json:encode/1 of our terms is the JSON we meant,
// json:decode/1's terms are the values we get). An encode error on the wire names the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EncodeError, ImproperList, Pid, Tuple, atom, type JsonTerm, type Term } from '../../src/etf/index.js';
import { otpMatrix } from '../support/otp.js';
import { apiPayload, viaJson } from '../support/json-payload.js';
import { runElixir, startPeers, type Peers } from './node-fixture.js';
import { skipUnlessEnv } from '../support/env.js';

// Elixir runs on the host's OTP: that part runs when BEAMNODE_OTP includes the host (the default).
const host = otpMatrix().find((o) => !o.root);
const hasElixir = spawnSync('elixir', ['--version'], { encoding: 'utf8', timeout: 60_000 }).status === 0;
const label = hasElixir && host ? `Elixir on ${host.label}` : 'Elixir (not installed)';

const ELIXIR = String.raw`
defmodule Check do
  # JSON as Jason.decode/1 gives it: maps with binary keys, lists, binaries, numbers, booleans, nil.
  def json?(m) when is_map(m), do: Enum.all?(m, fn {k, v} -> is_binary(k) and json?(v) end)
  def json?(l) when is_list(l), do: Enum.all?(l, &json?/1)
  def json?(x) when is_binary(x) or is_number(x) or is_boolean(x) or is_nil(x), do: true
  def json?(_), do: false
end

defmodule Echo do
  use GenServer
  def init(s), do: {:ok, s}
  def handle_call(payload, _from, s) do
    orders = payload["data"]
    items = Enum.flat_map(orders, & &1["items"])
    {:reply,
     %{
       "echo" => payload,
       "json" => Check.json?(payload),
       "orders" => length(orders),
       "qty" => items |> Enum.map(& &1["qty"]) |> Enum.sum(),
       "prices_are_floats" => Enum.any?(items, &is_float(&1["price"])),
       "names" => orders |> Enum.take(8) |> Enum.map(& &1["customer"]["name"]),
       "nil_emails" => Enum.count(orders, &is_nil(&1["customer"]["email"])),
       "without_note" => Enum.count(orders, &(not Map.has_key?(&1, "note"))),
       "snowflake_plus_one" => payload["snowflake"] + 1
     }, s}
  end
end

js = String.to_atom(System.get_env("JS_NODE"))
{:ok, _} = GenServer.start(Echo, nil, name: :echo)
send({:jsjsonbox, js}, {:ready, self()})

user = %{"name" => "Zoë 李雷 🚀", "manager" => nil, "tags" => ["a", "b"], "score" => 1.25, "big" => 18446744073709551617}
reply = GenServer.call({:jsjson, js}, %{"user" => user, "op" => "greet"}, 30_000)
expected = %{"greeting" => "hello Zoë 李雷 🚀", "manager" => nil, "tags" => 2, "score" => 2.5, "big" => 18446744073709551618, "op" => "greet"}
IO.puts("jsjson: " <> if(reply === expected, do: "ok", else: inspect(reply)))

arg = %{"a" => nil, "list" => [1, nil, "x"], "n" => 7, "atom_value" => :active}
shape = :rpc.call(js, JsJson, :shape, [arg], 30_000)
expected_shape = %{"keys" => ["a", "atom_value", "list", "n"], "nulls" => 2, "echo" => %{arg | "atom_value" => "active"}}
IO.puts("shape: " <> if(shape === expected_shape, do: "ok", else: inspect(shape)))

receive do
  "done" -> IO.puts("done: ok")
after
  120_000 -> exit(:timeout)
end
`;

if (host) describe(`JSON mode with ${label}`, { skip: skipUnlessEnv(!hasElixir && 'elixir is not installed') }, () => {
  let p: Peers;
  before(async () => {
    p = await startPeers(host, { erlAlive: 'erljson', jsAlive: 'jsjson' });
  });
  after(async () => {
    await p?.stop();
  });

  test(`${label}: a 600-order JSON payload round-trips through an Elixir GenServer; Elixir calls JSON-mode JS handlers`, async () => {
    const box = p.node.spawn({ json: true });
    box.register('jsjsonbox');
    const srv = p.node.serve(
      'jsjson',
      {
        call: (req) => {
          const { user, op } = req as { user: { name: string; manager: null; tags: string[]; score: number; big: bigint }; op: string };
          return { greeting: `hello ${user.name}`, manager: user.manager, tags: user.tags.length, score: user.score * 2, big: user.big + 1n, op, debug: undefined };
        },
      },
      { json: true },
    );
    p.node.handleRpc(
      'Elixir.JsJson',
      'shape',
      ([arg]) => {
        const o = arg as Record<string, JsonTerm>;
        return { keys: Object.keys(o).sort(), nulls: Object.values(o).filter((v) => v === null).length + (o.list as JsonTerm[]).filter((v) => v === null).length, echo: o, skipped: undefined };
      },
      { json: true },
    );
    try {
      const exName = `exjson_${process.pid}@127.0.0.1`;
      const elixir = runElixir(p.epmd.port, exName, p.cookie, `System.put_env("JS_NODE", ${JSON.stringify(p.jsName)})\n${ELIXIR}`, 180_000);
      elixir.catch(() => {});
      const ready = await box.receive({ timeout: 120_000 });
      // A JSON process gets every message converted: atoms as strings, pids as they are.
      assert.ok(ready instanceof Tuple && ready.elements[0] === 'ready' && ready.elements[1] instanceof Pid, String(ready));

      const payload = apiPayload(600, 7, true);
      const r = (await p.node.call(['echo', exName], payload, { json: true, timeout: 60_000 })) as Record<string, JsonTerm>;
      const orders = payload.data as { items: { qty: number }[]; customer: { name: string; email: string | null }; note?: string }[];
      assert.deepEqual(r.echo, viaJson(payload));
      assert.equal(r.json, true, 'Elixir sees maps with binary keys, nil, numbers and binaries only');
      assert.equal(r.orders, 600);
      assert.equal(r.qty, orders.flatMap((o) => o.items).reduce((s, i) => s + i.qty, 0));
      assert.equal(r.prices_are_floats, true);
      assert.deepEqual(r.names, orders.slice(0, 8).map((o) => o.customer.name));
      assert.equal(r.nil_emails, orders.filter((o) => o.customer.email === null).length);
      assert.equal(r.without_note, orders.filter((o) => o.note === undefined).length);
      assert.equal(r.snowflake_plus_one, 18446744073709551618n);

      // An encode error on the way to a real peer names the field; the connection stays up.
      const bad = { items: [{ at: 1 }, { at: 2 }, { at: 3 }, { at: Symbol('x') }] };
      await assert.rejects(box.send(ready.elements[1] as Pid, bad), (e: unknown) => e instanceof EncodeError && e.path === '$.items[3].at' && /at \$\.items\[3\]\.at$/.test(e.message));
      await assert.rejects(p.node.call(['echo', exName], { ratio: NaN }, { json: true }), (e: unknown) => e instanceof EncodeError && e.path === '$.ratio');

      await box.send(ready.elements[1] as Pid, 'done'); // a JSON process sends strings as binaries
      const out = await elixir;
      assert.match(out, /^jsjson: ok$/m, out);
      assert.match(out, /^shape: ok$/m, out);
      assert.match(out, /^done: ok$/m, out);
    } finally {
      box.close();
      srv.stop();
      p.node.handleRpc('Elixir.JsJson', 'shape', undefined);
    }
  });
});

for (const otp of otpMatrix()) {
  describe(`JSON mode node-wide with ${otp.label}`, () => {
    let p: Peers;
    before(async () => {
      p = await startPeers(otp, { erlAlive: 'erljsonm', jsAlive: 'jsjsonm', node: { json: true } });
    });
    after(async () => {
      await p?.stop();
    });

    test(`${otp.label}: a node started with json: true sends and gets JSON through rpc; json: false still gives terms`, async () => {
      const payload = apiPayload(300, 3, true);
      // Types follow the call's own json option; the node-wide mode changes the values only.
      assert.deepEqual(await p.node.rpc(p.erlName, 'erlang', 'hd', [[payload]] as Term[]), viaJson(payload));
      const lossless = await p.node.rpc(p.erlName, 'erlang', 'hd', [[{ a: 1 }]], { json: false });
      assert.ok(lossless instanceof Map, 'json: false: the lossless term (a map with an atom key)');
      // Erlang sees #{<<"b">> => nil, <<"s">> => <<"Zoë"/utf8>>} (terms pass through fromJson as they are).
      const exact = new Map<Term, Term>([[Buffer.from('b'), atom('nil')], [Buffer.from('s'), Buffer.from('Zoë')]]);
      assert.equal(await p.node.rpc(p.erlName, 'erlang', '=:=', [{ b: null, s: 'Zoë', u: undefined }, exact], { json: true }), true);
      assert.equal(await p.node.rpc(p.erlName, 'erlang', '=:=', [{ b: null }, { b: null }], { json: { keys: 'atom' } }), true);
      assert.equal(await p.node.rpc(p.erlName, 'erlang', '=:=', [{ b: null }, new Map<Term, Term>([[atom('b'), atom('nil')]])], { json: { keys: 'atom' } }), true);
      // Encode errors name the caller's field, not a place in rex's or gen_server's envelope.
      const named = (path: string) => (e: unknown) => e instanceof EncodeError && e.path === path && e.message.endsWith(` at ${path}`);
      await assert.rejects(p.node.rpc(p.erlName, 'erlang', 'display', [1, { items: [{}, { at: undefined }] }] as never, { json: false }), named('$[1].items[1].at'));
      await assert.rejects(p.node.rpc(p.erlName, 'erlang', 'display', [{ when: new Date(0), n: -Infinity }] as unknown as Term[]), named('$[0].n')); // node-wide JSON: the Date is fine
      await assert.rejects(p.node.call(['no_server', p.erlName], { q: { r: Symbol('s') } }, { json: true }), named('$.q.r'));
      await assert.rejects(p.node.cast(['no_server', p.erlName], { list: [1, () => 2] }, { json: true }), named('$.list[1]'));
    });

    // OTP's json module exists since OTP 27 (the host's OTP 25 is covered by Elixir above).
    if (Number(otp.release) >= 27)
    test(`${otp.label}: OTP's json module reads our terms as the JSON we meant and its terms read back as the same values`, async () => {
      const payload = apiPayload(300, 5);
      const expected = viaJson(payload);
      // json:encode/1 of the terms JSON mode sends (null as the atom null, as OTP's json writes it).
      const iodata = await p.node.rpc(p.erlName, 'json', 'encode', [payload], { json: { null: 'null' } });
      assert.deepEqual(JSON.parse(flatten(iodata).toString('utf8')), expected);
      // json:decode/1 gives maps with binary keys and the atom null: JSON mode reads them back.
      assert.deepEqual(await p.node.rpc(p.erlName, 'json', 'decode', [JSON.stringify(payload)]), expected);
    });
  });
}

/** iodata as JSON mode gives it (strings, byte numbers, Buffers, nested and improper lists) → the bytes. */
function flatten(x: JsonTerm): Buffer {
  const parts: Buffer[] = [];
  const walk = (v: JsonTerm): void => {
    if (typeof v === 'string') parts.push(Buffer.from(v, 'utf8'));
    else if (typeof v === 'number') parts.push(Buffer.from([v]));
    else if (Buffer.isBuffer(v)) parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v instanceof ImproperList) [...v.elements, v.tail].forEach((e) => walk(e as JsonTerm)); // [Bin | <<"tail">>]
    else throw new Error(`not iodata: ${String(v)}`);
  };
  walk(x);
  return Buffer.concat(parts);
}
