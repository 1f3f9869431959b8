/** Renders lint results: text for people (colour on a TTY unless NO_COLOR), JSON for machines. */
import type { LintResult } from './lint.js';
import type { Severity } from './types.js';

const COLOURS: Record<Severity, string> = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m' };

export function renderText(r: LintResult, opts: { colour?: boolean; minSeverity?: Severity } = {}): string {
  const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  const min = rank[opts.minSeverity ?? 'info'];
  const paint = (s: Severity, text: string) => (opts.colour ? `${COLOURS[s]}${text}\x1b[0m` : text);
  const lines: string[] = [];
  for (const f of r.findings) {
    if (rank[f.severity] > min) continue;
    const where = f.line > 0 ? `${f.file}:${f.line}` : f.file;
    const what = f.object === f.file ? '' : ` ${f.object}${f.container ? ` (container ${f.container})` : ''}`;
    lines.push(`${where}: ${paint(f.severity, f.severity)} [${f.rule}]${what}: ${f.message}`);
    lines.push(`    fix: ${f.fix}`);
  }
  const { error, warning, info } = r.counts;
  lines.push(
    `${r.files.length} file${r.files.length === 1 ? '' : 's'}, ${r.objects} object${r.objects === 1 ? '' : 's'}, BEAM workloads: ${r.beamWorkloads.length ? r.beamWorkloads.join(', ') : 'none'}; ${error} error${error === 1 ? '' : 's'}, ${warning} warning${warning === 1 ? '' : 's'}, ${info} info`,
  );
  return lines.join('\n');
}

export function renderJson(r: LintResult): string {
  return JSON.stringify({ files: r.files, objects: r.objects, beamWorkloads: r.beamWorkloads, counts: r.counts, findings: r.findings }, null, 2);
}

/** 0 clean (info allowed), 1 errors or warnings. */
export const exitStatus = (r: LintResult) => (r.counts.error + r.counts.warning > 0 ? 1 : 0);
