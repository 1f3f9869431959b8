/**
 * A pretend Kubernetes service on loopback, for `beamnode demo` and the probe's tests: needs no
 * root and no cluster, only `erl`. Each "pod" is a real erl node named like a Deployment pod with
 * `subdomain` (`myapp@<pod>.myapp-headless.default.svc.cluster.local`) listening on its own
 * loopback address (127.x.y.11, .12, …, via `inet_dist_use_interface`), with an embedded EPMD on
 * that address and a shared port, as every pod has its own EPMD on 4369. The cluster DNS is
 * `startClusterDns` (CoreDNS's answers, with or without endpoint_pod_names); the nodes resolve
 * through it too (an inetrc file), as pods do.
 *
 * erl always registers with the EPMD on 127.0.0.1, so the pods could not each have their own:
 * they run with a tiny `-epmd_module` that skips registration, and this module registers each
 * node's fixed dist port with the EPMD on the node's own address instead. Every process and
 * server started here is stopped by its pid / handle in `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import createDebug from 'debug';
import { startClusterDns, type ClusterDns } from './dns-server.js';
import type { ClusterDnsModel } from './cluster-dns.js';
import { register, type EpmdRegistration } from '../epmd/client.js';
import { startEpmdServer, type EpmdServer } from '../epmd/server.js';
import { ProbeError } from '../probe/errors.js';

const log = createDebug('beamnode:probe:demo');

export interface DemoPodSpec {
  podName: string;
  /** Default true. */
  ready?: boolean;
  /** Another cookie than the cluster's (to show a cookie mismatch). */
  cookie?: string;
  /** Start no erl here (an EPMD that lists nothing). Default true. */
  erl?: boolean;
  /** Start no EPMD (nor erl) here: a host whose EPMD is unreachable. Default true. */
  epmd?: boolean;
  /** The node's name; default `myapp@<pod>.<svc>.<ns>.svc.cluster.local`. */
  nodeName?: string;
}

export interface DemoClusterOptions {
  /** The first three octets of the pods' loopback addresses (default `127.77.0`); pods get .11, .12, … */
  net?: string;
  service?: string;
  namespace?: string;
  alive?: string;
  pods?: DemoPodSpec[];
  /** Default: a random cookie (never printed). */
  cookie?: string;
  endpointPodNames?: boolean;
  /** The erl executable (default `erl` from PATH). */
  erl?: string;
  /** Bound for each start-up step, ms (default 20000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DemoPod {
  podName: string;
  ip: string;
  fqdn: string;
  nodeName: string;
  distPort: number;
  pid: number | undefined;
}

const DEFAULT_PODS: DemoPodSpec[] = [{ podName: 'myapp-7d9f8b6c5-abcde' }, { podName: 'myapp-7d9f8b6c5-fghij' }, { podName: 'myapp-7d9f8b6c5-klmno' }];

const EPMD_MODULE = `%% beamnode demo: no EPMD registration from erl (it would always go to 127.0.0.1);
%% the demo registers this node with the EPMD on the pod's own address. Lookups are erl_epmd's.
-module(beamnode_demo_epmd).
-export([start_link/0, register_node/2, register_node/3, port_please/2, port_please/3,
         names/0, names/1, address_please/3, listen_port_please/2]).
start_link() -> erl_epmd:start_link().
register_node(Name, Port) -> register_node(Name, Port, inet_tcp).
register_node(_Name, _Port, _Family) -> {ok, 1 + erlang:phash2(erlang:monotonic_time(), 3)}.
port_please(Name, Host) -> erl_epmd:port_please(Name, Host).
port_please(Name, Host, Timeout) -> erl_epmd:port_please(Name, Host, Timeout).
names() -> erl_epmd:names().
names(Host) -> erl_epmd:names(Host).
address_please(Name, Host, Family) -> erl_epmd:address_please(Name, Host, Family).
listen_port_please(Name, Host) -> erl_epmd:listen_port_please(Name, Host).
`;

export class DemoCluster {
  readonly service: string;
  readonly namespace: string;
  readonly alive: string;
  readonly cookie: string;
  readonly epmdPort: number;
  readonly pods: DemoPod[] = [];
  /** The service's FQDN. */
  readonly serviceFqdn: string;
  dns!: ClusterDns;
  /** The search list a pod in the namespace has. */
  readonly search: string[];
  private model!: ClusterDnsModel;
  private readonly dir: string;
  private readonly children: ChildProcess[] = [];
  private readonly epmds: EpmdServer[] = [];
  private readonly registrations: EpmdRegistration[] = [];
  private stopped = false;

  private constructor(o: DemoClusterOptions & { net: string }, epmdPort: number) {
    this.service = o.service ?? 'myapp-headless';
    this.namespace = o.namespace ?? 'default';
    this.alive = o.alive ?? 'myapp';
    this.cookie = o.cookie ?? randomBytes(12).toString('hex');
    this.epmdPort = epmdPort;
    this.serviceFqdn = `${this.service}.${this.namespace}.svc.cluster.local`;
    this.search = [`${this.namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'];
    this.dir = mkdtempSync(join(tmpdir(), `beamnode-demo-${o.net}-`)); // the net in the name: concurrent demos tell theirs apart
  }

  /** Starts the DNS, one EPMD per pod address and the erl nodes; stops what started if anything fails. */
  static async start(o: DemoClusterOptions = {}): Promise<DemoCluster> {
    const net = o.net ?? '127.77.0';
    if (!/^127\.\d{1,3}\.\d{1,3}$/.test(net)) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `net ${net} must be three octets of 127/8, like 127.77.0`);
    const specs = o.pods ?? DEFAULT_PODS;
    const ips = specs.map((_, i) => `${net}.${11 + i}`);
    const epmdPort = await sharedFreePort(ips);
    const c = new DemoCluster({ ...o, net }, epmdPort);
    try {
      await c.boot(o, specs, ips);
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  private async boot(o: DemoClusterOptions, specs: DemoPodSpec[], ips: string[]): Promise<void> {
    const timeoutMs = o.timeoutMs ?? 20_000;
    const erl = o.erl ?? 'erl';
    const probe = spawnSync(erl, ['-noshell', '-eval', 'halt().'], { timeout: timeoutMs, stdio: 'ignore' });
    if (probe.error || probe.status !== 0)
      throw new ProbeError('BEAM_ERR_PROBE_DEMO', `the demo needs Erlang/OTP: \`${erl}\` did not run (${probe.error?.message ?? `exit ${probe.status}`}); install erlang (e.g. apt-get install erlang-nox)`);

    this.model = {
      zone: 'cluster.local',
      endpointPodNames: o.endpointPodNames ?? false,
      podsMode: 'insecure',
      services: [
        {
          name: this.service,
          namespace: this.namespace,
          headless: true,
          ports: [{ name: 'epmd', port: this.epmdPort, protocol: 'TCP' }],
          endpoints: specs.map((s, i) => ({ ip: ips[i], podName: s.podName, ready: s.ready ?? true })),
        },
      ],
    };
    this.dns = await startClusterDns({ address: '127.0.0.1', port: 0, ...this.model });

    // The EPMD module, compiled by the erl we run (no prebuilt .beam to match releases).
    writeFileSync(join(this.dir, 'beamnode_demo_epmd.erl'), EPMD_MODULE);
    const compile = spawnSync(erl, ['-noshell', '-eval', `case compile:file("beamnode_demo_epmd", [{outdir, "."}, report]) of {ok, _} -> halt(0); _ -> halt(1) end.`], {
      cwd: this.dir,
      timeout: timeoutMs,
      encoding: 'utf8',
    });
    if (compile.status !== 0) throw new ProbeError('BEAM_ERR_PROBE_DEMO', `could not compile the demo's EPMD module: ${compile.stdout}${compile.stderr}`);
    const inetrc = join(this.dir, 'inetrc');
    writeFileSync(
      inetrc,
      [
        '{resolv_conf, ""}.', // else inet_db reads /etc/resolv.conf too (OTP kernel inet_db.erl)
        '{hosts_file, ""}.',
        `{nameserver, {127,0,0,1}, ${this.dns.port}}.`,
        `{search, [${this.search.map((s) => `"${s}"`).join(', ')}]}.`,
        '{lookup, [dns]}.',
        '',
      ].join('\n'),
    );

    await Promise.all(
      specs.map(async (s, i) => {
        const ip = ips[i];
        const fqdn = `${s.podName}.${this.serviceFqdn}`;
        const nodeName = s.nodeName ?? `${this.alive}@${fqdn}`;
        const pod: DemoPod = { podName: s.podName, ip, fqdn, nodeName, distPort: 0, pid: undefined };
        this.pods[i] = pod;
        if (s.epmd === false) return;
        this.epmds.push(await startEpmdServer({ port: this.epmdPort, address: ip }));
        if (s.erl === false) return;
        pod.distPort = await freePortOn(ip);
        await this.startErl(erl, pod, s.cookie ?? this.cookie, inetrc, timeoutMs, o.signal);
        this.registrations.push(
          await register({ alive: nodeName.slice(0, nodeName.indexOf('@')), port: pod.distPort, host: ip, epmdPort: this.epmdPort, timeout: timeoutMs, signal: o.signal }),
        );
      }),
    );
    log('demo cluster up: %s', this.pods.map((p) => `${p.nodeName} ${p.ip}:${p.distPort}`).join(', '));
  }

  private async startErl(erl: string, pod: DemoPod, cookie: string, inetrc: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const iface = `{${pod.ip.split('.').join(',')}}`;
    const args = [
      '-noshell',
      '-name', pod.nodeName,
      '-setcookie', cookie,
      '-start_epmd', 'false',
      '-epmd_module', 'beamnode_demo_epmd',
      '-pa', this.dir,
      '-kernel', 'inet_dist_use_interface', iface, 'inet_dist_listen_min', String(pod.distPort), 'inet_dist_listen_max', String(pod.distPort),
      '-kernel', 'inetrc', `"${inetrc}"`,
      '-eval', 'io:format("beamnode-demo-up ~s~n", [node()]).',
    ];
    const child = spawn(erl, args, {
      env: { ...process.env, ERL_EPMD_PORT: String(this.epmdPort), ERL_CRASH_DUMP_SECONDS: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.push(child);
    pod.pid = child.pid;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
        if (e) reject(e);
        else resolve();
      };
      const onData = (b: Buffer) => {
        if (output.length < 16_384) output += b.toString();
        if (output.includes('beamnode-demo-up')) done();
      };
      const onExit = (code: number | null) => done(new ProbeError('BEAM_ERR_PROBE_DEMO', `erl for ${pod.nodeName} exited (${code}) at start-up: ${output.slice(0, 2000)}`));
      const onError = (e: Error) => done(new ProbeError('BEAM_ERR_PROBE_DEMO', `erl for ${pod.nodeName}: ${e.message}`, { cause: e }));
      const onAbort = () => done(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      const t = setTimeout(() => done(new ProbeError('BEAM_ERR_PROBE_DEMO', `erl for ${pod.nodeName} did not start within ${timeoutMs} ms: ${output.slice(0, 2000)}`)), timeoutMs);
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (b: Buffer) => {
        if (output.length < 16_384) output += b.toString();
      });
      child.once('exit', onExit);
      child.once('error', onError);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Switches CoreDNS's endpoint_pod_names (takes effect at once). */
  setEndpointPodNames(on: boolean): void {
    this.model = { ...this.model, endpointPodNames: on };
    this.dns.setModel(this.model);
  }

  /**
   * Kills one pod's erl (by its pid) but keeps its EPMD registration: EPMD still lists the node,
   * its distribution port refuses connections (as a NetworkPolicy that allows only 4369 would).
   */
  async killErl(podName: string): Promise<void> {
    const pod = this.pods.find((p) => p.podName === podName);
    const child = this.children.find((c) => c.pid !== undefined && c.pid === pod?.pid);
    if (!child) throw new ProbeError('BEAM_ERR_PROBE_USAGE', `no running erl in pod ${podName}`);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Writes the cookie to a file (mode 0600) in the cluster's folder, for commands run from elsewhere; removed by stop(). */
  cookieFile(): string {
    const file = join(this.dir, 'cookie');
    writeFileSync(file, this.cookie, { mode: 0o600 });
    return file;
  }

  /** Stops every erl (SIGTERM, then SIGKILL after 3 s), the registrations, the EPMDs and the DNS; removes the folder. Safe twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 3000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(this.registrations.map((r) => r.close().catch(() => {})));
    await Promise.all(this.epmds.map((e) => e.close().catch(() => {})));
    await this.dns?.close().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port free on every one of `ips` (the pods share the EPMD port, as every pod uses 4369). */
async function sharedFreePort(ips: string[]): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await freePortOn(ips[0]);
    const ok = await Promise.all(ips.slice(1).map((ip) => canListen(ip, port)));
    if (ok.every(Boolean)) return port;
  }
  throw new ProbeError('BEAM_ERR_PROBE_DEMO', `no port is free on all of ${ips.join(', ')}`);
}

function freePortOn(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (e) => reject(new ProbeError('BEAM_ERR_PROBE_DEMO', `cannot listen on ${ip}: ${e.message} (the demo uses 127/8 loopback addresses)`, { cause: e })));
    s.listen(0, ip, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function canListen(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, ip, () => s.close(() => resolve(true)));
  });
}
