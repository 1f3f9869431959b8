// JSON mode between JS processes on one node (no peer: local sends are never encoded, so this is
// where fromJson/toJson alone decide what arrives): per process, per send, per call, per server,
// and node-wide with per-call opt-out. The wire and real peers: test/integration/node-json.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Node } from '../../src/dist/node/node.js';
import { Reference, Tuple, atom, type Term } from '../../src/etf/types.js';

const start = (name: string, json?: boolean) => Node.start({ name: `${name}@127.0.0.1`, cookie: 'json-test', epmd: { skip: true }, listen: { address: '127.0.0.1' }, json });

test('a JSON process gets JSON from a lossless sender, DOWN included; what it sends goes through fromJson', async () => {
  await using node = await start('jsonproc');
  const jp = node.spawn({ json: true });
  const plain = node.spawn();
  await plain.send(jp.pid, new Map<Term, Term>([[atom('user'), new Map<Term, Term>([[Buffer.from('name'), Buffer.from('Zoë')], [atom('boss'), atom('nil')]])]]));
  assert.deepEqual(await jp.receive({ timeout: 1000 }), { user: { name: 'Zoë', boss: null } });

  const watched = node.spawn();
  const ref = jp.monitor(watched.pid);
  watched.exit(atom('gone'));
  const down = await jp.receive({ timeout: 1000 });
  assert.ok(down instanceof Tuple);
  assert.equal(down.elements[0], 'DOWN');
  assert.ok(down.elements[1] instanceof Reference && ref.equals(down.elements[1]));
  assert.deepEqual([down.elements[2], down.elements[4]], ['process', 'gone']);

  await jp.send(plain.pid, { a: undefined, b: null, list: [undefined, 'x'] });
  const got = await plain.receive({ timeout: 1000 });
  assert.deepEqual([...(got as Map<Term, Term>)], [['b', atom('nil')], ['list', [atom('nil'), 'x']]]);
  // Per send: json: false sends the term as it is (an object with atom keys).
  await jp.send(plain.pid, { k: 1 }, { json: false });
  assert.deepEqual(await plain.receive({ timeout: 1000 }), { k: 1 });
});

test('a JSON gen_server and JSON calls: null/undefined both ways; a lossless caller sees binary keys and nil', async () => {
  await using node = await start('jsonsrv');
  const seen: unknown[] = [];
  node.serve(
    'users',
    {
      call: (req) => {
        seen.push(req);
        const r = req as { id: number; fields: string[] };
        return { id: r.id, name: 'Ann', manager: null, phone: undefined, fields: r.fields };
      },
      cast: (msg) => void seen.push(msg),
    },
    { json: true },
  );
  const reply = await node.call('users', { id: 7, fields: ['name'], trace: undefined, extra: null }, { json: true });
  assert.deepEqual(reply, { id: 7, name: 'Ann', manager: null, fields: ['name'] });
  assert.deepEqual(seen[0], { id: 7, fields: ['name'], extra: null });

  const raw = (await node.call('users', new Map<Term, Term>([['id', 8], ['fields', []]]))) as Map<Term, Term>;
  assert.ok(raw instanceof Map);
  assert.equal(raw.get('manager'), atom('nil'));
  assert.equal(raw.has('phone'), false);
  assert.deepEqual([...raw.keys()].sort(), ['fields', 'id', 'manager', 'name']);

  await node.cast('users', new Tuple([atom('note'), Buffer.from('hi')]));
  for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen[2], new Tuple(['note', 'hi']));
});

test('node-wide json: spawn, send and call default to JSON; json: false opts out', async () => {
  await using node = await start('jsonnode', true);
  assert.deepEqual(node.json, {});
  const p = node.spawn();
  const lossless = node.spawn({ json: false });
  // Types follow a call's own json option; node-wide, values are JSON but inputs are typed as terms.
  await node.send(p.pid, { a: null, skip: undefined } as unknown as Term);
  assert.deepEqual(await p.receive({ timeout: 1000 }), { a: null });
  await node.send(lossless.pid, { a: null } as unknown as Term);
  assert.deepEqual([...((await lossless.receive({ timeout: 1000 })) as Map<Term, Term>)], [['a', atom('nil')]]);
  node.serve('echo', { call: (req) => req });
  assert.deepEqual(await node.call('echo', { deep: [{ x: null, y: undefined }] } as unknown as Term), { deep: [{ x: null }] });
  const asTerm = await node.call('echo', { k: atom('v') }, { json: false });
  // The server is JSON (node default): it got {k: 'v'} and answered it through fromJson (binary keys).
  assert.deepEqual([...(asTerm as Map<Term, Term>)], [['k', 'v']]);
});
