/**
 * docs/node.md's table of `Node.start` options lists each option of `NodeStartOptions` once
 * (nested `epmd` options as `epmd.port`, …), and nothing else: the table once lacked `tls` and
 * seven more, and held `decodeOptions` twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/** Top-level keys of `export interface NodeStartOptions { … }`, and `epmd.<key>` for its nested object. */
function declaredOptions(): string[] {
  const src = read('src/dist/node/node.ts');
  const body = /export interface NodeStartOptions \{\n([^]*?)\n\}/.exec(src)?.[1];
  assert.ok(body, 'NodeStartOptions found in src/dist/node/node.ts');
  const keys: string[] = [];
  let nested: string | undefined;
  for (const line of body.split('\n')) {
    const top = /^ {2}(\w+)\??:/.exec(line);
    if (top) {
      nested = line.trimEnd().endsWith('{') ? top[1] : undefined;
      if (!nested) keys.push(top[1]!);
      continue;
    }
    const inner = /^ {4}(\w+)\??:/.exec(line);
    if (inner && nested) keys.push(`${nested}.${inner[1]}`);
  }
  return keys;
}

/** First-column names of the table under "## Starting and stopping". */
function documentedOptions(): string[] {
  const section = read('docs/node.md').split('## Starting and stopping')[1]?.split(/\n##+ /)[0];
  assert.ok(section, 'docs/node.md has its "Starting and stopping" section');
  return [...section.matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]!);
}

test("docs/node.md's options table has one row per option of NodeStartOptions, and no other", () => {
  const declared = declaredOptions();
  assert.ok(declared.length > 15 && declared.includes('epmd.port') && declared.includes('tls'), `parsed ${declared.join()}`);
  const documented = documentedOptions();
  const twice = documented.filter((k, i) => documented.indexOf(k) !== i);
  assert.deepEqual(twice, [], 'options with two rows');
  assert.deepEqual(declared.filter((k) => !documented.includes(k)), [], 'options without a row');
  assert.deepEqual(documented.filter((k) => !declared.includes(k)), [], 'rows for options that do not exist');
});
