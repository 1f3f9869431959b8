/**
 * The host part of a node name, expanded the way Kubernetes (`$(VAR)` in env, command and args)
 * and then the shell (`$VAR`, `${VAR:-default}`, `$(hostname -f)`) would, into parts whose origin
 * is known: the pod's name or IP, the Kubernetes node's (downward API `spec.nodeName`,
 * `status.hostIP`), the namespace, literal text, or something only the running pod knows. The
 * whole expanded host is classified, never one variable of it: `$(POD_NAME).svc.ns.svc.zone` is
 * a pod DNS name whose suffix can be checked, not a bare pod name.
 */
import type { EnvEntry } from './beam.js';

export type HostPart =
  | { t: 'text'; s: string }
  | { t: 'pod-name'; via: string } // metadata.name, $HOSTNAME, $(hostname)
  | { t: 'pod-ip'; via: string } // status.podIP, $(hostname -i)
  | { t: 'fqdn'; via: string } // $(hostname -f)
  | { t: 'k8s-node'; via: string } // spec.nodeName, status.hostIP: the Kubernetes node, not the pod
  | { t: 'unknown'; via: string } // a Secret, the image, a command
  | { t: 'empty'; via: string }; // a shell variable defined nowhere: expands to nothing

/** Where the host part of the node name comes from. */
export type HostSource =
  | 'bare' // no @: erl adds the host (long names: the FQDN from /etc/hosts; short: the hostname)
  | 'fqdn' // $(hostname -f)
  | 'hostname' // $(hostname), $HOSTNAME, the pod name: no dots unless setHostnameAsFQDN
  | 'pod-dns' // <pod name>.<suffix>: a per-pod DNS name, its suffix known
  | 'pod-ip' // status.podIP
  | 'k8s-node' // spec.nodeName / status.hostIP: the Kubernetes node's name or IP
  | 'empty' // nothing, or an empty DNS label, after expansion
  | 'loopback' // 127.0.0.0/8, ::1, localhost
  | 'ip' // a literal IP
  | 'dotted' // a literal dotted name
  | 'short' // a literal name without dots
  | 'variable'; // something only the running pod knows

export interface HostInfo {
  source: HostSource;
  /** The host as a reader sees it: `<pod>.myapp.default.svc.cluster.local`, `<pod IP>`, `$(SECRET_HOST)`. */
  display: string;
  /** For `pod-dns`: the text after `<pod>.` (lower case, no trailing dot). */
  suffix?: string;
  /** For `k8s-node` and `empty`: the variables responsible. */
  via?: string[];
}

export interface ExpandScope {
  /** Shell assignments (the `sh -c` script, env.sh, sourced files), winning over env. */
  script: ReadonlyMap<string, string>;
  env: ReadonlyMap<string, EnvEntry>;
  namespace?: string;
  /** envFrom names a Secret (or a ConfigMap not in the set): an undefined variable may come from there. */
  opaqueEnv: boolean;
}

// Set by the release script before env.sh runs (elixir-lang/elixir lib/mix/lib/mix/tasks/release.init.ex).
const RELEASE_SCRIPT_VARS = new Set(['RELEASE_NAME', 'RELEASE_VSN', 'RELEASE_ROOT', 'RELEASE_PROG', 'RELEASE_COMMAND', 'RELEASE_TMP', 'RELEASE_SYS_CONFIG', 'RELEASE_VM_ARGS', 'RELEASE_MODE', 'RELEASE_BOOT_SCRIPT', 'RELEASE_COOKIE']);
const MAX_DEPTH = 6;

const FIELD: Record<string, HostPart['t']> = {
  'metadata.name': 'pod-name',
  'status.podIP': 'pod-ip',
  'status.podIPs': 'pod-ip',
  'spec.nodeName': 'k8s-node',
  'status.hostIP': 'k8s-node',
  'status.hostIPs': 'k8s-node',
};

function variable(name: string, fallback: string | undefined, syntax: 'k8s' | 'shell', scope: ExpandScope, depth: number): HostPart[] {
  const via = syntax === 'k8s' ? `$(${name})` : `\${${name}}`;
  if (depth > MAX_DEPTH) return [{ t: 'unknown', via }];
  const s = scope.script.get(name);
  if (s !== undefined) return s === '' && fallback !== undefined ? expandText(fallback, scope, depth + 1) : expandText(s, scope, depth + 1);
  const e = scope.env.get(name);
  if (e) {
    if (e.source === 'field') {
      if (e.fieldPath === 'metadata.namespace' && scope.namespace) return [{ t: 'text', s: scope.namespace }];
      const t = e.fieldPath ? FIELD[e.fieldPath] : undefined;
      return [t && t !== 'text' ? ({ t, via: `${name} (fieldRef ${e.fieldPath})` } as HostPart) : { t: 'unknown', via }];
    }
    if (e.value !== undefined) return e.value === '' && fallback !== undefined ? expandText(fallback, scope, depth + 1) : expandText(e.value, scope, depth + 1);
    return [{ t: 'unknown', via }];
  }
  if (name === 'HOSTNAME') return [{ t: 'pod-name', via: '$HOSTNAME' }];
  if (fallback !== undefined) return expandText(fallback, scope, depth + 1);
  // Kubernetes leaves an undefined $(VAR) as it is (env-var-reference reports it); sh expands an
  // undefined $VAR to nothing, unless the image or an opaque envFrom may define it.
  if (syntax === 'k8s' || scope.opaqueEnv || RELEASE_SCRIPT_VARS.has(name)) return [{ t: 'unknown', via }];
  return [{ t: 'empty', via }];
}

/** Expands a text into parts (bounded: a node name is short, and definitions nest at most MAX_DEPTH deep). */
export function expandText(text: string, scope: ExpandScope, depth = 0): HostPart[] {
  const out: HostPart[] = [];
  const token = /\$\$|\$\(\s*hostname\s*([^)]*)\)|`\s*hostname\s*([^`]*)`|\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*)|([^}]*))\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\([^)]*\)|`[^`]*`/g;
  let last = 0;
  for (const m of text.slice(0, 1024).matchAll(token)) {
    if (m.index > last) out.push({ t: 'text', s: text.slice(last, m.index) });
    last = m.index + m[0].length;
    if (m[0] === '$$') out.push({ t: 'text', s: '$' });
    else if (m[1] !== undefined || m[2] !== undefined) {
      const flags = (m[1] ?? m[2]).trim();
      if (/^(-f|--fqdn|-A|--all-fqdns)$/.test(flags)) out.push({ t: 'fqdn', via: m[0] });
      else if (/^(-i|-I|--ip-address|--all-ip-addresses)$/.test(flags)) out.push({ t: 'pod-ip', via: m[0] });
      else if (flags === '' || flags === '-s' || flags === '--short') out.push({ t: 'pod-name', via: m[0] });
      else out.push({ t: 'unknown', via: m[0] });
    } else if (m[3] !== undefined) out.push(...variable(m[3], undefined, 'k8s', scope, depth));
    else if (m[4] !== undefined) {
      if (m[7]) out.push({ t: 'unknown', via: m[0] }); // ${X%…}, ${X//…}: a transformation we do not follow
      else out.push(...variable(m[4], m[5] !== undefined ? m[6] : undefined, 'shell', scope, depth));
    } else if (m[8] !== undefined) out.push(...variable(m[8], undefined, 'shell', scope, depth));
    else out.push({ t: 'unknown', via: m[0] });
  }
  if (last < text.length) out.push({ t: 'text', s: text.slice(last) });
  return out;
}

const shown = (p: HostPart) =>
  p.t === 'text' ? p.s : p.t === 'pod-name' ? '<pod>' : p.t === 'pod-ip' ? '<pod IP>' : p.t === 'fqdn' ? '<hostname -f>' : p.t === 'k8s-node' ? `<${p.via}>` : p.t === 'empty' ? '' : p.via;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|localhost\.localdomain)$/i;

/** Splits an expanded node name at its `@` (in literal text only): the parts after it, or undefined for a bare name. */
export function hostParts(parts: readonly HostPart[]): HostPart[] | undefined {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.t !== 'text') continue;
    const at = p.s.indexOf('@');
    if (at < 0) continue;
    const rest = p.s.slice(at + 1);
    return [...(rest ? [{ t: 'text', s: rest } as HostPart] : []), ...parts.slice(i + 1)];
  }
  return undefined;
}

/** Classifies an expanded host. */
export function classifyHost(parts: readonly HostPart[]): HostInfo {
  const display = parts.map(shown).join('');
  const node = parts.filter((p) => p.t === 'k8s-node');
  if (node.length) return { source: 'k8s-node', display, via: node.map((p) => p.via) };
  const empty = parts.filter((p) => p.t === 'empty').map((p) => p.via);
  if (empty.length) {
    // An optional piece may expand to nothing; a host or a label that ends up empty cannot.
    if (display === '' || display.startsWith('.') || display.includes('..')) return { source: 'empty', display, via: empty };
  }
  const rest = parts.filter((p) => p.t !== 'empty');
  if (rest.length === 0) return { source: 'empty', display, via: empty };
  if (rest.some((p) => p.t === 'unknown')) return { source: 'variable', display };
  const [first, ...tail] = rest;
  const tailText = tail.every((p) => p.t === 'text') ? tail.map((p) => (p as { s: string }).s).join('') : undefined;
  if (first.t !== 'text') {
    if (tail.length === 0) return { source: first.t === 'pod-name' ? 'hostname' : first.t === 'pod-ip' ? 'pod-ip' : 'fqdn', display };
    if (first.t === 'pod-name' && tailText !== undefined && tailText.startsWith('.')) {
      return { source: 'pod-dns', display, suffix: tailText.slice(1).replace(/\.$/, '').toLowerCase() };
    }
    return { source: 'variable', display };
  }
  if (rest.length > 1) return { source: 'variable', display };
  const host = first.s;
  if (LOOPBACK.test(host)) return { source: 'loopback', display };
  if (IPV4.test(host) || host.includes(':')) return { source: 'ip', display };
  return { source: host.includes('.') ? 'dotted' : 'short', display };
}
