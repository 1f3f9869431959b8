/** Helpers for the watch tests: Prometheus text parsing, an SSE reader, fixture reports with a mesh. */
import type { NodeReport, ProbeReport } from '../../src/probe/types.js';
import { defaultModeNode, podNamesNode, report } from './fixtures.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (label values unescaped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export function samples(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export const PODS = ['myapp-7d9f8b6c5-abcde', 'myapp-7d9f8b6c5-fghij', 'myapp-7d9f8b6c5-klmno'];
export const IPS = ['10.1.2.3', '10.1.2.4', '10.1.2.5'];

/** Default CoreDNS: every node broken, as the cluster tests see it. */
export function brokenReport(n = 3): ProbeReport {
  const nodes = PODS.slice(0, n).map((p, i) => defaultModeNode(p, IPS[i]));
  return report({
    nodes,
    advice: [{ code: 'endpoint_pod_names', text: 'CoreDNS answers SRV queries with dashed-IP names.\nAdd endpoint_pod_names to the Corefile.' }],
  });
}

/** endpoint_pod_names with --mesh: every node accepted, every pair pongs. */
export function okReport(n = 3, nodes: NodeReport[] = PODS.slice(0, n).map((p, i) => podNamesNode(p, IPS[i]))): ProbeReport {
  const matrix = nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => ({ from: a.name, to: b.name, result: 'pong' })));
  return report({ verdict: 'ok', dnsMode: 'endpoint_pod_names', nodes, mesh: { matrix, skipped: [] } });
}

/** Reads Server-Sent Events from a fetch body until `count` events of `type` came (bounded by the signal). */
export async function readEvents(url: string, type: string, count: number, signal: AbortSignal, onEvent?: (e: unknown) => void): Promise<{ events: unknown[]; comments: number }> {
  const res = await fetch(url, { signal });
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const events: unknown[] = [];
  let comments = 0;
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const lines = block.split('\n');
        if (lines.every((l) => l.startsWith(':'))) comments++;
        const ev = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (ev === type) {
          events.push(JSON.parse(data));
          onEvent?.(events.at(-1));
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { events, comments };
}
