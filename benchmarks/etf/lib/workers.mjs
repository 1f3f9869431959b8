// The parent's side of the library workers (worker.mjs): fork one process per library, send one
// request at a time with a timeout, and time the libraries of one workload *interleaved*: round 1
// of each, round 2 of each (starting with the next library every round), …, so a burst of load
// from other processes on the machine hits all of them alike.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { median } from './measure.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export class LibraryWorker {
  #worker;
  #nextId = 1;
  #pending = new Map();
  #failed;

  constructor(name, distDir) {
    this.name = name;
    // 'advanced' serialization passes the corpus Buffers as bytes, not as JSON arrays. stdout is
    // piped and dropped: erlpack prints an "[Error …]" line there for every input it rejects
    // (the reason also comes back as the error message). stderr is passed through.
    // Node's own flags pass on (fork's default); under `node --cpu-prof` each worker writes its
    // own profile, named after its library.
    const execArgv = process.execArgv.some((a) => a.startsWith('--cpu-prof'))
      ? [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof-name')), `--cpu-prof-name=CPU.${name}.${process.pid}.cpuprofile`]
      : process.execArgv;
    this.#worker = fork(WORKER, [name, distDir], { execArgv, serialization: 'advanced', stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    this.#worker.stdout.resume();
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${name} did not start in ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      this.#worker.once('message', () => { clearTimeout(timer); resolve(); });
      this.#worker.once('error', (err) => { clearTimeout(timer); reject(err); });
      this.#worker.once('exit', (code) => { clearTimeout(timer); reject(new Error(`worker ${name} exited (${code})`)); });
    });
    this.ready.catch(() => {}); // observed by the caller's await; never an unhandled rejection
    this.#worker.on('message', (msg) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.ok);
    });
    this.#worker.on('error', (err) => this.#failAll(err));
    this.#worker.on('exit', (code, signal) => this.#failAll(new Error(`worker ${name} exited (${code ?? signal})`)));
  }

  #failAll(err) {
    this.#failed ??= err;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  /** One request; rejects after timeoutMs (the worker is then terminated: it may be stuck). */
  request(msg, timeoutMs) {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${msg.type} timed out after ${timeoutMs} ms`));
        this.#worker.kill('SIGKILL'); // it may be stuck in a loop: stop it (its pid)
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#worker.send({ ...msg, id });
    });
  }

  /**
   * Stops this worker's process and waits for it to exit: closing the IPC channel lets it exit on
   * its own (writing its --cpu-prof profile); SIGKILL to its pid if it has not within 15 s (stuck).
   */
  terminate() {
    const child = this.#worker;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
    });
  }
}

/**
 * Times one direction of one workload for the given workers, interleaved.
 * @returns {Promise<Map<string, { nsPerOp, bestNsPerOp, cpuNsPerOp, roundsNsPerOp, roundsCpuNsPerOp, ops } | { error: string }>>}
 */
export async function timeInterleaved(workers, dir, cfg) {
  // A call of the 6 MB workload can take a second on a loaded machine; a round is at least
  // roundMs plus one batch; allow far more than either before calling a worker stuck.
  const warmTimeout = 60_000 + cfg.warmupMs * 4;
  const roundTimeout = 60_000 + cfg.roundMs * 4;
  const out = new Map();
  const live = [];
  for (const w of workers) {
    try {
      await w.request({ type: 'warm', dir, warmupMs: cfg.warmupMs }, warmTimeout);
      live.push({ w, rounds: [], cpuRounds: [], ops: 0 });
    } catch (err) {
      out.set(w.name, { error: err.message });
    }
  }
  for (let r = 0; r < cfg.rounds; r++) {
    for (let i = 0; i < live.length; i++) {
      const s = live[(r + i) % live.length];
      if (s.error) continue;
      try {
        const { ns, cpuNs, ops } = await s.w.request({ type: 'round', dir, roundMs: cfg.roundMs }, roundTimeout);
        s.rounds.push(ns / ops);
        s.cpuRounds.push(cpuNs / ops);
        s.ops += ops;
      } catch (err) {
        s.error = err.message;
      }
    }
  }
  for (const s of live) {
    out.set(s.w.name, s.error ? { error: s.error } : {
      nsPerOp: median(s.rounds),
      // The best round is kept too: on a loaded machine it is the least disturbed one.
      bestNsPerOp: Math.min(...s.rounds),
      cpuNsPerOp: median(s.cpuRounds),
      roundsNsPerOp: s.rounds,
      roundsCpuNsPerOp: s.cpuRounds,
      ops: s.ops,
    });
  }
  return out;
}
