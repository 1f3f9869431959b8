/**
 * Removes cluster-rig leftovers by hand (after a killed test run):
 *
 *   sudo node --import tsx test/cluster/cleanup.ts              # every rig whose owner process is gone
 *   sudo node --import tsx test/cluster/cleanup.ts bnrig1o25 …  # only rigs with these names
 *   sudo node --import tsx test/cluster/cleanup.ts --all [name…] # also rigs whose owner still runs
 *
 * Rig namespaces are `<name>-<owner pid, base 36>-(node|dns|probe|pod<i>)`. This kills the processes
 * inside them, deletes them and their /etc/netns and tmp folders. `--all` pulls running tests' pods away.
 */
import { cleanupLeftovers } from './rig.js';
import { listNetns, rigUnavailableReason } from './netns.js';

const reason = rigUnavailableReason();
if (reason) {
  console.error(reason);
  process.exit(2);
}
const all = process.argv.includes('--all');
let names = process.argv.slice(2).filter((a) => a !== '--all');
if (names.length === 0) {
  const found = new Set<string>();
  for (const ns of listNetns()) {
    const m = /^([a-z0-9][a-z0-9-]*)-[0-9a-z]+-(node|dns|probe|pod\d+)$/.exec(ns);
    if (m) found.add(m[1]);
  }
  names = [...found];
}
let removed = 0;
for (const name of names) {
  const gone = cleanupLeftovers(name, { all });
  removed += gone.length;
  if (gone.length) console.log(`${name}: removed ${gone.join(' ')}`);
}
console.log(removed ? `removed ${removed} namespaces` : 'nothing to remove');
