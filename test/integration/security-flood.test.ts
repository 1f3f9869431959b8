// Pre-authentication flood: hundreds of connections that start a handshake and stall (a send_name
// cut short) cost at most maxInboundHandshakes slots, the rest are closed at once (BUSY), memory
// stays bounded, and a real erl gets in once the stalled ones time out (setupTime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { DistError } from '../../src/dist/errors.js';
import { TimeoutError } from '../../src/errors.js';
import { DistNetwork } from '../../src/dist/net/network.js';
import { register } from '../../src/epmd/client.js';
import { ErlNode, hostOtp, sleep, startEpmd } from '../support/otp.js';
import { gc, MiB } from '../fuzz/harness.js';

const otp = hostOtp();

test(`${otp.label}: 400 stalled handshakes hold at most maxInboundHandshakes slots; erl connects after they time out`, async () => {
  const epmd = await startEpmd();
  const net = new DistNetwork({ name: 'jsflood@127.0.0.1', cookie: 'flood_cookie', setupTime: 1500, maxInboundHandshakes: 32 });
  const port = await net.listen({ address: '127.0.0.1' });
  const reg = await register({ alive: 'jsflood', port, epmdPort: epmd.port, hidden: true });
  const sockets: Socket[] = [];
  let erl: ErlNode | undefined;
  try {
    let busy = 0;
    let timedOut = 0;
    net.on('handshakeFailed', (e) => {
      if (e instanceof DistError && e.code === 'BEAM_ERR_DIST_BUSY') busy++;
      else if (e instanceof TimeoutError && e.phase === 'handshake') timedOut++;
    });
    gc();
    const m0 = process.memoryUsage();
    // Each claims a 64 KiB send_name and sends 60 KiB of it: held until setupTime.
    const partial = Buffer.concat([Buffer.from([0xff, 0xff, 0x4e]), Buffer.alloc(60 * 1024, 0x41)]);
    for (let i = 0; i < 400; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(partial);
      sockets.push(s);
    }
    for (let i = 0; i < 100 && busy + 32 < 400; i++) await sleep(20);
    const m1 = process.memoryUsage();
    const grown = m1.heapUsed + m1.external + m1.arrayBuffers - (m0.heapUsed + m0.external + m0.arrayBuffers);
    console.log(`# flood: ${busy} refused at once, memory +${(grown / MiB).toFixed(1)} MiB while 32 are held`);
    assert.ok(busy >= 400 - 32, `${busy} connections refused as BUSY`);
    assert.ok(grown < 64 * MiB, `memory grew ${grown} bytes`);
    // The held ones time out (setupTime), then a real node gets in.
    for (let i = 0; i < 200 && timedOut < 32; i++) await sleep(25);
    assert.equal(timedOut, 32);
    erl = await ErlNode.start(otp, { name: 'erlflood@127.0.0.1', cookie: 'flood_cookie', epmdPort: epmd.port, args: ['-kernel', 'inet_dist_use_interface', '{127,0,0,1}'] });
    assert.equal(await erl.evalText(`net_kernel:connect_node('jsflood@127.0.0.1')`), 'true');
    assert.ok(net.get('erlflood@127.0.0.1'));
  } finally {
    for (const s of sockets) s.destroy();
    await erl?.stop();
    await reg.close();
    await net.close();
    await epmd.stop();
  }
});
