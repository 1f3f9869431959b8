// A node:test reporter that writes one JSON document for scripts/run-tests.mjs: each test file's
// duration (its `test:complete` event, module load included) and every skipped test with its reason.
export default async function* summary(source) {
  const files = [];
  const skipped = [];
  for await (const ev of source) {
    const d = ev.data ?? {};
    if (ev.type === 'test:complete' && d.file && d.name === d.file) files.push({ file: d.file, ms: Math.round(d.details?.duration_ms ?? 0) });
    if ((ev.type === 'test:pass' || ev.type === 'test:fail') && d.skip !== undefined) skipped.push({ file: d.file, name: d.name, reason: d.skip === true ? '' : String(d.skip) });
  }
  yield JSON.stringify({ files, skipped });
}
