/**
 * The cluster test rig: Kubernetes pods as Linux network namespaces (root only).
 *
 * Namespaces are named `<id>-…`, where id = `<name>-<owner pid in base 36>` (rigId):
 *   <id>-node      a bridge `br0`, the "node" every pod's veth is plugged into (no address: not routed)
 *   <id>-dns       the cluster DNS: real dnsmasq on <subnet>.2:53, records as CoreDNS would serve them
 *   <id>-probe     a pod with no app (<subnet>.3) where tests run commands (`exec`) or an erl (`startErl`)
 *   <id>-pod<i>    one per pod (<subnet>.<11+i>): kubelet-style /etc/hosts and /etc/resolv.conf, its own
 *                  UTS hostname, a real epmd on 4369 and `erl -name <alive>` as the app
 *
 * Nothing is added to the root namespace: veth pairs are created inside `<id>-node` with the peer
 * moved straight into the pod, and no namespace has a route out. `ip netns exec` bind-mounts
 * /etc/netns/<ns>/{hosts,resolv.conf} over /etc; `unshare --uts` + `hostname` gives each pod its name.
 * Every process is started by the rig and stopped by its pid in `destroy()` (`ip netns pids` as a
 * safety net); `createCluster` first removes leftovers of crashed runs (same name, owner pid gone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErlNode, hostOtp, sleep, type ErlNodeOptions, type Otp } from '../support/otp.js';
import {
  dnsmasqConfig, kubeletHostname, kubeletHostsFile, podResolvConf, podSelfFqdn, reverseZoneOf24,
  type DnsMode, type PlacedPod, type PodSpec, type ServiceModel, type ServicePort,
} from './k8s-model.js';
import { NETNS_ETC_DIR, ip, listNetns, removeNetns, run, type RunResult } from './netns.js';

export type { DnsMode, PodSpec, ServicePort } from './k8s-model.js';

/** How a pod's app node is named: `-name <alive>` (FQDN from /etc/hosts), `-name <alive>@<ip>`, `-sname <alive>`. */
export type NameMode = 'name' | 'ip' | 'sname';

export interface ErlAppSpec {
  /** The part before `@`, e.g. `myapp`. */
  alive: string;
  cookie: string;
  nameMode: NameMode;
  /** Extra erl arguments. */
  args?: string[];
}

export interface ClusterPodSpec extends PodSpec {
  /** Per-pod changes to the cluster's erl app (e.g. another cookie), or false for no erl here. */
  erl?: Partial<ErlAppSpec> | false;
  /** false: no epmd (and so no erl) in this pod, a host whose port 4369 refuses. Default true. */
  epmd?: false;
}

export interface ClusterOptions {
  /** The rig's name (lowercase letters, digits, `-`), unique among the rigs of one process; see rigId. */
  name: string;
  /** A private /24 that exists only inside the rig's namespaces, e.g. `10.231.7.0/24`. */
  subnet: string;
  namespace?: string;
  service?: string;
  clusterDomain?: string;
  publishNotReadyAddresses?: boolean;
  /** The service's ports (default one TCP port `epmd` 4369); `[]` = no SRV records. */
  ports?: ServicePort[];
  /** false: a ClusterIP service at <subnet>.4 (SRV targets the service name itself). Default true. */
  headless?: boolean;
  pods: ClusterPodSpec[];
  /** The probe pod (never in DNS): default `{ podName: 'beamnode-probe' }`; a subdomain gives it an FQDN. */
  probePod?: Omit<PodSpec, 'ready'>;
  dnsMode?: DnsMode;
  /** The app every pod runs; false (or absent) starts only epmd in the pods. */
  erl?: ErlAppSpec | false;
  /** false: the rig starts no epmd in the pods (their app brings its own, e.g. a container). Default true. */
  podEpmd?: boolean;
  /** The OTP the pods run (default the host's; a chroot OTP sees the pod's hosts/resolv.conf through an overlay). */
  otp?: Otp;
  /** Bound for each start-up step (erl, epmd, dnsmasq), default 20000 ms. */
  timeoutMs?: number;
  /**
   * IPv6 for the pods: each gets `<prefix><11+i>` (the probe `<prefix>3`) on eth0 besides its IPv4
   * address. DNS serves A and AAAA (dual stack), or with `only` AAAA alone and dashed-IPv6 endpoint
   * names, and the kubelet's hosts line carries the IPv6 address (IPv6-only cluster; the IPv4
   * addresses stay on the links but no name leads to them). Example prefix: `fd00:231:81::`.
   */
  ipv6?: { prefix: string; only?: boolean };
}

export interface ClusterPod {
  readonly spec: ClusterPodSpec;
  readonly podName: string;
  readonly netns: string;
  readonly ip: string;
  /** UTS hostname (spec.hostname or the pod name, at most 63 characters). */
  readonly hostname: string;
  /** What `hostname -f` gives: the FQDN line of /etc/hosts, or undefined without a subdomain. */
  readonly selfFqdn: string | undefined;
  /** The node name the app should have taken (undefined when it cannot start: `-name` with no FQDN). */
  readonly expectedNodeName: string | undefined;
  /** The pod's IPv6 address (ClusterOptions.ipv6). */
  readonly ip6?: string;
  /** The running app node, if it started. */
  erl?: ErlNode;
  /** Why the app node did not start (e.g. "Can't set long node name!"). */
  erlError?: string;
}

export interface DnsChange {
  mode?: DnsMode;
  ports?: ServicePort[];
  headless?: boolean;
  publishNotReadyAddresses?: boolean;
  /** Pod name → Ready. */
  ready?: Record<string, boolean>;
}

export interface ExecOptions {
  /** A pod name to run in; default the probe pod. */
  pod?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export interface StartErlOptions extends Omit<ErlNodeOptions, 'wrap' | 'epmdPort'> {
  /** A pod name to run in; default the probe pod. */
  pod?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;
const PROBE_HOSTNAME = 'beamnode-probe';
// Sets the UTS hostname (we are inside `unshare --uts`), then becomes the command: pids stay the command's.
const HOSTNAME_THEN_EXEC = 'hostname "$1" || exit 125; shift; exec "$@"';
// The same for a chroot OTP, whose /etc is not the one `ip netns exec` bind-mounted over: a read-only
// overlay puts the pod's files ($3) over the root's /etc ($2/etc). The roots have no /etc/hosts to
// bind onto, and the overlay lives only in this mount namespace (ip netns exec made it a slave).
const HOSTNAME_OVERLAY_THEN_EXEC =
  'hostname "$1" || exit 125; mount -t overlay beamnode-pod-etc -o "lowerdir=$3:$2/etc" "$2/etc" || exit 125; ' +
  'shift 3; exec "$@"';

/**
 * A rig's id, `<name>-<owner pid, base 36>`, prefixes its namespaces (`<id>-node`, `<id>-pod0`, …).
 * The owner pid keeps concurrent runs of the same tests (another clone, CI) apart, and tells a
 * crashed run's leftovers (owner gone) from a live rig.
 */
export function rigId(name: string, ownerPid = process.pid): string {
  if (!NAME_RE.test(name)) throw new Error(`bad rig name ${JSON.stringify(name)}`);
  return `${name}-${ownerPid.toString(36)}`;
}

const MEMBER = '(node|dns|probe|pod\\d+)';

/** Whether a process exists (owner checks for leftovers of crashed runs). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes one rig's namespaces (killing what runs inside), /etc/netns folders and tmp folders. */
export function removeRig(id: string): string[] {
  const re = new RegExp(`^${id}-${MEMBER}$`);
  const gone = listNetns().filter((ns) => re.test(ns));
  // Pods first: deleting them drops their veths before the node (bridge) namespace goes.
  for (const ns of gone.sort((a, b) => Number(a.endsWith('-node')) - Number(b.endsWith('-node')))) removeNetns(ns);
  for (const d of readdirSync(tmpdir())) {
    if (d.startsWith(`beamnode-rig-${id}-`)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  return gone;
}

/**
 * Removes what crashed runs of rigs with this name left behind: every `<name>-<pid>-…` namespace
 * whose owner pid is gone (all of them with `all: true`, which would also pull a live run's pods away).
 */
export function cleanupLeftovers(name: string, o: { all?: boolean } = {}): string[] {
  rigId(name); // validates the name
  const re = new RegExp(`^${name}-([0-9a-z]+)-${MEMBER}$`);
  const owners = new Set<string>();
  for (const ns of listNetns()) {
    const m = re.exec(ns);
    if (m) owners.add(m[1]);
  }
  for (const d of readdirSync(tmpdir())) {
    const m = new RegExp(`^beamnode-rig-${name}-([0-9a-z]+)-[^-]+$`).exec(d);
    if (m) owners.add(m[1]);
  }
  const gone: string[] = [];
  for (const tag of owners) {
    if (o.all || !pidAlive(parseInt(tag, 36))) gone.push(...removeRig(`${name}-${tag}`));
  }
  return gone;
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, ms);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

export class Cluster {
  readonly pods: ClusterPod[];
  /** The service as DNS serves it now (updateDns changes it). */
  svc: ServiceModel;
  readonly dns: { readonly netns: string; readonly ip: string };
  readonly probe: {
    readonly netns: string; readonly ip: string; readonly hostname: string; readonly ip6?: string;
    /** `hostname -f` in the probe pod, when probePod has a subdomain. */
    readonly selfFqdn: string | undefined;
  };
  readonly nodeNetns: string;
  /** `<name>-<owner pid>`: the prefix of every namespace of this rig. */
  readonly id: string;
  /** Where the rig keeps dnsmasq's config and query log. */
  readonly dir: string;
  private mode: DnsMode;
  private readonly children = new Set<ChildProcess>();
  private readonly erls = new Set<ErlNode>();
  private readonly epmds = new Map<string, ChildProcess>();
  private dnsmasq: ChildProcess | undefined;
  private readonly readiness = new Map<string, boolean>();
  private destroyed = false;

  /** Use createCluster(). */
  private constructor(readonly options: ClusterOptions, readonly otp: Otp) {
    const { name, subnet } = options;
    const base = subnet.replace(/\.0\/24$/, '');
    this.svc = {
      namespace: options.namespace ?? 'default',
      service: options.service ?? 'myapp-headless',
      clusterDomain: options.clusterDomain ?? 'cluster.local',
      publishNotReadyAddresses: options.publishNotReadyAddresses,
      ports: options.ports,
      headless: options.headless,
      clusterIP: `${base}.4`,
    };
    this.mode = options.dnsMode ?? 'default';
    this.id = rigId(name);
    this.nodeNetns = `${this.id}-node`;
    this.dns = { netns: `${this.id}-dns`, ip: `${base}.2` };
    const probePod = options.probePod ?? { podName: PROBE_HOSTNAME };
    const v6 = options.ipv6?.prefix;
    this.probe = {
      netns: `${this.id}-probe`, ip: `${base}.3`, hostname: kubeletHostname(probePod), selfFqdn: podSelfFqdn(probePod, this.svc),
      ...(v6 ? { ip6: `${v6}3` } : {}),
    };
    this.pods = options.pods.map((spec, i) => {
      const ip = `${base}.${11 + i}`;
      const hostname = kubeletHostname(spec);
      const selfFqdn = podSelfFqdn(spec, this.svc);
      const app = this.appSpec(spec);
      let expectedNodeName: string | undefined;
      if (app?.nameMode === 'ip') expectedNodeName = `${app.alive}@${ip}`;
      else if (app?.nameMode === 'sname') expectedNodeName = `${app.alive}@${hostname}`;
      else if (app && selfFqdn) expectedNodeName = `${app.alive}@${selfFqdn}`;
      return { spec, podName: spec.podName, netns: `${this.id}-pod${i}`, ip, hostname, selfFqdn, expectedNodeName, ...(v6 ? { ip6: `${v6}${11 + i}` } : {}) };
    });
    this.dir = mkdtempSync(join(tmpdir(), `beamnode-rig-${this.id}-`));
  }

  /** The DNS mode dnsmasq serves now. */
  get dnsMode(): DnsMode {
    return this.mode;
  }

  /** A pod by its pod name. */
  pod(podName: string): ClusterPod {
    const p = this.pods.find((x) => x.podName === podName);
    if (!p) throw new Error(`no pod ${podName} in the rig`);
    return p;
  }

  /** The placed pods as the DNS model sees them (readiness as set by setPodReady). */
  placedPods(): PlacedPod[] {
    return this.pods.map((p) => ({ ...p.spec, ready: this.readiness.get(p.podName) ?? p.spec.ready, ip: p.ip, ...(p.ip6 ? { ip6: p.ip6 } : {}) }));
  }

  private appSpec(spec: ClusterPodSpec): ErlAppSpec | undefined {
    if (!this.options.erl || spec.erl === false) return undefined;
    return { ...this.options.erl, ...(spec.erl ?? {}) };
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    if (!NAME_RE.test(options.name)) throw new Error(`bad rig name ${JSON.stringify(options.name)}`);
    reverseZoneOf24(options.subnet); // validates the subnet
    if (options.pods.length > 200) throw new Error('at most 200 pods');
    cleanupLeftovers(options.name);
    const id = rigId(options.name);
    if (listNetns().some((ns) => ns.startsWith(`${id}-`))) throw new Error(`rig ${options.name} already runs in this process`);
    const c = new Cluster(options, options.otp ?? hostOtp());
    try {
      c.network();
      await c.startDnsmasq();
      const withEpmd = options.podEpmd === false ? [] : c.pods.filter((p) => p.spec.epmd !== false);
      await Promise.all(withEpmd.map((p) => c.startEpmd(p.netns, p.hostname)));
      await Promise.all(c.pods.filter((p) => p.spec.epmd !== false).map((p) => c.startApp(p)));
      return c;
    } catch (e) {
      await c.destroy();
      throw e;
    }
  }

  /** Namespaces, bridge, veths, addresses and the per-namespace /etc files. */
  private network(): void {
    ip('netns', 'add', this.nodeNetns);
    ip('-n', this.nodeNetns, 'link', 'set', 'lo', 'up');
    ip('-n', this.nodeNetns, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.nodeNetns, 'link', 'set', 'br0', 'up');
    const resolv = podResolvConf(this.dns.ip, this.svc);
    const only6 = this.options.ipv6?.only === true;
    // The kubelet writes the pod's first IP: the IPv6 one in an IPv6-only cluster.
    const hostsIp = (ip: string, ip6: string | undefined) => (only6 && ip6 ? ip6 : ip);
    const members: { ns: string; ifName: string; ip: string; ip6?: string; hosts: string }[] = [
      { ns: this.dns.netns, ifName: 'dns', ip: this.dns.ip, hosts: `127.0.0.1\tlocalhost\n` },
      {
        ns: this.probe.netns, ifName: 'probe', ip: this.probe.ip, ip6: this.probe.ip6,
        hosts: kubeletHostsFile({ ...(this.options.probePod ?? { podName: PROBE_HOSTNAME }), ip: hostsIp(this.probe.ip, this.probe.ip6) }, this.svc),
      },
      ...this.pods.map((p, i) => ({
        ns: p.netns, ifName: `p${i}`, ip: p.ip, ip6: p.ip6, hosts: kubeletHostsFile({ ...p.spec, ip: hostsIp(p.ip, p.ip6) }, this.svc),
      })),
    ];
    for (const m of members) {
      const etc = join(NETNS_ETC_DIR, m.ns);
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'hosts'), m.hosts);
      writeFileSync(join(etc, 'resolv.conf'), resolv);
      ip('netns', 'add', m.ns);
      ip('-n', m.ns, 'link', 'set', 'lo', 'up');
      ip('-n', this.nodeNetns, 'link', 'add', m.ifName, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.ns);
      ip('-n', this.nodeNetns, 'link', 'set', m.ifName, 'master', 'br0', 'up');
      ip('-n', m.ns, 'addr', 'add', `${m.ip}/24`, 'dev', 'eth0');
      // nodad: the address is usable at once (no duplicate address detection wait).
      if (m.ip6) ip('-n', m.ns, 'addr', 'add', `${m.ip6}/64`, 'dev', 'eth0', 'nodad');
      ip('-n', m.ns, 'link', 'set', 'eth0', 'up');
    }
  }

  private nsOf(pod: string | undefined): { netns: string; hostname: string } {
    if (pod === undefined) return { netns: this.probe.netns, hostname: this.probe.hostname };
    const p = this.pod(pod);
    return { netns: p.netns, hostname: p.hostname };
  }

  private prefix(netns: string, hostname: string): string[] {
    return this.otp.root
      ? ['ip', 'netns', 'exec', netns, 'unshare', '--uts', 'sh', '-c', HOSTNAME_OVERLAY_THEN_EXEC, 'sh', hostname,
        this.otp.root, join(NETNS_ETC_DIR, netns)]
      : ['ip', 'netns', 'exec', netns, 'unshare', '--uts', 'sh', '-c', HOSTNAME_THEN_EXEC, 'sh', hostname];
  }

  private spawnTracked(argv: string[], logFile?: string): ChildProcess {
    const [cmd, ...args] = argv;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    const out: string[] = [];
    const keep = (d: Buffer) => { if (out.length < 200) out.push(d.toString('utf8')); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', () => {
      this.children.delete(child);
      if (!logFile) return;
      try { writeFileSync(logFile, out.join(''), { flag: 'a' }); } catch { /* the rig's folder is gone */ }
    });
    return child;
  }

  private async stopChild(child: ChildProcess | undefined): Promise<void> {
    if (!child) return;
    child.kill('SIGTERM');
    await waitExit(child, 3000);
    this.children.delete(child);
  }

  /** Polls a check (bounded: ~timeoutMs) until it is true; throws with `what` otherwise. */
  private async until(what: string, check: () => Promise<boolean>, alive: () => boolean): Promise<void> {
    const deadline = Date.now() + (this.options.timeoutMs ?? 20_000);
    for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
      if (!alive()) throw new Error(`${what}: the process exited`);
      if (await check()) return;
      await sleep(100);
    }
    throw new Error(`${what}: not ready in time`);
  }

  private async startDnsmasq(): Promise<void> {
    const conf = join(this.dir, 'dnsmasq.conf');
    writeFileSync(conf, dnsmasqConfig({
      svc: this.svc, pods: this.placedPods(), mode: this.mode, listenIp: this.dns.ip,
      reverseZone: reverseZoneOf24(this.options.subnet), ipv6Only: this.options.ipv6?.only === true,
    }));
    const child = this.spawnTracked([
      'ip', 'netns', 'exec', this.dns.netns, 'dnsmasq', '--keep-in-foreground', `--conf-file=${conf}`,
      `--pid-file=${join(this.dir, 'dnsmasq.pid')}`, '--log-queries', `--log-facility=${join(this.dir, 'dnsmasq.log')}`,
    ], join(this.dir, 'dnsmasq.out'));
    this.dnsmasq = child;
    // Any answer (NXDOMAIN included) means it serves; dig exits 9 when nobody answers.
    await this.until('dnsmasq', async () => {
      const r = await run(['ip', 'netns', 'exec', this.dns.netns, 'dig', `@${this.dns.ip}`, '+time=1', '+tries=1',
        `${this.svc.service}.${this.svc.namespace}.svc.${this.svc.clusterDomain}`, 'A'], { timeoutMs: 5000 });
      return r.code === 0;
    }, () => child.exitCode === null && child.signalCode === null);
  }

  /**
   * Changes what the cluster DNS serves (CoreDNS mode, service shape, pod readiness), then restarts
   * dnsmasq: SIGHUP does not re-read `srv-host` lines.
   */
  async updateDns(change: DnsChange): Promise<void> {
    if (change.mode) this.mode = change.mode;
    const { ports, headless, publishNotReadyAddresses } = change;
    if (ports) this.svc = { ...this.svc, ports };
    if (headless !== undefined) this.svc = { ...this.svc, headless };
    if (publishNotReadyAddresses !== undefined) this.svc = { ...this.svc, publishNotReadyAddresses };
    for (const [podName, ready] of Object.entries(change.ready ?? {})) {
      this.pod(podName);
      this.readiness.set(podName, ready);
    }
    await this.stopChild(this.dnsmasq);
    this.dnsmasq = undefined;
    await this.startDnsmasq();
  }

  /** CoreDNS without or with `endpoint_pod_names` (updateDns({ mode })). */
  setDnsMode(mode: DnsMode): Promise<void> {
    return this.updateDns({ mode });
  }

  /** Marks a pod Ready or not: its DNS records come and go, as the EndpointSlice's would. */
  setPodReady(podName: string, ready: boolean): Promise<void> {
    return this.updateDns({ ready: { [podName]: ready } });
  }

  /** dnsmasq's query log (`--log-queries`): assert on what a client asked. */
  dnsLog(): string {
    try { return readFileSync(join(this.dir, 'dnsmasq.log'), 'utf8'); } catch { return ''; }
  }

  /** A real epmd on 4369 in a namespace (foreground, so its pid is ours). */
  private async startEpmd(netns: string, hostname: string): Promise<void> {
    if (this.epmds.has(netns)) return;
    const child = this.spawnTracked([...this.prefix(netns, hostname), 'epmd']);
    this.epmds.set(netns, child);
    child.on('exit', () => { if (this.epmds.get(netns) === child) this.epmds.delete(netns); });
    await this.until(`epmd in ${netns}`, async () => {
      const r = await run(['ip', 'netns', 'exec', netns, 'epmd', '-names'], { timeoutMs: 5000 });
      return r.code === 0;
    }, () => child.exitCode === null && child.signalCode === null);
  }

  private async startApp(p: ClusterPod): Promise<void> {
    const app = this.appSpec(p.spec);
    if (!app) return;
    const name = app.nameMode === 'ip' ? `${app.alive}@${p.ip}` : app.alive;
    try {
      p.erl = await this.startErl({
        pod: p.podName, name, sname: app.nameMode === 'sname', cookie: app.cookie, args: app.args,
        timeout: this.options.timeoutMs,
      });
    } catch (e) {
      p.erlError = e instanceof Error ? e.message : String(e);
    }
  }

  /**
   * Starts an erl in a pod (default: the probe pod) under the pod's hostname, hosts and resolv.conf,
   * registered with that pod's epmd (started on first use). Stopped by `destroy()` if not before.
   */
  async startErl(o: StartErlOptions = {}): Promise<ErlNode> {
    const { netns, hostname } = this.nsOf(o.pod);
    await this.startEpmd(netns, hostname);
    const { pod: _pod, ...rest } = o;
    const node = await ErlNode.start(this.otp, {
      ...rest,
      // A node that fails to start (e.g. no long name) must not leave erl_crash.dump in our cwd.
      env: { ERL_CRASH_DUMP_SECONDS: '0', ...(o.env ?? {}) },
      timeout: o.timeout ?? this.options.timeoutMs,
      // The rig's epmd is already up: erl must not daemonize one we could not stop by pid.
      args: ['-start_epmd', 'false', ...(o.args ?? [])],
      wrap: this.prefix(netns, hostname),
    });
    this.erls.add(node);
    return node;
  }

  /**
   * Runs a command in a pod (default: the probe pod) with the pod's hostname, hosts and resolv.conf.
   * Resolves with the exit code and output; SIGKILL at the timeout (default 30 s).
   */
  exec(argv: readonly string[], o: ExecOptions = {}): Promise<RunResult> {
    if (this.destroyed) return Promise.reject(new Error('the rig is destroyed'));
    const { netns, hostname } = this.nsOf(o.pod);
    return run([...this.prefix(netns, hostname), ...argv], {
      timeoutMs: o.timeoutMs, signal: o.signal, env: o.env, input: o.input,
      onSpawn: (child) => {
        this.children.add(child);
        child.on('exit', () => this.children.delete(child));
      },
    });
  }

  /** `dig` from the probe pod against the cluster DNS: the answer section's records, one per line. */
  async dig(name: string, type: 'A' | 'AAAA' | 'SRV' | 'PTR', extra: string[] = []): Promise<{ status: string; answers: string[] }> {
    const args = type === 'PTR' ? ['-x', name] : [name, type];
    const r = await this.exec(['dig', `@${this.dns.ip}`, '+time=2', '+tries=1', '+noall', '+answer', '+comments', ...extra, ...args], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`dig ${name} ${type} failed (${r.code}): ${r.stderr || r.stdout}`);
    const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? 'UNKNOWN';
    const answers = r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
    return { status, answers };
  }

  /** Stops every process the rig started (by pid), then removes namespaces, links and /etc/netns folders. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.erls].map((n) => n.stop()));
    await Promise.all([...this.children].map((c) => this.stopChild(c)));
    removeRig(this.id);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Builds a cluster (see the file comment). Call `destroy()` in `after()`: it also runs on failure here. */
export function createCluster(options: ClusterOptions): Promise<Cluster> {
  return Cluster.create(options);
}
