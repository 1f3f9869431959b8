// Fault: EPMD restarted under a running Node. epmd forgets a name when the registration socket
// closes; the Node registers again by itself (src/dist/net/epmd-keeper.ts), so a real erl that
// looks us up in the new epmd finds us and pings us.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { names } from '../../src/epmd/client.js';
import { Node } from '../../src/dist/node/node.js';
import { canConnect, ErlNode, hostOtp, sleep, startEpmd } from '../support/otp.js';

const otp = hostOtp();
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** OTP's epmd again on a given port (the one the node registered with), stopped by pid in after(). */
async function epmdOn(port: number): Promise<ChildProcess> {
  const child = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], { stdio: 'ignore' });
  started.push(child);
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) await sleep(50);
  assert.ok(await canConnect(port), `epmd on ${port} did not come up`);
  return child;
}

async function waitListed(port: number, alive: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const listed = await names('127.0.0.1', { port, timeout: 2000 }).catch(() => []);
    if (listed.some((e) => e.name === alive)) return true;
    await sleep(100);
  }
  return false;
}

test(`${otp.label}: EPMD killed and restarted: the Node registers again and erl can ping it`, async () => {
  const first = await startEpmd();
  const port = first.port;
  const node = await Node.start({ name: 'jsre@127.0.0.1', cookie: 'restart_cookie', epmd: { port }, listen: { address: '127.0.0.1' } });
  let erl: ErlNode | undefined;
  try {
    assert.ok(await waitListed(port, 'jsre'));
    const creation = node.creation;
    // SIGKILL: epmd gets no chance to do anything; the registration socket just dies.
    process.kill(first.pid, 'SIGKILL');
    await first.stop();
    await epmdOn(port);
    assert.ok(await waitListed(port, 'jsre'), 'the node registered again with the new epmd');
    assert.equal(node.creation, creation, 'the node keeps its creation (pids already handed out carry it)');
    erl = await ErlNode.start(otp, { name: 'erlre@127.0.0.1', cookie: 'restart_cookie', epmdPort: port });
    assert.equal(await erl.evalText(`net_adm:ping('jsre@127.0.0.1')`), 'pong');
    // And a second restart (the keeper watches each new registration).
    const second = started[started.length - 1];
    second.kill('SIGKILL');
    await new Promise((r) => second.once('exit', r));
    await epmdOn(port);
    assert.ok(await waitListed(port, 'jsre'), 'registered again after the second restart');
  } finally {
    await erl?.stop();
    await node.stop();
    await first.stop();
  }
  // After stop() the name is gone for good (no retry loop left behind).
  const last = started[started.length - 1];
  const listed = await names('127.0.0.1', { port, timeout: 2000 });
  assert.ok(!listed.some((e) => e.name === 'jsre'), JSON.stringify(listed));
  last.kill('SIGTERM');
});
