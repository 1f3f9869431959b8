/**
 * Just enough shell to read how a container starts a BEAM: split a `sh -c` script (or ERL_FLAGS)
 * into words the way sh would (quotes removed, `$(…)` kept whole), and find `NAME=value`
 * assignments. It never evaluates anything.
 */

const MAX_SCRIPT = 64 * 1024; // a container command is short; a bound keeps the scan linear and small

/** Words of a shell text; `;`, `&`, `|` and newlines end words and are dropped. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  const s = text.length > MAX_SCRIPT ? text.slice(0, MAX_SCRIPT) : text;
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  let depth = 0; // inside $( … ), where spaces do not split
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
      continue;
    }
    if (c === '$' && s[i + 1] === '(') {
      depth++;
      cur += '$(';
      i++;
      inWord = true;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
      continue;
    }
    if (/\s|;|&|\|/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (inWord) words.push(cur);
  return words;
}

/** `NAME=value` words (also after `export`), later ones winning, as sh would leave them. */
export function shellAssignments(words: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of words) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(w);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh']);

/** The script of `sh -c SCRIPT` (also `-ec`, `-lc` …), when argv is one. */
export function shellScript(argv: readonly string[]): string | undefined {
  if (argv.length < 2 || !SHELLS.has(basename(argv[0]))) return undefined;
  for (let i = 1; i < argv.length - 1; i++) {
    if (/^-[a-z]*c[a-z]*$/.test(argv[i])) return argv[i + 1];
    if (!argv[i].startsWith('-')) return undefined;
  }
  return undefined;
}

export const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Variable names a text refers to: `$(X)` (Kubernetes), `${X}` and `$X` (shell). */
export function variableRefs(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** `$(cmd …)` or backticks: a command substitution (only a shell runs it). */
export const COMMAND_SUBSTITUTION = /\$\((?![A-Za-z_][A-Za-z0-9_]*\))[^)]*\)|`[^`]*`/;
