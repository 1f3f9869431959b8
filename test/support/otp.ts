/**
 * Real Erlang/OTP peers for the tests: which OTP installations to run against (the matrix), a
 * private epmd per test file, and erl nodes driven through their standard input.
 *
 * The matrix: the host's `erl` (OTP 25 on Debian bookworm) plus Debian roots made by debootstrap
 * (`.ci/prepare-otp-roots`) that hold other OTP releases, run with `chroot` (root only). The roots
 * share the host's network, so they talk to host processes on loopback.
 *
 *   BEAMNODE_OTP        comma list of `host` and/or root directories; default: host + every root
 *                       under BEAMNODE_OTP_ROOTS that has usr/bin/erl (roots only when we are root)
 *   BEAMNODE_OTP_ROOTS  where prepared roots live (default /var/cache/beamnode/otp)
 *
 * Every process started here is stopped by its pid (`stop()`), and every wait has a timeout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface Otp {
  /** OTP major release as `erlang:system_info(otp_release)` says, e.g. "25". */
  release: string;
  /** "OTP 25 (host)" or "OTP 27 (/var/cache/beamnode/otp/trixie)": put it in test names. */
  label: string;
  /** chroot directory, or undefined for the host's erl. */
  root?: string;
}

const DEFAULT_ROOTS = '/var/cache/beamnode/otp';

function releaseOf(root: string | undefined): string | undefined {
  const cmd = root ? 'chroot' : 'erl';
  const args = [
    ...(root ? [root, '/usr/bin/erl'] : []),
    '-noshell',
    '-eval',
    'io:format("~s", [erlang:system_info(otp_release)]), halt().',
  ];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 && /^\d+$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
}

let cached: Otp[] | undefined;

/** The OTP installations to test against, found once per process. */
export function otpMatrix(): Otp[] {
  if (cached) return cached;
  const isRoot = process.getuid?.() === 0;
  const spec = process.env.BEAMNODE_OTP;
  let entries: (string | undefined)[];
  if (spec) {
    entries = spec.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (s === 'host' ? undefined : s));
  } else {
    entries = [undefined];
    const base = process.env.BEAMNODE_OTP_ROOTS ?? DEFAULT_ROOTS;
    if (isRoot && existsSync(base)) {
      for (const d of readdirSync(base).sort()) {
        // .build-* are roots still being made by .ci/prepare-otp-roots.
        if (d.startsWith('.')) continue;
        const root = join(base, d);
        if (existsSync(join(root, 'usr/bin/erl'))) entries.push(root);
      }
    }
  }
  const out: Otp[] = [];
  for (const root of entries) {
    const release = releaseOf(root);
    if (!release) {
      if (spec) throw new Error(`BEAMNODE_OTP names ${root ?? 'host'}, but no working erl is there`);
      continue;
    }
    out.push({ release, root, label: `OTP ${release} (${root ?? 'host'})` });
  }
  cached = out;
  return out;
}

/** The host's OTP only (for tests that need just one real peer). */
export function hostOtp(): Otp {
  const host = otpMatrix().find((o) => !o.root);
  if (!host) throw new Error('no erl on the host: install erlang-nox (see README)');
  return host;
}

/** A folder both this process and the OTP's erl can read: `hostPath` here, `erlPath` as erl sees it. */
export function sharedTmpDir(otp: Otp): { hostPath: string; erlPath: string; remove(): void } {
  const base = otp.root ? join(otp.root, 'tmp') : tmpdir();
  mkdirSync(base, { recursive: true });
  const hostPath = mkdtempSync(join(base, 'beamnode-'));
  const erlPath = otp.root ? hostPath.slice(otp.root.length) : hostPath;
  return { hostPath, erlPath, remove: () => rmSync(hostPath, { recursive: true, force: true }) };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export interface Epmd {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** OTP's real epmd (the host's), in the foreground on a free port, bound to loopback. */
export async function startEpmd(): Promise<Epmd> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], { stdio: 'ignore' });
    // epmd has no readiness signal: poll its port (bounded).
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      if (await canConnect(port)) {
        return { port, pid: child.pid!, stop: async () => { child.kill('SIGTERM'); await waitExit(child, 3000); } };
      }
      await sleep(50);
    }
    child.kill('SIGKILL');
    await waitExit(child, 1000);
  }
  throw new Error('could not start epmd');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * SIGSTOP, then waits (bounded) until every thread of `pid` is really stopped: kill(2) only queues
 * the signal, and a busy thread of a multi-threaded erl can run a little longer (answer one more
 * request) before it takes it. Reads the state field of /proc/PID/task/TID/stat (Linux).
 */
export async function stopProcess(pid: number, ms = 5000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + ms;
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3); // after "pid (comm) "
      } catch {
        return 'T'; // a thread that ended meanwhile
      }
    });
    if (states.every((st) => st === 'T' || st === 't')) return;
    if (Date.now() > deadline) throw new Error(`pid ${pid} not stopped after ${ms} ms: thread states ${states.join('')}`);
    await sleep(10);
  }
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const s = connect({ port, host });
      const done = (ok: boolean) => { s.destroy(); resolve(ok); };
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
      s.setTimeout(1000, () => done(false));
    });
  });
}

export interface ErlNodeOptions {
  /** `-name` value (e.g. `a@127.0.0.1`), or with `sname: true` the `-sname` value. */
  name?: string;
  sname?: boolean;
  cookie?: string;
  /** Port of the epmd to register with (ERL_EPMD_PORT). */
  epmdPort?: number;
  /** Extra erl arguments (e.g. `['-hidden']`, `['-kernel', 'net_ticktime', '4']`). */
  args?: string[];
  env?: Record<string, string>;
  /** Startup timeout (ms), default 20000. */
  timeout?: number;
  /**
   * A command prefix erl runs under, e.g. `['ip', 'netns', 'exec', 'pod1']` (the cluster rig's
   * pods). The prefix must end by exec'ing its arguments, so the pid stays erl's own.
   */
  wrap?: string[];
}

export interface EvalResult {
  ok: boolean;
  /** `~0tp` of the value (or of `{Class, Reason}` on error). */
  text: string;
  /** term_to_binary of the value (or of `{Class, Reason, Stack}`). */
  etf: Buffer;
}

const MARK = '@@BEAMNODE@@';

// A read-eval loop over stdin. Each expression sequence ends with a dot; each answer is one line:
// MARK ok|error <base64 term_to_binary> <base64 UTF-8 ~0tp text>. Bindings persist between calls.
const LOOP = `
  Out = fun(Tag, V) ->
    T = unicode:characters_to_binary(io_lib:format("~0tp", [V])),
    io:put_chars(["${MARK} ", Tag, " ", base64:encode(term_to_binary(V)), " ", base64:encode(T), "\\n"])
  end,
  Loop = fun L(B) ->
    case io:parse_erl_exprs('') of
      {ok, Es, _} ->
        B2 = try erl_eval:exprs(Es, B) of {value, V, Bn} -> Out("ok", V), Bn
             catch C:E:S -> Out("error", {C, E, S}), B end,
        L(B2);
      {eof, _} -> halt();
      {error, E, _} -> Out("error", {parse, E}), L(B)
    end
  end,
  io:put_chars("${MARK} ready\\n"),
  Loop(erl_eval:new_bindings()).`;

/** A running erl node that evaluates what the test sends it. */
export class ErlNode {
  readonly pid: number;
  readonly output: string[] = [];
  private buf = '';
  private waiters: { resolve: (r: EvalResult | 'ready') => void; reject: (e: Error) => void }[] = [];
  private exited = false;
  private constructor(
    readonly otp: Otp,
    readonly name: string | undefined,
    private readonly child: ChildProcess,
  ) {
    this.pid = child.pid!;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onData(d));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => this.output.push(d));
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`erl ${name ?? ''} exited: ${this.log()}`));
    });
  }

  static async start(otp: Otp, o: ErlNodeOptions = {}): Promise<ErlNode> {
    const args = ['-noshell'];
    if (o.name) args.push(o.sname ? '-sname' : '-name', o.name);
    if (o.cookie) args.push('-setcookie', o.cookie);
    args.push(...(o.args ?? []), '-eval', LOOP);
    const erlCmd = otp.root ? ['chroot', otp.root, '/usr/bin/erl'] : ['erl'];
    const [cmd, ...full] = [...(o.wrap ?? []), ...erlCmd, ...args];
    const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(o.env ?? {}) };
    if (o.epmdPort) env.ERL_EPMD_PORT = String(o.epmdPort);
    const child = spawn(cmd, full, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const node = new ErlNode(otp, o.name, child);
    const t = o.timeout ?? 20_000;
    try {
      await withTimeout(node.next(), t, `erl ${o.name ?? ''} start`);
    } catch (e) {
      await node.stop();
      throw e;
    }
    return node;
  }

  private log(): string {
    // Head and tail: a failed start's cause comes first, newer OTPs append long crash reports.
    const all = this.output.join('');
    return all.length <= 3000 ? all : `${all.slice(0, 1000)}\n…\n${all.slice(-2000)}`;
  }

  private onData(d: string) {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.startsWith(MARK)) {
        this.output.push(line + '\n');
        continue;
      }
      const [, tag, etf, text] = line.split(' ');
      const w = this.waiters.shift();
      if (!w) continue;
      if (tag === 'ready') w.resolve('ready');
      else w.resolve({ ok: tag === 'ok', etf: Buffer.from(etf, 'base64'), text: Buffer.from(text, 'base64').toString('utf8') });
    }
  }

  private next(): Promise<EvalResult | 'ready'> {
    if (this.exited) return Promise.reject(new Error(`erl ${this.name ?? ''} has exited: ${this.log()}`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Evaluates Erlang expressions (a trailing dot is added if missing). Bindings persist. */
  async eval(expr: string, timeout = 20_000): Promise<EvalResult> {
    const e = expr.trim().endsWith('.') ? expr.trim() : expr.trim() + '.';
    const p = this.next();
    this.child.stdin!.write(e + '\n');
    const r = await withTimeout(p, timeout, `eval ${e.slice(0, 80)}`);
    return r as EvalResult;
  }

  /** Evaluates and returns the value's `~0tp` text; throws if the evaluation raised. */
  async evalText(expr: string, timeout?: number): Promise<string> {
    const r = await this.eval(expr, timeout);
    if (!r.ok) throw new Error(`erl raised: ${r.text}`);
    return r.text;
  }

  /** Everything the node wrote besides answers (logs, io:format output). */
  logText(): string {
    return this.output.join('');
  }

  /** Stops the node by its pid: SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
    await waitExit(this.child, 3000);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** Writes files into a folder erl can read and returns the folder as erl sees it. */
export function writeErlFiles(otp: Otp, files: Record<string, string>): { erlPath: string; hostPath: string; remove(): void } {
  const d = sharedTmpDir(otp);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d.hostPath, name), text);
  return d;
}
