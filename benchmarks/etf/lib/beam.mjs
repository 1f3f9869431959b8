// The BEAM column: runs bench-beam.escript (binary_to_term/term_to_binary in an erl of the host's
// OTP) over the same corpus files, with the same warm-up/round settings, and parses its JSON lines.
import { spawn } from 'node:child_process';

/**
 * @param {{ script: string, workloads: { name: string, path: string }[], cfg: { warmupMs: number, roundMs: number, rounds: number } }} opts
 * @returns {Promise<{ otpRelease?: string, results: Map<string, object>, error?: string }>}
 *          results keyed `${workload}/${direction}`
 */
export function runBeam({ script, workloads, cfg }) {
  // Bound the run: every measurement is a warm-up plus `rounds` rounds, and a round of the 6 MB
  // workload can run past roundMs by one call (~0.1 s); generous slack for a loaded machine.
  const perMeasurementMs = cfg.warmupMs + cfg.rounds * (cfg.roundMs + 1000) + 2000;
  const timeoutMs = 30_000 + workloads.length * 2 * perMeasurementMs;
  const args = [script, String(cfg.warmupMs), String(cfg.roundMs), String(cfg.rounds),
    ...workloads.map((w) => `${w.name}=${w.path}`)];

  return new Promise((resolve) => {
    const results = new Map();
    let otpRelease;
    let stdout = '';
    let stderr = '';
    const child = spawn('escript', args, { stdio: ['ignore', 'pipe', 'pipe'], signal: AbortSignal.timeout(timeoutMs) });
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk.slice(0, 4096); });
    const parse = () => {
      for (const line of stdout.split('\n')) {
        if (!line.trim()) continue;
        const row = JSON.parse(line);
        if (row.otpRelease) otpRelease = row.otpRelease;
        else results.set(`${row.workload}/${row.direction}`, row);
      }
    };
    child.on('error', (err) => {
      const reason = err.name === 'AbortError' ? `timed out after ${timeoutMs} ms` : err.message;
      try { parse(); } catch { /* partial line */ }
      resolve({ otpRelease, results, error: `escript: ${reason}` });
    });
    child.on('close', (status) => {
      if (child.killed) return; // reported by 'error'
      try {
        parse();
      } catch (err) {
        resolve({ otpRelease, results, error: `unreadable output (${err.message})` });
        return;
      }
      resolve(status === 0 ? { otpRelease, results } : { otpRelease, results, error: `escript exited ${status}: ${stderr.trim()}` });
    });
  });
}
