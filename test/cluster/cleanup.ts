/**
 * Removes cluster-rig leftovers by hand (after a killed test run):
 *
 *   sudo node --import tsx test/cluster/cleanup.ts            # every rig found (a <p>-node and a <p>-dns namespace)
 *   sudo node --import tsx test/cluster/cleanup.ts bnrig1 …   # only these rig names
 *
 * It kills the processes inside those namespaces, deletes them and their /etc/netns folders.
 * Do not run it while cluster tests are running: it would pull their pods away.
 */
import { cleanupLeftovers } from './rig.js';
import { listNetns, rigUnavailableReason } from './netns.js';

const reason = rigUnavailableReason();
if (reason) {
  console.error(reason);
  process.exit(2);
}
let names = process.argv.slice(2);
if (names.length === 0) {
  const all = new Set(listNetns());
  names = [...all].filter((n) => n.endsWith('-node')).map((n) => n.slice(0, -'-node'.length)).filter((p) => all.has(`${p}-dns`));
}
let removed = 0;
for (const name of names) {
  const gone = cleanupLeftovers(name);
  removed += gone.length;
  if (gone.length) console.log(`${name}: removed ${gone.join(' ')}`);
}
console.log(removed ? `removed ${removed} namespaces` : 'nothing to remove');
