/** Runs a file of examples/ as its own Node.js process (tsx) and watches its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './otp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  child: ChildProcess;
  out(): string;
  /** Resolves when stdout has a line matching `re`. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  exit: Promise<number | null>;
}

export function runExample(file: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = (re: RegExp, ms = 30_000) =>
    withTimeout(
      new Promise<string>((resolve) => {
        const check = () => {
          const m = out.match(re);
          if (m) resolve(m[0]);
          else waiters.push(check);
        };
        check();
      }),
      ms,
      `${file} output ${re} (got: ${out}${err})`,
    );
  return { child, out: () => out + err, waitFor, exit };
}
