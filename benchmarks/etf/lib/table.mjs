// The printed report: one row per workload and direction, absolute MB/s per library, beamnode's
// ops/s, and beamnode's throughput divided by each other library's (> 1 = beamnode is faster).
// Directions: decode, decode+walk (decode, then lib/walk.mjs over the result; only in runs and
// workloads that measured it: old JSON files have none), encode.

const DIRECTIONS = ['decode', 'decode+walk', 'encode'];

/** The directions measured for a workload: decode+walk only where some library has it. */
const directionsOf = (w) => DIRECTIONS.filter((dir) => dir !== 'decode+walk' ||
  Object.values(w.libs).some((r) => r?.[dir] !== undefined));

const pad = (s, n, right) => (right ? s.padStart(n) : s.padEnd(n));

export function formatMBps(m) {
  if (m === undefined) return 'n/a';
  return m >= 100 ? m.toFixed(0) : m >= 10 ? m.toFixed(1) : m.toFixed(2);
}

export function formatOps(ops) {
  if (ops === undefined) return 'n/a';
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)}M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)}k`;
  return ops >= 10 ? ops.toFixed(0) : ops.toFixed(1);
}

export function formatRatio(a, b) {
  if (a === undefined || b === undefined) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}

function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function renderTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => pad(c, widths[i], i >= 3)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The cell for one library's measurement: MB/s, "†" when it read the minor_version 1 bytes. */
function cell(m) {
  if (!m) return '-';
  if (m.na) return 'n/a';
  return formatMBps(m.mbPerS) + (m.input === 'v1' ? '†' : '');
}

const mbps = (m) => (m && !m.na ? m.mbPerS : undefined);

/**
 * @param {object[]} results per workload: { name, bytes, libs: { [lib]: { decode, encode, roundTrip } }, beam: { decode, encode } }
 * @param {Set<string>} shown library names that were selected
 */
export function renderReport(results, shown) {
  const main = [];
  const compat = [];
  const variants = [];
  for (const w of results) {
    for (const dir of directionsOf(w)) {
      const walked = dir === 'decode+walk';
      const bn = w.libs.beamnode?.[dir];
      const ep = w.libs.erlpack?.[dir];
      const ej = w.libs.erlang_js?.[dir];
      // The BEAM has no walk (its decode gives terms the VM reads directly): n/a, no ratio.
      const beam = walked ? { na: true } : w.beam?.[dir];
      const rt = walked ? undefined : w.libs.beamnode?.roundTrip;
      main.push([
        w.name, dir, formatBytes(w.bytes),
        cell(bn), bn && !bn.na ? formatOps(bn.opsPerS) : 'n/a',
        cell(ep), cell(ej), cell(beam),
        formatRatio(mbps(bn), mbps(ep)), formatRatio(mbps(bn), mbps(ej)), formatRatio(mbps(bn), mbps(beam)),
        rt === undefined ? '-' : rt ? '✓' : '✗',
      ]);
      if (shown.has('beamnode-objects')) {
        const bo = w.libs['beamnode-objects']?.[dir];
        const ort = walked ? undefined : w.libs['beamnode-objects']?.roundTrip;
        variants.push([w.name, dir, formatBytes(w.bytes), cell(bn), cell(bo), formatRatio(mbps(bo), mbps(bn)),
          ort === undefined ? '-' : ort ? '✓' : '✗']);
      }
      const bp = w.libs['beamnode-pack']?.[dir];
      if (shown.has('beamnode-pack')) {
        compat.push([w.name, dir, formatBytes(w.bytes), cell(bp), cell(ep), formatRatio(mbps(bp), mbps(ep))]);
      }
    }
  }
  const out = [
    renderTable(['workload', 'dir', 'size', 'beamnode MB/s', 'ops/s', 'erlpack', 'erlang_js', 'BEAM',
      'bn/erlpack', 'bn/erlang_js', 'bn/BEAM', 'rt'], main),
  ];
  if (variants.length) {
    out.push('', 'beamnode decode options (encode: of the value decode gave; rt ✗ expected where atoms or maps with non-binary keys were in the input):',
      renderTable(['workload', 'dir', 'size', 'default MB/s', 'objects+strings MB/s', 'ratio', 'rt'], variants));
  }
  if (compat.length) {
    out.push('', 'erlpack-compatible API (beamnode pack/unpack, the same JS values as erlpack):',
      renderTable(['workload', 'dir', 'size', 'bn pack/unpack MB/s', 'erlpack MB/s', 'ratio'], compat));
  }
  return out.join('\n');
}

/** Footnotes: why a cell is n/a, which inputs were minor_version 1, and round-trip failures. */
export function renderNotes(results, libraries, beamError) {
  const notes = [];
  for (const lib of libraries) if (!lib.available) notes.push(`${lib.label}: n/a (${lib.reason})`);
  if (beamError) notes.push(`BEAM: n/a (${beamError})`);
  for (const w of results) {
    for (const [name, r] of Object.entries(w.libs)) {
      for (const dir of DIRECTIONS) {
        // decode+walk fails where decode did, for the same reason: said once, under decode.
        if (dir === 'decode+walk' && r.decode?.na && r[dir]?.reason === r.decode.reason) continue;
        if (r[dir]?.na && r[dir].reason !== 'library unavailable') notes.push(`${name} ${w.name} ${dir}: n/a (${r[dir].reason})`);
      }
      if (name === 'beamnode' && r.roundTrip === false) notes.push(`beamnode ${w.name}: encode(decode(x)) ≠ x (${r.roundTripDetail})`);
    }
  }
  // Other libraries' own round trips: a lossy mapping (erlpack: binaries → strings; erlang_js:
  // big integers → floats) makes their numbers measure less work than beamnode's exact one.
  const lossy = new Map();
  for (const w of results) {
    for (const [name, r] of Object.entries(w.libs)) {
      if (name !== 'beamnode' && r.roundTrip === false) lossy.set(name, [...(lossy.get(name) ?? []), w.name]);
    }
  }
  for (const [name, names] of lossy) notes.push(`${name}: its own encode(decode(x)) ≠ x (lossy mapping) for ${names.join(', ')}`);
  if (results.some((w) => Object.values(w.libs).some((r) => r.decode?.input === 'v1'))) {
    notes.push('†: read term_to_binary(T, [{minor_version, 1}]) bytes (erlpack cannot read the UTF-8 atom tags of minor_version 2);',
      '   MB/s is always counted on the minor_version 2 size of the term.');
  }
  return notes.join('\n');
}
