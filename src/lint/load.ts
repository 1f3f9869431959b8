/**
 * Reads manifests: files and directories (recursively: *.yaml, *.yml, *.json), each file split
 * into YAML documents and parsed with js-yaml (the parser @kubernetes/client-node uses, without
 * its model classes: lint reads plain objects, and the client is an optional peer of the package),
 * `kind: List` flattened. Problems in a file (not YAML, a Helm template) become findings; only a
 * missing path or a limit throws.
 *
 * Why it is loaded lazily: importing `beamnode` must not pay for a YAML parser unless manifests
 * are read.
 * Why we split documents ourselves: a parse error names one document only (a
 * trailing `---` is common), and per-document parsing lets findings name the line.
 */
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import createDebug from 'debug';
import { LintError } from './errors.js';
import { isRecord, stringOf } from './shape.js';
import type { Finding, KubeObject, LoadLimits, ManifestObject } from './types.js';

const log = createDebug('beamnode:lint:load');

type LoadAllYaml = (text: string) => unknown[];
let yamlModule: Promise<LoadAllYaml> | undefined;

/** js-yaml's `loadAll`, imported once on first use. */
export function yamlLoader(): Promise<LoadAllYaml> {
  yamlModule ??= import('js-yaml').then(
    (m) => (text: string) => m.loadAll(text),
    (err: unknown) => {
      throw new LintError('BEAM_ERR_LINT_LOADER', 'js-yaml', `cannot load the YAML parser js-yaml: ${(err as Error).message}`, { cause: err });
    },
  );
  return yamlModule;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = { maxFileBytes: 8 << 20, maxFiles: 5000, maxDepth: 32 };

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const SKIPPED_DIRS = new Set(['node_modules']);

export interface LoadedManifests {
  files: string[];
  objects: ManifestObject[];
  /** yaml-parse and template findings. */
  findings: Finding[];
}

/** Expands paths into manifest files: a file as given (any extension), a directory walked in name order. */
export function manifestFiles(paths: readonly string[], limits: LoadLimits = DEFAULT_LOAD_LIMITS): string[] {
  const out: string[] = [];
  const seenDirs = new Set<string>();
  const add = (file: string) => {
    if (out.length >= limits.maxFiles) throw new LintError('BEAM_ERR_LINT_LIMIT', file, `more than ${limits.maxFiles} manifest files`);
    out.push(file);
  };
  const walk = (dir: string, depth: number) => {
    if (depth > limits.maxDepth) throw new LintError('BEAM_ERR_LINT_LIMIT', dir, `directories nested deeper than ${limits.maxDepth}`);
    const real = realpathSync(dir);
    if (seenDirs.has(real)) return; // a symlink loop, or the same folder given twice
    seenDirs.add(real);
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
      const p = join(dir, entry.name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue; // a dangling symlink
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) add(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      throw new LintError('BEAM_ERR_LINT_PATH', p, `${p}: no such file or directory`, { cause: err });
    }
    if (st.isDirectory()) walk(p, 0);
    else add(p);
  }
  return out;
}

/** Manifest text that does not come from a file (stdin, an API answer); `file` names it in findings. */
export interface ManifestText {
  file: string;
  text: string;
}

/** Reads and parses every manifest under `paths`, then `texts`. */
export async function loadManifests(
  paths: readonly string[],
  defaultNamespace = 'default',
  limits: LoadLimits = DEFAULT_LOAD_LIMITS,
  texts: readonly ManifestText[] = [],
): Promise<LoadedManifests> {
  const loadAll = await yamlLoader();
  const files = manifestFiles(paths, limits);
  const objects: ManifestObject[] = [];
  const findings: Finding[] = [];
  for (const t of texts) {
    if (Buffer.byteLength(t.text) > limits.maxFileBytes) throw new LintError('BEAM_ERR_LINT_LIMIT', t.file, `${t.file}: larger than ${limits.maxFileBytes} bytes`);
    const parsed = parseWith(loadAll, t.text, t.file, defaultNamespace);
    objects.push(...parsed.objects);
    findings.push(...parsed.findings);
  }
  for (const file of files) {
    const size = statSync(file).size;
    if (size > limits.maxFileBytes) throw new LintError('BEAM_ERR_LINT_LIMIT', file, `${file}: ${size} bytes is larger than ${limits.maxFileBytes}`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new LintError('BEAM_ERR_LINT_PATH', file, `${file}: ${(err as Error).message}`, { cause: err });
    }
    const parsed = parseWith(loadAll, text, file, defaultNamespace);
    objects.push(...parsed.objects);
    findings.push(...parsed.findings);
    log('%s: %d objects, %d problems', file, parsed.objects.length, parsed.findings.length);
  }
  return { files: [...files, ...texts.map((t) => t.file)], objects, findings };
}

interface Chunk {
  /** 1-based line of the chunk's first line. */
  startLine: number;
  text: string;
}

/** Splits at document markers (`---`, `...` at column 0). A marker line starts its chunk, so `--- {a: 1}` keeps its content. */
export function splitDocuments(text: string): Chunk[] {
  const lines = text.split(/\r?\n/);
  const chunks: Chunk[] = [];
  let start = 0;
  const flush = (end: number) => {
    const body = lines.slice(start, end);
    // Only comments, blank lines, directives and markers: an empty document, skip it.
    if (body.some((l) => !/^\s*(#.*)?$/.test(l) && !/^(---|\.\.\.)\s*(#.*)?$/.test(l) && !/^%/.test(l))) {
      chunks.push({ startLine: start + 1, text: body.filter((l) => !/^%/.test(l)).join('\n') });
    }
  };
  for (let i = 0; i < lines.length; i++) {
    if (/^---(\s|$)/.test(lines[i]) || /^\.\.\.\s*$/.test(lines[i])) {
      flush(i);
      start = /^\.\.\./.test(lines[i]) ? i + 1 : i;
    }
  }
  flush(lines.length);
  return chunks;
}

/** First line of a chunk holding something other than a comment or a marker: where the object "is". */
function contentLine(chunk: Chunk): number {
  const lines = chunk.text.split('\n');
  const i = lines.findIndex((l) => !/^\s*(#.*)?$/.test(l) && !/^---\s*(#.*)?$/.test(l));
  return chunk.startLine + (i < 0 ? 0 : i);
}

// Helm's own vocabulary, so that Go templates inside ConfigMap data (alert rules) are not mistaken for a chart.
const HELM_TEMPLATE = /\{\{-?\s*(\.Values|\.Release|\.Chart|\.Capabilities|include\s|template\s|define\s|toYaml\s|tpl\s)/;

const isObject = (v: unknown): v is KubeObject => isRecord(v);

/** A parsed value as a ManifestObject, when it is a Kubernetes object (has a string `kind`); names and namespaces of the wrong type read as absent. */
export function manifestObject(v: unknown, file: string, line: number, defaultNamespace = 'default'): ManifestObject | undefined {
  if (!isObject(v) || typeof v.kind !== 'string') return undefined; // not a Kubernetes object (values.yaml, scalars)
  const meta = isRecord(v.metadata) ? v.metadata : {};
  const name = stringOf(meta.name) ?? (stringOf(meta.generateName) ? `${stringOf(meta.generateName)}*` : '(unnamed)');
  return { file, line, kind: v.kind, name, namespace: stringOf(meta.namespace) ?? defaultNamespace, raw: v };
}

/** Parses one file's text into objects (only those with a `kind`) and problems. */
export async function parseManifestText(text: string, file: string, defaultNamespace = 'default'): Promise<{ objects: ManifestObject[]; findings: Finding[] }> {
  return parseWith(await yamlLoader(), text, file, defaultNamespace);
}

function parseWith(loadAllYaml: LoadAllYaml, text: string, file: string, defaultNamespace: string): { objects: ManifestObject[]; findings: Finding[] } {
  const objects: ManifestObject[] = [];
  const findings: Finding[] = [];
  if (HELM_TEMPLATE.test(text)) {
    findings.push({
      rule: 'template',
      severity: 'warning',
      file,
      line: 0,
      object: file,
      message: 'this looks like a Helm/Go template ({{ … }}), not a manifest; it was not checked',
      fix: 'render it first, e.g. `helm template . > rendered.yaml && beamnode lint rendered.yaml`',
    });
    return { objects, findings };
  }
  for (const chunk of splitDocuments(text)) {
    let values: unknown[];
    try {
      values = loadAllYaml(chunk.text);
    } catch (err) {
      const e = err as { mark?: { line?: number }; message?: string };
      const line = chunk.startLine + (typeof e.mark?.line === 'number' ? e.mark.line : 0);
      findings.push({
        rule: 'yaml-parse',
        severity: 'error',
        file,
        line,
        object: file,
        message: `not valid YAML: ${String(e.message ?? err).split('\n')[0]}`,
        fix: 'fix the YAML syntax (kubectl would reject this file too)',
      });
      continue;
    }
    const line = contentLine(chunk);
    const push = (v: unknown) => {
      const o = manifestObject(v, file, line, defaultNamespace);
      if (o) objects.push(o);
    };
    for (const v of values) {
      if (isObject(v) && v.kind === 'List' && Array.isArray(v.items)) v.items.forEach(push);
      else push(v);
    }
  }
  return { objects, findings };
}
