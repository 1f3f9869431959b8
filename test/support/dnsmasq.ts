// dnsmasq as a test's DNS server (the cluster DNS a pod would ask), started and stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsClient } from '../../src/discovery/dns-client.js';
import { freePort, sleep } from './otp.js';

const DNSMASQ = '/usr/sbin/dnsmasq';

export interface Dnsmasq {
  /** `127.0.0.1:PORT` */
  nameserver: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A real dnsmasq on a free port of 127.0.0.1, configured by `conf(port, dir)` (`dir`: a temporary
 * folder for its files, removed by `stop()`), ready once it answers an A question for `readyName`.
 * Stopped by its pid. Runs as the caller; as root with `--user=root` so its files stay readable.
 */
export async function startDnsmasq(readyName: string, conf: (port: number, dir: string) => string, setup?: (dir: string) => void): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'beamnode-dnsmasq-'));
  setup?.(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'dnsmasq.conf'), conf(port, dir));
  const args = [
    '--keep-in-foreground',
    `--conf-file=${join(dir, 'dnsmasq.conf')}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--log-queries',
    `--log-facility=${join(dir, 'dnsmasq.log')}`,
    ...(process.getuid?.() === 0 ? ['--user=root'] : []), // files in our temp dir stay readable
  ];
  const child: ChildProcess = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it answers; bounded to 50 × 100 ms.
  const probe = new DnsClient({ nameserver: `127.0.0.1:${port}`, timeoutMs: 100, attempts: 1 });
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break;
    const l = await probe.lookup(`${readyName}.`, 'A');
    // Before dnsmasq binds, the query fails with ICMP port unreachable ('failed'): not ready yet.
    if (l.status !== 'timeout' && l.status !== 'failed') return { nameserver: `127.0.0.1:${port}`, dir, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`dnsmasq did not start: ${stderr}`);
}
