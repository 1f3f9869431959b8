/**
 * The TypeScript snippets of README.md and docs/*.md, as modules tsc can check. A ```ts block
 * with an `import` starts a module; a block without one continues the module of the block before
 * it in the same file (README's error handling uses the `node` of the Library snippet). Relative
 * imports are resolved from the Markdown file's folder (`../src/x.js` in docs/ is src/x.ts).
 * docs/api.md is left out: it is generated from the build's declarations (scripts/api-docs.mjs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface SnippetModule {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** Line of each block's first code line in the file, and its line in `code`. */
  blocks: { line: number; at: number }[];
  /** The module's source, relative imports made absolute. */
  code: string;
  /** The package entry points it imports (`beamnode`, `beamnode/etf`). */
  imports: string[];
}

const FENCE = /^```(?:ts|typescript)\n([\s\S]*?)^```/gm;
const IMPORT_LINE = /^import\s/m;

export function docFiles(root: string): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'api.md').sort().map((f) => `docs/${f}`)];
}

export function snippetModules(root: string, files = docFiles(root)): SnippetModule[] {
  const out: SnippetModule[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    let current: SnippetModule | undefined;
    for (const m of text.matchAll(FENCE)) {
      const line = text.slice(0, m.index).split('\n').length + 1;
      const code = absolute(m[1], dirname(join(root, file)));
      if (IMPORT_LINE.test(code) || !current) {
        current = { file, blocks: [], code: '', imports: [] };
        out.push(current);
      }
      current.blocks.push({ line, at: current.code.split('\n').length });
      current.code += code;
      for (const i of code.matchAll(/from '(beamnode(?:\/[a-z]+)?)'/g)) if (!current.imports.includes(i[1])) current.imports.push(i[1]);
    }
  }
  return out;
}

function absolute(code: string, dir: string): string {
  return code.replace(/from '(\.\.?\/[^']*)'/g, (_m, p: string) => `from '${resolve(dir, p)}'`);
}

/** `file.md:line` of a line of a module's code (1-based). */
export function sourceLine(s: SnippetModule, codeLine: number): string {
  let block = s.blocks[0];
  for (const b of s.blocks) if (b.at <= codeLine) block = b;
  return `${s.file}:${block.line + codeLine - block.at}`;
}
