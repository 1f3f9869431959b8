/**
 * Guards the bug class of issue 12: a caller that keeps a Writer's buffer in a local and then
 * calls something that may grow the writer writes into the dead copy (writeInteger did; every
 * number in 2^31..2^53 at a growth boundary came out as zeroes). The buffer is private now and
 * `room(n)` hands it out; this scan checks each `room()` result in src/ is used before any call
 * that may grow the writer, and that no growable buffer is aliased the old way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(import.meta.dirname, '../../src');

/** Calls that may grow a writer: its own writers, or any function that is handed one. */
const MAY_GROW = /\.(room|u8|u16|u32|bytes|reserve)\(|\b(write[A-Z]\w*|encode\w*|run|openTerm|writeTerm)\(/;
/**
 * Growable buffers that must never be held in a local (the old pattern): a Writer's, from outside
 * the Writer (its own methods take it after growing), and the deflater's output.
 */
const ALIASED = /(?:const|let)\s+\w+\s*=\s*(?:(?!this\b)\w+\.buf|this\.out)\s*;/;
/** The Writer's old API: `ensure()` then read `.buf`. */
const OLD_API = /\b(?:w|c\.w|this\.w|writer|shared)\.(?:ensure\(|buf\b)/;

interface Finding {
  file: string;
  line: number;
  why: string;
}

function lineOf(text: string, at: number): number {
  return text.slice(0, at).split('\n').length;
}

/** End of the block that contains `at` (the brace that closes it), or the text's end. */
function blockEnd(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') depth++;
    else if (ch === '}' && --depth < 0) return i;
  }
  return text.length;
}

export function scan(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  const room = /(?:const|let)\s+(\w+)\s*=\s*[\w.]+\.room\(/g;
  for (let m = room.exec(text); m !== null; m = room.exec(text)) {
    const name = m[1];
    const from = m.index + m[0].length;
    // from the end of the room() call's statement to the last use of its buffer in the block
    const stmtEnd = text.indexOf(';', from);
    const end = blockEnd(text, stmtEnd);
    const uses = [...text.slice(stmtEnd, end).matchAll(new RegExp(`\\b${name}\\b`, 'g'))];
    if (uses.length === 0) continue;
    const last = stmtEnd + uses[uses.length - 1].index!;
    const between = text.slice(stmtEnd, last);
    const grow = MAY_GROW.exec(between);
    if (grow) {
      out.push({ file, line: lineOf(text, stmtEnd + grow.index), why: `'${name}' (from room(), line ${lineOf(text, m.index)}) is used after ${grow[0]}…), which may grow the writer` });
    }
  }
  for (const re of [ALIASED, OLD_API]) {
    const g = new RegExp(re.source, 'g');
    for (let m = g.exec(text); m !== null; m = g.exec(text)) out.push({ file, line: lineOf(text, m.index), why: `holds a growable buffer: ${m[0]}` });
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

test('no writer buffer in src/ is held across a call that may grow it', () => {
  const files = sources(SRC);
  assert.ok(files.length > 50, `scanned ${files.length} files`);
  const findings = files.flatMap((f) => scan(relative(SRC, f), readFileSync(f, 'utf8')));
  assert.deepEqual(findings.map((f) => `${f.file}:${f.line} ${f.why}`), []);
  // the scan found the room() callers it is there for
  const callers = files.filter((f) => /\.room\(/.test(readFileSync(f, 'utf8')) && !f.endsWith('writer.ts'));
  assert.ok(callers.some((f) => f.endsWith('encode.ts')), 'encode.ts uses room()');
});

test('the scan catches the old pattern (writeInteger before issue 12) and its variants', () => {
  const old = `function writeInteger(w: Writer, v: number): void {
  w.ensure(16);
  const b = w.buf;
  let p = w.pos;
  b[p] = 1;
}`;
  assert.ok(scan('old.ts', old).length >= 2);
  const held = `function f(w: Writer, v: number): void {
  const b = w.room(16);
  let p = w.pos;
  if (v > 3) {
    w.room(3 + 128);
    b[p++] = 2;
  }
}`;
  const f = scan('held.ts', held);
  assert.equal(f.length, 1);
  assert.equal(f[0].line, 5);
  const passed = `function g(c: Ctx, s: string): void {
  const b = c.w.room(4);
  writeString(c.w, s);
  b[0] = 1;
}`;
  assert.equal(scan('passed.ts', passed).length, 1);
  const alias = `class D { f(): void { const o = this.out; this.putByte(1); o[0] = 1; } }`;
  assert.equal(scan('alias.ts', alias).length, 1);
  const fine = `function h(w: Writer): void {
  const b = w.room(2);
  b[w.pos] = 1;
  b[w.pos + 1] = 2;
  w.pos += 2;
  w.u8(3);
}`;
  assert.deepEqual(scan('fine.ts', fine), []);
});
