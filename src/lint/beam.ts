/**
 * What a container tells about the BEAM inside it: whether it is one (commands, RELEASE_/ERL_
 * environment, the EPMD port, the image), and how it names itself: long or short names, and
 * where the host part of its node name comes from. Read from the manifest only; what an image
 * sets inside (rel/env.sh.eex, vm.args) is invisible here, and the messages say so.
 */
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { basename, shellAssignments, shellScript, shellWords, variableRefs } from './shell.js';
import { isRecord, objectsOf, stringOf, stringsOf } from './shape.js';

export type EnvSource = 'literal' | 'secret' | 'configmap' | 'field' | 'resource' | 'unknown';

export interface EnvEntry {
  name: string;
  /** Position in `env` (envFrom entries come first, with index -1). */
  index: number;
  source: EnvSource;
  /** Known value: a literal, or a ConfigMap value found in the set. */
  value?: string;
  /** fieldRef.fieldPath for `field`. */
  fieldPath?: string;
  /** The ConfigMap or Secret it comes from. */
  ref?: string;
}

export type DistributionMode = 'name' | 'sname' | 'none' | 'release-default' | 'unknown';

/** Where the host part of the node name comes from. */
export type HostSource =
  | 'bare' // no @: erl adds the host (long names: the FQDN from /etc/hosts; short: the hostname)
  | 'fqdn' // $(hostname -f)
  | 'hostname' // $(hostname), $HOSTNAME, the pod name: no dots unless setHostnameAsFQDN
  | 'pod-ip' // status.podIP
  | 'ip' // a literal IP
  | 'dotted' // a literal dotted name
  | 'short' // a literal name without dots
  | 'variable'; // something we cannot follow

export interface Distribution {
  mode: DistributionMode;
  /** Where the mode was read: `RELEASE_DISTRIBUTION`, `-name`, `--sname` … */
  modeSource?: string;
  node?: string;
  nodeSource?: string;
  host?: HostSource;
}

export interface ContainerAnalysis {
  container: V1Container;
  env: EnvEntry[];
  /** Last definition of each name wins, as in Kubernetes. */
  envByName: Map<string, EnvEntry>;
  argv: string[];
  script?: string;
  scriptVars: Map<string, string>;
  /** The words the runtime sees: argv (or the script's words) and ERL_FLAGS/ERL_AFLAGS/ERL_ZFLAGS/ELIXIR_ERL_OPTIONS. */
  words: string[];
  /** Why we think it runs a BEAM (empty: it does not look like one). */
  beamReasons: string[];
  isElixirRelease: boolean;
  distribution: Distribution;
}

const BEAM_COMMANDS = new Set(['erl', 'erlexec', 'iex', 'elixir', 'mix', 'rebar3', 'beam.smp', 'run_erl', 'epmd']);
const RELEASE_START = new Set(['start', 'start_iex', 'daemon', 'daemon_iex', 'foreground', 'console', 'console_clean', 'console_boot']);
const FLAG_VARS = ['ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS'];
const BEAM_IMAGES = new Set(['erlang', 'elixir']);

export type ConfigMapLookup = (name: string) => Record<string, string> | undefined;

function envEntries(c: V1Container, configMap: ConfigMapLookup): EnvEntry[] {
  const out: EnvEntry[] = [];
  for (const from of objectsOf<Record<string, unknown>>(c.envFrom)) {
    const prefix = stringOf(from.prefix) ?? '';
    const ref = isRecord(from.configMapRef) ? stringOf(from.configMapRef.name) : undefined;
    if (ref) {
      for (const [k, v] of Object.entries(configMap(ref) ?? {})) out.push({ name: prefix + k, index: -1, source: 'configmap', value: v, ref });
    }
  }
  objectsOf<Record<string, unknown>>(c.env).forEach((e, index) => {
    if (typeof e.name !== 'string') return;
    const vf = isRecord(e.valueFrom) ? e.valueFrom : undefined;
    const sub = (k: string) => (vf && isRecord(vf[k]) ? (vf[k] as Record<string, unknown>) : undefined);
    const secret = sub('secretKeyRef');
    const cm = sub('configMapKeyRef');
    const field = sub('fieldRef');
    if (secret) out.push({ name: e.name, index, source: 'secret', ref: stringOf(secret.name) });
    else if (cm) {
      const ref = stringOf(cm.name);
      const key = stringOf(cm.key);
      out.push({ name: e.name, index, source: 'configmap', ref, value: ref && key ? configMap(ref)?.[key] : undefined });
    } else if (field) out.push({ name: e.name, index, source: 'field', fieldPath: stringOf(field.fieldPath) });
    else if (sub('resourceFieldRef')) out.push({ name: e.name, index, source: 'resource' });
    else if (vf) out.push({ name: e.name, index, source: 'unknown' });
    else out.push({ name: e.name, index, source: 'literal', value: typeof e.value === 'string' || typeof e.value === 'number' || typeof e.value === 'boolean' ? String(e.value) : '' });
  });
  return out;
}

/** Analyses one container. `configMap` looks up ConfigMaps of the pod's namespace in the set. */
export function analyseContainer(given: V1Container, configMap: ConfigMapLookup): ContainerAnalysis {
  const c: V1Container = typeof given.name === 'string' ? given : { ...given, name: '(unnamed)' };
  const env = envEntries(c, configMap);
  const envByName = new Map(env.map((e) => [e.name, e] as const));
  const argv = [...stringsOf(c.command), ...stringsOf(c.args)];
  const script = shellScript(argv);
  const scriptWords = script !== undefined ? shellWords(script) : [];
  const scriptVars = shellAssignments(scriptWords);
  const valueOf = (name: string) => scriptVars.get(name) ?? envByName.get(name)?.value;
  const words = [...(script !== undefined ? scriptWords : argv)];
  for (const v of FLAG_VARS) {
    const text = valueOf(v);
    if (text) words.push(...shellWords(text));
  }

  const reasons: string[] = [];
  const commandNames = (script !== undefined ? scriptWords : argv).map(basename);
  const beamCommand = commandNames.find((w) => BEAM_COMMANDS.has(w));
  if (beamCommand) reasons.push(`runs ${beamCommand}`);
  const releaseIdx = words.findIndex((w, i) => /(^|\/)bin\/[\w.-]+$/.test(w) && RELEASE_START.has(words[i + 1] ?? ''));
  if (releaseIdx >= 0) reasons.push(`runs the release command ${basename(words[releaseIdx])} ${words[releaseIdx + 1]}`);
  const beamEnv = [...new Set([...env.map((e) => e.name), ...scriptVars.keys()])].filter(
    (n) => n.startsWith('RELEASE_') || n.startsWith('ERL_') || n === 'ELIXIR_ERL_OPTIONS' || n === 'ERLANG_COOKIE',
  );
  if (beamEnv.length) reasons.push(`sets ${beamEnv.slice(0, 3).join(', ')}`);
  if (objectsOf<Record<string, unknown>>(c.ports).some((p) => p.containerPort === 4369 || p.name === 'epmd')) reasons.push('exposes the EPMD port 4369');
  const imageRepo = (stringOf(c.image) ?? '').replace(/[:@].*$/, '');
  if (BEAM_IMAGES.has(basename(imageRepo))) reasons.push(`uses the ${basename(imageRepo)} image`);

  const isElixirRelease =
    [...env.map((e) => e.name), ...scriptVars.keys()].some((n) => n.startsWith('RELEASE_')) ||
    (releaseIdx >= 0 && ['start', 'start_iex', 'daemon', 'daemon_iex'].includes(words[releaseIdx + 1]));

  const analysis: ContainerAnalysis = { container: c, env, envByName, argv, script, scriptVars, words, beamReasons: reasons, isElixirRelease, distribution: { mode: 'unknown' } };
  analysis.distribution = distribution(analysis);
  return analysis;
}

function distribution(a: ContainerAnalysis): Distribution {
  const d: Distribution = { mode: 'unknown' };
  // An explicit flag is what erl finally sees (a release passes --$RELEASE_DISTRIBUTION itself).
  const flagAt = a.words.findIndex((w) => /^--?s?name$/.test(w));
  if (flagAt >= 0) {
    d.mode = a.words[flagAt].replace(/^-+/, '') as 'name' | 'sname';
    d.modeSource = a.words[flagAt];
    const node = a.words[flagAt + 1];
    if (node !== undefined && !node.startsWith('-')) {
      d.node = node;
      d.nodeSource = a.words[flagAt];
    }
  } else {
    const fromScript = a.scriptVars.get('RELEASE_DISTRIBUTION');
    const fromEnv = a.envByName.get('RELEASE_DISTRIBUTION');
    const value = fromScript ?? fromEnv?.value;
    if (value === 'name' || value === 'sname' || value === 'none') {
      d.mode = value;
      d.modeSource = 'RELEASE_DISTRIBUTION';
    } else if (fromEnv && value === undefined) d.mode = 'unknown'; // from a Secret: cannot tell
    else if (a.isElixirRelease) {
      d.mode = 'release-default';
      d.modeSource = 'RELEASE_DISTRIBUTION (unset)';
    }
  }
  if (d.node === undefined) {
    const node = a.scriptVars.get('RELEASE_NODE') ?? a.envByName.get('RELEASE_NODE')?.value;
    if (node !== undefined) {
      d.node = node;
      d.nodeSource = 'RELEASE_NODE';
    }
  }
  if (d.node !== undefined) d.host = hostSource(d.node, a);
  return d;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Classifies the host part of a node name, following `$(VAR)`/`$VAR` through the container's env. */
export function hostSource(node: string, a: Pick<ContainerAnalysis, 'envByName' | 'scriptVars'>, depth = 0): HostSource {
  const at = node.indexOf('@');
  if (at < 0) return 'bare';
  const host = node.slice(at + 1);
  if (/\$\(\s*hostname\s+(-f|--fqdn|-A|--all-fqdns)\s*\)|`\s*hostname\s+(-f|--fqdn)\s*`/.test(host)) return 'fqdn';
  if (/\$\(\s*hostname\s+(-i|-I|--ip-address|--all-ip-addresses)\s*\)/.test(host)) return 'pod-ip';
  if (/\$\(\s*hostname\s*\)|`\s*hostname\s*`/.test(host)) return 'hostname';
  const refs = variableRefs(host);
  if (refs.length === 1 && depth < 4) {
    const name = refs[0];
    if (name === 'HOSTNAME') return 'hostname';
    const e = a.envByName.get(name);
    if (e?.source === 'field') {
      if (e.fieldPath === 'status.podIP' || e.fieldPath === 'status.podIPs') return 'pod-ip';
      if (e.fieldPath === 'metadata.name') return 'hostname';
    }
    const v = a.scriptVars.get(name) ?? e?.value;
    if (v !== undefined) return hostSource(`x@${v}`, a, depth + 1);
    if (/POD_?IP/i.test(name)) return 'pod-ip';
    return 'variable';
  }
  if (refs.length > 0 || host.includes('$')) return 'variable';
  if (IPV4.test(host) || host.includes(':')) return 'ip';
  return host.includes('.') ? 'dotted' : 'short';
}
