#!/usr/bin/env node
/**
 * Writes docs/api.md, the API reference, from the built declaration files (dist/**\/*.d.ts):
 * every name exported by the package entry points `beamnode` (dist/index.d.ts) and `beamnode/etf`
 * (dist/etf/index.d.ts), with its kind, its declaration and its JSDoc comment.
 *
 *   npm run build && node scripts/api-docs.mjs [--dist DIR] [--out FILE] [--check]
 *
 * Why a parser of its own: TypeScript 7's `require('typescript')` is a stub (only `version`); its
 * compiler API lives behind `typescript/unstable/*`, which talks to the native compiler over
 * JSON-RPC and is marked unstable. The .d.ts files tsc emits are regular: top-level statements,
 * each optionally preceded by a JSDoc block. This script splits a file into top-level statements
 * with a small scanner (strings, template literals, comments, bracket depth), then follows
 * `export … from` and `import` chains to the declaring file.
 *
 * --check: exit 1 if a runtime export (what `import()` of the built entry gives) is missing from
 * the reference, or if the written file differs from what is on disk (for CI).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let distDir = join(root, 'dist'); // set from --dist in main()

const ENTRY_POINTS = [
  { spec: 'beamnode', file: 'index.d.ts', note: 'The Node, the processes, gen_server, errors and the probe; namespaces for the lower layers. The terms, guards, formatTerm, encode/decode and codec errors of `beamnode/etf` are re-exported too (listed once, under `beamnode/etf`); the functions of the probe are under the `probe` namespace.' },
  { spec: 'beamnode/etf', file: 'etf/index.d.ts', note: 'The External Term Format codec alone (no sockets). See [etf.md](etf.md).' },
];

// ---------------------------------------------------------------------------------------------
// Scanning: a .d.ts file → top-level statements, each with the JSDoc block just before it.

/**
 * Splits declaration-file text into top-level statements. A statement ends at a `;` outside any
 * bracket, or, for block declarations (class, interface, enum, namespace), at the `}` that closes
 * the body when nothing but whitespace follows it on its line (so `{}` in a generic constraint
 * on the head line does not end the statement).
 */
export function splitStatements(text) {
  const out = [];
  let i = 0;
  let start = -1; // start of the current statement, -1 between statements
  let doc = null; // the JSDoc seen just before the current statement
  let depth = 0;
  const templateDepths = []; // for `${ … }` inside template literals: the depth to return to
  const n = text.length;

  const finish = (end) => {
    const code = text.slice(start, end).trim();
    if (code) out.push({ code, doc });
    start = -1;
    doc = null;
  };
  const isBlockDecl = () =>
    /^(export\s+)?(declare\s+)?(default\s+)?(abstract\s+)?(const\s+)?(class|interface|enum|namespace|module|global)\b/.test(
      text.slice(start, Math.min(n, start + 200)),
    ) || /^declare\s+global\b/.test(text.slice(start, start + 40));

  while (i < n) {
    const c = text[i];
    // Comments.
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      if (start < 0 && text[i + 2] === '*' && text[i + 3] !== '/') doc = text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === '"' || c === "'") {
      i = skipQuoted(text, i, c);
      continue;
    }
    if (c === '`') {
      i = skipTemplate(text, i + 1, templateDepths, depth);
      continue;
    }
    if (c === '}' && templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === depth) {
      // End of a `${ … }` substitution: back into the template literal.
      templateDepths.pop();
      i = skipTemplate(text, i + 1, templateDepths, depth);
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      if (c === '}' && depth === 0 && isBlockDecl() && restOfLineBlank(text, i + 1)) {
        finish(i + 1);
        i++;
        continue;
      }
    } else if (c === ';' && depth === 0) {
      finish(i + 1);
      i++;
      continue;
    }
    i++;
  }
  if (start >= 0) finish(n);
  return out;
}

function skipQuoted(text, i, quote) {
  let j = i + 1;
  while (j < text.length && text[j] !== quote) {
    if (text[j] === '\\') j++;
    if (text[j] === '\n') break; // unterminated: do not swallow the file
    j++;
  }
  return j + 1;
}

/** From just inside a template literal to just after its end, or into a `${` (pushed on the stack). */
function skipTemplate(text, j, templateDepths, depth) {
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '`') return j + 1;
    if (c === '$' && text[j + 1] === '{') {
      templateDepths.push(depth);
      return j + 2;
    }
    j++;
  }
  return j;
}

function restOfLineBlank(text, i) {
  for (let j = i; j < text.length; j++) {
    if (text[j] === '\n') return true;
    if (text[j] === ';') continue; // `};` is still the end
    if (!/\s/.test(text[j])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Modules: declarations, imports and exports of one .d.ts file.

const moduleCache = new Map();

/** Parses one .d.ts: its local declarations, imported names and export clauses. */
function loadModule(file) {
  const cached = moduleCache.get(file);
  if (cached) return cached;
  const mod = { file, decls: new Map(), imports: new Map(), exports: [], doc: null };
  moduleCache.set(file, mod);
  const text = readFileSync(file, 'utf8');
  const statements = splitStatements(text);
  for (const st of statements) {
    const code = st.code;
    let m;
    if ((m = /^import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/.exec(code))) {
      for (const spec of splitSpecifiers(m[2])) mod.imports.set(spec.local, { from: resolveSpecifier(file, m[3]), name: spec.name });
    } else if ((m = /^import\s+\*\s+as\s+(\w+)\s+from\s*['"]([^'"]+)['"]/.exec(code))) {
      mod.imports.set(m[1], { from: resolveSpecifier(file, m[2]), name: '*' });
    } else if ((m = /^import\s+(type\s+)?(\w+)\s*(?:,\s*\{([^}]*)\})?\s*from\s*['"]([^'"]+)['"]/.exec(code))) {
      mod.imports.set(m[2], { from: resolveSpecifier(file, m[4]), name: 'default' });
      if (m[3]) for (const spec of splitSpecifiers(m[3])) mod.imports.set(spec.local, { from: resolveSpecifier(file, m[4]), name: spec.name });
    } else if ((m = /^export\s+\*\s+as\s+(\w+)\s+from\s*['"]([^'"]+)['"]/.exec(code))) {
      mod.exports.push({ type: 'namespace', name: m[1], from: resolveSpecifier(file, m[2]) });
    } else if ((m = /^export\s+\*\s+from\s*['"]([^'"]+)['"]/.exec(code))) {
      mod.exports.push({ type: 'star', from: resolveSpecifier(file, m[1]) });
    } else if ((m = /^export\s+(type\s+)?\{([^}]*)\}\s*(?:from\s*['"]([^'"]+)['"])?/.exec(code))) {
      for (const spec of splitSpecifiers(m[2])) {
        mod.exports.push({ type: 'named', name: spec.local === spec.name ? spec.name : spec.exported, local: spec.name, from: m[3] ? resolveSpecifier(file, m[3]) : null });
      }
    } else if (/^export\s*\{\s*\}/.test(code)) {
      // `export {};` marker
    } else {
      const decl = parseDeclaration(code);
      if (!decl) continue;
      const entry = { ...decl, doc: st.doc, file };
      const prev = mod.decls.get(decl.name);
      if (prev && prev.kind === 'function' && decl.kind === 'function') {
        prev.code += '\n' + decl.code; // overloads
        prev.doc = prev.doc ?? st.doc;
      } else if (prev && prev.kind !== decl.kind) {
        // A value and a type of one name (`const X` + `type X`): keep both texts.
        prev.code += '\n' + decl.code;
        prev.kind = `${prev.kind} + ${decl.kind}`;
        prev.doc = prev.doc ?? st.doc;
      } else {
        mod.decls.set(decl.name, entry);
      }
      if (decl.exported) mod.exports.push({ type: 'named', name: decl.name, local: decl.name, from: null });
    }
  }
  // The file's own leading JSDoc (module comment) is the first statement's doc when that is an
  // import or export clause.
  const first = statements[0];
  if (first && /^(import|export\s*(\*|\{|type\s*\{))/.test(first.code)) mod.doc = first.doc;
  return mod;
}

/** `a, type b, c as d` → [{ name, local, exported }]: `name` in the other module, `local` here. */
function splitSpecifiers(list) {
  return list
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((s) => {
      const [name, alias] = s.split(/\s+as\s+/);
      return { name: name.trim(), local: (alias ?? name).trim(), exported: (alias ?? name).trim() };
    });
}

function resolveSpecifier(fromFile, spec) {
  if (!spec.startsWith('.')) return `external:${spec}`;
  const base = join(dirname(fromFile), spec);
  for (const candidate of [base.replace(/\.js$/, '.d.ts'), base + '.d.ts', join(base, 'index.d.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return `missing:${base}`;
}

const DECL_RE =
  /^(export\s+)?(declare\s+)?(default\s+)?(abstract\s+)?(?:(const\s+enum|class|interface|type|function|const|let|var|enum|namespace|module)\s+)([A-Za-z_$][\w$]*)/;

/** One declaration statement → { name, kind, code, exported }, or null for anything else. */
function parseDeclaration(code) {
  const m = DECL_RE.exec(code);
  if (!m) return null;
  let kind = m[5].replace(/\s+/, ' ');
  if (kind === 'class' && m[4]) kind = 'abstract class';
  if (kind === 'let' || kind === 'var') kind = 'variable';
  if (kind === 'module') kind = 'namespace';
  return { name: m[6], kind, code: tidy(code), exported: Boolean(m[1]) };
}

/**
 * Declaration text as a reader wants it: no `export declare`, no private members and no
 * one-line `@internal` members, each with the doc block above it.
 */
function tidy(code) {
  const lines = code.replace(/^export\s+/, '').replace(/^declare\s+/, '').split('\n');
  const out = [];
  let pendingDoc = []; // a member's doc block, held until we know whether the member stays
  for (const line of lines) {
    const inDoc = pendingDoc.length > 0 && !/\*\/\s*$/.test(pendingDoc[pendingDoc.length - 1]);
    if (inDoc || /^\s+\/\*\*/.test(line)) {
      pendingDoc.push(line);
      continue;
    }
    const isPrivate = /^\s+(private\s|#private;)/.test(line);
    const isInternal = pendingDoc.some((l) => l.includes('@internal')) && /;\s*$/.test(line);
    if (!isPrivate && !isInternal) out.push(...pendingDoc, line);
    pendingDoc = [];
  }
  out.push(...pendingDoc);
  return out.join('\n').replace(/^ {4}/gm, '  ');
}

// ---------------------------------------------------------------------------------------------
// Resolving a module's public names to their declarations.

/**
 * Every name a module exports → { name, kind, code, doc, file } or, for `export * as ns`,
 * { name, kind: 'namespace', members, file, doc }. `seen` guards against export cycles.
 */
function exportsOf(file, seen = new Set()) {
  if (seen.has(file)) return new Map();
  seen.add(file);
  const out = new Map();
  if (!file.endsWith('.d.ts')) return out;
  const mod = loadModule(file);
  for (const ex of mod.exports) {
    if (ex.type === 'star') {
      for (const [name, entry] of exportsOf(ex.from, new Set(seen))) if (name !== 'default' && !out.has(name)) out.set(name, entry);
    } else if (ex.type === 'namespace') {
      const target = ex.from.endsWith('.d.ts') ? loadModule(ex.from) : null;
      out.set(ex.name, { name: ex.name, kind: 'namespace', members: exportsOf(ex.from, new Set()), file: ex.from, doc: target?.doc ?? null });
    } else if (ex.from) {
      const entry = exportsOf(ex.from, new Set(seen)).get(ex.local);
      out.set(ex.name, entry ? { ...entry, name: ex.name } : { name: ex.name, kind: 'unresolved', code: '', doc: null, file: ex.from });
    } else {
      const entry = resolveLocal(mod, ex.local, seen);
      out.set(ex.name, entry ? { ...entry, name: ex.name } : { name: ex.name, kind: 'unresolved', code: '', doc: null, file });
    }
  }
  return out;
}

function resolveLocal(mod, local, seen) {
  const decl = mod.decls.get(local);
  if (decl) return decl;
  const imp = mod.imports.get(local);
  if (!imp || !imp.from.endsWith('.d.ts')) return null;
  if (imp.name === '*') return { name: local, kind: 'namespace', members: exportsOf(imp.from, new Set()), file: imp.from, doc: loadModule(imp.from).doc };
  return exportsOf(imp.from, new Set(seen)).get(imp.name) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Markdown.

/** JSDoc block → its text, with `@tags` kept as lines. */
export function docText(doc) {
  if (!doc) return '';
  return doc
    .replace(/^\/\*\*\s?/, '')
    .replace(/\s*\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

function sourceOf(file) {
  const rel = relative(distDir, file).replace(/\\/g, '/');
  return `src/${rel.replace(/\.d\.ts$/, '.ts')}`;
}

function anchor(title) {
  return title
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .trim()
    .replace(/ /g, '-');
}

const KIND_ORDER = ['class', 'abstract class', 'function', 'const', 'variable', 'enum', 'const enum', 'interface', 'type', 'namespace'];
function kindRank(kind) {
  const base = kind.split(' + ')[0];
  const r = KIND_ORDER.indexOf(base);
  return r < 0 ? KIND_ORDER.length : r;
}

function sortEntries(entries) {
  return [...entries].sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.name.localeCompare(b.name));
}

function renderEntries(lines, entries, prefix, level) {
  const hashes = '#'.repeat(level);
  for (const e of sortEntries(entries)) {
    if (e.kind === 'namespace') continue;
    const title = `${prefix}${e.name}`;
    lines.push(`${hashes} ${title}`, '');
    lines.push(`*${e.kind}* · \`${sourceOf(e.file)}\``, '');
    const text = docText(e.doc);
    if (text) lines.push(text, '');
    if (e.code) lines.push('```ts', e.code, '```', '');
  }
}

function renderIndex(lines, entries, prefix) {
  const byKind = new Map();
  for (const e of sortEntries(entries)) {
    const k = e.kind === 'namespace' ? 'namespace' : e.kind.split(' + ')[0];
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k).push(e);
  }
  for (const [kind, list] of byKind) {
    const links = list.map((e) => `[${e.name}](#${anchor(`${prefix}${e.name}`)})`);
    lines.push(`- **${kind}**: ${links.join(', ')}`);
  }
  lines.push('');
}

function render(entryPoints) {
  const lines = [
    '# API reference',
    '',
    '<!-- Generated by scripts/api-docs.mjs from dist/**/*.d.ts (npm run build first). Do not edit by hand. -->',
    '',
    'Every name exported by the package entry points, with its kind, its declaration (as `tsc` emits it,',
    'private members left out) and its doc comment. The guides explain how these fit together:',
    '[node.md](node.md), [etf.md](etf.md), [dist-wire.md](dist-wire.md), [epmd.md](epmd.md),',
    '[discovery.md](discovery.md), [probe.md](probe.md), [lint.md](lint.md).',
    '',
  ];
  for (const ep of entryPoints) lines.push(`- [\`${ep.spec}\`](#${anchor(ep.spec)})`);
  lines.push('');
  for (const ep of entryPoints) {
    lines.push(`## ${ep.spec}`, '', ep.note, '', '```ts', `import { … } from '${ep.spec}';`, '```', '');
    renderIndex(lines, ep.entries, `${ep.spec}.`);
    renderEntries(lines, ep.entries, `${ep.spec}.`, 3);
    for (const ns of sortEntries(ep.entries).filter((e) => e.kind === 'namespace')) {
      const nsTitle = `${ep.spec}.${ns.name}`;
      lines.push(`### ${nsTitle}`, '');
      lines.push(`*namespace* · \`${sourceOf(ns.file)}\` · \`import { ${ns.name} } from '${ep.spec}'\`, then \`${ns.name}.<name>\``, '');
      const text = docText(ns.doc);
      if (text) lines.push(text, '');
      const members = [...ns.members.values()];
      renderIndex(lines, members, `${nsTitle}.`);
      renderEntries(lines, members, `${nsTitle}.`, 4);
    }
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const { values: args } = parseArgs({
    options: {
      dist: { type: 'string', default: join(root, 'dist') },
      out: { type: 'string', default: join(root, 'docs', 'api.md') },
      check: { type: 'boolean', default: false },
    },
  });
  distDir = resolve(args.dist);
  const problems = [];
  const entryPoints = [];
  const etfFile = join(distDir, 'etf/index.d.ts');
  const etfNames = existsSync(etfFile) ? new Set(exportsOf(etfFile).keys()) : new Set();
  for (const ep of ENTRY_POINTS) {
    const file = join(distDir, ep.file);
    if (!existsSync(file)) {
      console.error(`api-docs: ${relative(root, file)} is missing: run npm run build first`);
      process.exit(2);
    }
    const all = exportsOf(file);
    // The codec's names are listed once, under beamnode/etf.
    const entries = [...all.values()].filter((e) => ep.spec === 'beamnode/etf' || !etfNames.has(e.name));
    for (const e of all.values()) if (e.kind === 'unresolved') problems.push(`${ep.spec}: ${e.name} (declaration not found)`);
    // Runtime exports must all be documented (types have no runtime trace, so only this way).
    const runtime = await import(pathToFileURL(file.replace(/\.d\.ts$/, '.js')).href);
    for (const name of Object.keys(runtime)) if (!all.has(name)) problems.push(`${ep.spec}: runtime export ${name} is not in the reference`);
    entryPoints.push({ ...ep, entries });
  }
  const md = render(entryPoints);
  const count = entryPoints.reduce((n, ep) => n + ep.entries.reduce((m, e) => m + (e.kind === 'namespace' ? e.members.size : 1), 0), 0);
  for (const p of problems) console.error(`api-docs: ${p}`);
  if (args.check) {
    const current = existsSync(args.out) ? readFileSync(args.out, 'utf8') : '';
    if (current !== md) problems.push(`${relative(root, args.out)} is out of date: run node scripts/api-docs.mjs`);
    for (const p of problems.slice(-1)) console.error(`api-docs: ${p}`);
    process.exit(problems.length ? 1 : 0);
  }
  writeFileSync(args.out, md);
  console.log(`api-docs: ${relative(root, args.out)}: ${count} names, ${md.length} bytes${problems.length ? `, ${problems.length} problems` : ''}`);
  process.exit(problems.length ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
