/**
 * `--mesh`'s settle step against scripted nodes: when a pair is pang and global prevents
 * overlapping partitions, the cut comes only after global's own connection attempt fails (up to
 * net_setuptime later), so the nodes' connections are read until the cut shows, not merely until
 * two reads agree; without a pang, two equal reads end it as before. (A fresh-clone CI run once
 * read the mesh before global's cut and reported none.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atom, Tuple, type Term } from '../../src/etf/types.js';
import { settle, type Call } from '../../src/probe/mesh.js';
import type { MeshReport } from '../../src/probe/types.js';

const A = 'a@h1', B = 'b@h2', C = 'c@h3';
const chars = (s: string) => [...s].map((c) => c.codePointAt(0)!);

/** Nodes whose `nodes()` answer changes after `cutAfter` reads of a's list: a drops c. */
function scripted(o: { cutAfter: number; setupTime?: number }): { call: Call; reads: () => number } {
  let readsOfA = 0;
  const call: Call = async (on, m, f, args) => {
    if (m === 'erlang' && f === 'system_info') return chars('27');
    if (m === 'application' && f === 'get_env') {
      const key = (args[1] as { name: string }).name;
      if (key === 'net_setuptime' && o.setupTime !== undefined) return new Tuple([atom('ok'), o.setupTime]);
      return atom('undefined');
    }
    if (m === 'erlang' && f === 'nodes') {
      if (on === A) readsOfA++;
      const cut = readsOfA > o.cutAfter;
      const all: Record<string, string[]> = { [A]: cut ? [B] : [B, C], [B]: [A], [C]: cut ? [] : [A] };
      return all[on]!.map((n) => atom(n)) as Term;
    }
    throw new Error(`unexpected call ${m}:${f}`);
  };
  return { call, reads: () => readsOfA };
}

const pongs: MeshReport['matrix'] = [
  { from: A, to: B, result: 'pong' }, { from: A, to: C, result: 'pong' },
  { from: B, to: A, result: 'pong' }, { from: C, to: A, result: 'pong' },
];
const partial: MeshReport['matrix'] = [...pongs, { from: B, to: C, result: 'pang' }, { from: C, to: B, result: 'pang' }];

test('a pang pair with prevent_overlapping_partitions: reads go on until global cuts a pair that ponged', async () => {
  const s = scripted({ cutAfter: 5, setupTime: 3 });
  const nodes = await settle(s.call, [A, B, C], partial);
  assert.ok(s.reads() > 5, `read ${s.reads()} times`);
  assert.deepEqual(nodes.find((n) => n.name === A)?.connected, [B], 'the cut is in the snapshot');
  assert.equal(nodes[0]?.preventOverlappingPartitions, true, 'unset on OTP 27 means on');
});

test('no pang: two equal reads end it, a later change is not waited for', async () => {
  const s = scripted({ cutAfter: 5 });
  const nodes = await settle(s.call, [A, B, C], pongs);
  assert.equal(s.reads(), 2);
  assert.deepEqual(nodes.find((n) => n.name === A)?.connected, [B, C]);
});

test('a pang pair and no cut ever: it gives up after net_setuptime + 2 s', async () => {
  const s = scripted({ cutAfter: Infinity, setupTime: 1 });
  const nodes = await settle(s.call, [A, B, C], partial);
  assert.ok(s.reads() > 2 && s.reads() < 250, `read ${s.reads()} times: past two equal reads, and it ended`);
  assert.deepEqual(nodes.find((n) => n.name === A)?.connected, [B, C]);
});
