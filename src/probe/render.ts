/**
 * Report renderers: `table` for people (colour only on a TTY, never with NO_COLOR) and `json`
 * for machines: `{ verdict, dnsMode, nodes: [{ name, host, attempts: [{ form, dialed, accepted, reason }] }], advice }`
 * plus the discovery details. Neither prints the cookie (only its short hash).
 */
import type { Attempt, ProbeReport } from './types.js';

export interface TableOptions {
  /** Use ANSI colours. Default: stdout is a TTY and NO_COLOR is unset or empty. */
  color?: boolean;
  /** Wrap advice at this width (default 100). */
  width?: number;
}

/** Whether colour is wanted for this stream (https://no-color.org: any non-empty NO_COLOR disables it). */
export function wantColor(stream: { isTTY?: boolean } = process.stdout, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

const DNS_MODE_TEXT: Record<ProbeReport['dnsMode'], string> = {
  default: 'CoreDNS default (dashed-IP endpoint names, no endpoint_pod_names)',
  endpoint_pod_names: 'CoreDNS with endpoint_pod_names (pod-name endpoint names)',
  unknown: 'unknown (SRV targets do not tell)',
};

const REASON_TEXT: Record<NonNullable<Attempt['reason']>, string> = {
  mismatch: 'name mismatch',
  'illegal-host': 'illegal host',
  unresolvable: 'unresolvable',
  unreachable: 'unreachable',
  'not-registered': 'not registered',
  'bad-cookie': 'bad cookie',
  'not-allowed': 'not allowed',
  tls: 'TLS',
  foreign: 'not a BEAM node (proxy?)',
  reset: 'accepted, then reset',
  'handshake-failed': 'handshake failed',
};

export function renderTable(r: ProbeReport, o: TableOptions = {}): string {
  const color = o.color ?? wantColor();
  const width = o.width ?? 100;
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const green = (s: string) => paint('32', s);
  const red = (s: string) => paint('31', s);
  const yellow = (s: string) => paint('33', s);
  const bold = (s: string) => paint('1', s);
  const dim = (s: string) => paint('2', s);
  const lines: string[] = [];
  const d = r.discovery;

  lines.push(`${bold('beamnode probe')} ${r.service}   verdict: ${r.verdict === 'ok' ? bold(green('OK')) : bold(red('BROKEN'))}`);
  if (d.target) {
    const t = d.target;
    lines.push(`  ${t.kind.padEnd(10)} ${t.alive ? `${t.alive}@` : ''}${t.host}${t.host === t.address ? '' : ` → ${t.address} (${d.nameserver})`}; no service discovery`);
  } else {
    lines.push(`  DNS        ${d.nameserver}: SRV _epmd._tcp ${d.srv.epmd}, SRV ${d.srv.bare}, A ${d.srv.a}, AAAA ${d.srv.aaaa}`);
    lines.push(`  DNS mode   ${DNS_MODE_TEXT[r.dnsMode]}`);
  }
  if (d.targets.length) lines.push(`  targets    ${d.targets.map((t) => `${t.name} (${t.kind})`).join(', ')}`);
  if (d.kubernetes) {
    const k = d.kubernetes;
    lines.push(
      `  kubernetes namespace ${k.namespace}: ${k.endpoints.length} endpoint(s), headless ${k.headless ?? '?'}, publishNotReadyAddresses ${k.publishNotReadyAddresses ?? '?'}` +
        (k.endpointPodNames === undefined ? '' : `, Corefile endpoint_pod_names ${k.endpointPodNames}`) +
        (k.error ? `\n             ${yellow(`error: ${k.error}`)}` : ''),
    );
  }
  lines.push(`  cookie     ${r.cookie.known ? `sha256 ${r.cookie.hash}…` : yellow('none given (random): names are checked up to the cookie step')}`);
  for (const h of r.hosts) {
    if (h.epmd !== 'ok') lines.push(`  host       ${h.ip} (${h.dnsName}): ${red(`EPMD ${h.epmd}`)}${h.error ? ` ${dim(h.error)}` : ''}`);
    else if (h.skipped.length) lines.push(`  host       ${h.ip}: skipped EPMD names ${h.skipped.join(', ')}`);
  }
  if (r.nodes.length === 0) lines.push(`  ${red('no nodes found')}`);

  for (const n of r.nodes) {
    lines.push('');
    const mode = n.longNames === undefined ? '' : n.longNames ? ', long names' : ', short names';
    const at = [n.host, ...(n.alsoAt ?? [])].join(' and ');
    lines.push(`${bold(n.name)}${n.nameKnown ? '' : yellow(' (true name unknown)')}  ${dim(`${at}, dist port ${n.port}${mode}`)}`);
    if (n.firstContact) lines.push(`  ${yellow(`first contact: ${n.firstContact}`)}`);
    const formW = Math.max(...n.attempts.map((a) => a.forms.join('=').length), 4);
    const dialW = Math.max(...n.attempts.map((a) => a.dialed.length), 6);
    lines.push(`  ${dim('form'.padEnd(formW))}  ${dim('dialed'.padEnd(dialW))}  ${dim('result')}`);
    for (const a of n.attempts) {
      const result = a.accepted ? green('accepted') : `${red(REASON_TEXT[a.reason ?? 'handshake-failed'])}${explain(a) ? `: ${explain(a)}` : ''}`;
      lines.push(`  ${a.forms.join('=').padEnd(formW)}  ${a.dialed.padEnd(dialW)}  ${result}`);
    }
  }

  if (r.mesh) {
    lines.push('', bold('mesh (net_adm:ping from each row to each column)'));
    const inMatrix = new Set([...r.mesh.matrix.map((m) => m.from), ...r.mesh.matrix.map((m) => m.to)]);
    const names = [...new Set([...r.nodes.map((n) => n.name).filter((n) => inMatrix.has(n)), ...inMatrix])]; // the nodes' order
    if (names.length) {
      const w = Math.max(...names.map((n) => n.length));
      const cell = (m: { result: string; dropped?: boolean } | undefined) =>
        !m ? '·' : m.result === 'pong' ? (m.dropped ? yellow('pong→dropped') : green('pong')) : red(m.result.startsWith('error') ? 'error' : m.result);
      lines.push(`  ${''.padEnd(w + 4)}  ${names.map((_, i) => dim(`[${i + 1}]`.padEnd(13))).join(' ')}`.trimEnd());
      names.forEach((from, i) => {
        const row = names.map((to) => {
          const m = from === to ? undefined : r.mesh!.matrix.find((x) => x.from === from && x.to === to);
          const c = from === to ? '-' : cell(m);
          return c + ' '.repeat(Math.max(0, 13 - c.replace(/\x1b\[[0-9;]*m/g, '').length));
        });
        lines.push(`  ${`[${i + 1}] ${from}`.padEnd(w + 4)}  ${row.join(' ')}`.trimEnd());
      });
    }
    for (const m of r.mesh.matrix) if (m.why) lines.push(`  ${m.from} → ${m.to}: ${m.result === 'pong' ? yellow(m.why) : red(m.why)}`);
    for (const s of r.mesh.skipped) lines.push(`  ${dim(`${s.node}: not asked (${s.reason})`)}`);
  }

  if (r.advice.length) {
    lines.push('', bold('advice'));
    for (const a of r.advice) {
      const [first, ...rest] = a.text.split('\n');
      lines.push(...wrap(`${yellow(`[${a.code}]`)} ${first}`, width, '  ', '    '));
      for (const l of rest) lines.push(...(l.startsWith(' ') ? [`  ${l}`] : wrap(l, width, '    ', '    ')));
    }
  }
  return `${lines.join('\n')}\n`;
}

function explain(a: Attempt): string {
  switch (a.reason) {
    case 'mismatch':
      return `node calls itself ${a.actual ?? '?'}`;
    case 'illegal-host': {
      // "a node running with long names (-name) refuses to dial it: System running …; Hostname X is illegal"
      const m = /\((-s?name)\) refuses to dial it: .*; (Hostname .* is illegal)$/.exec(a.detail ?? '');
      if (!m) return a.detail ?? '';
      return m[1] === '-name' ? `a -name node refuses hosts without a dot ("${m[2]}")` : `an -sname node refuses hosts with a dot ("${m[2]}")`;
    }
    case 'unresolvable':
      return a.detail ?? '';
    case 'bad-cookie':
      return 'name accepted, cookie rejected';
    default:
      return a.detail ?? '';
  }
}

/** Word-wraps one paragraph (ANSI codes count as zero width). */
function wrap(text: string, width: number, indent: string, hang: string): string[] {
  const words = text.split(' ');
  const out: string[] = [];
  let line = indent;
  let len = indent.length;
  for (const w of words) {
    const wl = w.replace(/\x1b\[[0-9;]*m/g, '').length;
    if (len + wl + 1 > width && len > hang.length) {
      out.push(line.trimEnd());
      line = hang;
      len = hang.length;
    }
    line += `${w} `;
    len += wl + 1;
  }
  out.push(line.trimEnd());
  return out;
}

/** The JSON report (stable keys first: verdict, dnsMode, nodes, advice). */
export function renderJson(r: ProbeReport): string {
  const out = {
    verdict: r.verdict,
    dnsMode: r.dnsMode,
    service: r.service,
    nodes: r.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      nameKnown: n.nameKnown,
      alive: n.alive,
      dnsName: n.dnsName,
      port: n.port,
      ...(n.longNames === undefined ? {} : { longNames: n.longNames }),
      ...(n.nameFrom ? { nameFrom: n.nameFrom } : {}),
      ...(n.alsoAt?.length ? { alsoAt: n.alsoAt } : {}),
      ...(n.firstContact ? { firstContact: n.firstContact } : {}),
      ...(n.firstContactReason ? { firstContactReason: n.firstContactReason } : {}),
      attempts: n.attempts.map((a) => ({
        form: a.form,
        forms: a.forms,
        dialed: a.dialed,
        accepted: a.accepted,
        reason: a.reason ?? null,
        ...(a.actual ? { actual: a.actual } : {}),
        ...(a.address ? { address: a.address } : {}),
        ...(a.detail ? { detail: a.detail } : {}),
      })),
    })),
    advice: r.advice,
    cookie: r.cookie,
    discovery: r.discovery,
    hosts: r.hosts,
    ...(r.mesh ? { mesh: r.mesh } : {}),
    elapsedMs: r.elapsedMs,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
