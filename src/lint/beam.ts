/**
 * What a container tells about the BEAM inside it: whether it is one (commands, RELEASE_/ERL_
 * environment, the EPMD port, the image, a product lint knows), and how it names itself: long or
 * short names, and where the host part of its node name comes from. Read from the manifest and
 * the ConfigMap files the pod mounts (env.sh, vm.args, sourced scripts); what the image alone
 * sets (a baked-in rel/env.sh.eex) stays invisible, and the messages say so.
 */
import type { V1Container, V1Volume } from './k8s-types.js';
import { basename, shellAssignments, shellScript, shellWords } from './shell.js';
import { isRecord, objectsOf, stringOf, stringsOf } from './shape.js';
import { configFiles, mountedFiles, type ConfigFiles, type ConfigMapLookup } from './files.js';
import { classifyHost, expandText, hostParts, type ExpandScope, type HostInfo, type HostSource } from './host.js';
import { productOf, type Product } from './products.js';

export type { HostSource, HostInfo } from './host.js';
export type { ConfigMapLookup } from './files.js';

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

export interface Distribution {
  mode: DistributionMode;
  /** Where the mode was read: `RELEASE_DISTRIBUTION`, `-name`, `--sname` … */
  modeSource?: string;
  node?: string;
  nodeSource?: string;
  host?: HostSource;
  /** The expanded host, its DNS suffix and the variables behind it. */
  hostInfo?: HostInfo;
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
  /** A product lint knows (RabbitMQ, EMQX …), which names its node its own way. */
  product?: Product;
  /** What mounted ConfigMap files (env.sh, vm.args, sourced scripts) set. */
  config: ConfigFiles;
  /** envFrom names a Secret or a ConfigMap not in the set: undefined variables may come from there. */
  opaqueEnv: boolean;
  distribution: Distribution;
}

/** What the pod around a container says: its namespace, subdomain and volumes. */
export interface PodContext {
  namespace?: string;
  subdomain?: string;
  volumes?: readonly V1Volume[];
}

const BEAM_COMMANDS = new Set(['erl', 'erlexec', 'iex', 'elixir', 'mix', 'rebar3', 'beam.smp', 'run_erl', 'epmd']);
const RELEASE_START = new Set(['start', 'start_iex', 'daemon', 'daemon_iex', 'foreground', 'console', 'console_clean', 'console_boot']);
const FLAG_VARS = ['ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS'];
const BEAM_IMAGES = new Set(['erlang', 'elixir']);

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

/** Whether envFrom brings variables lint cannot see (a Secret, or a ConfigMap not in the set). */
function opaqueEnvFrom(c: V1Container, configMap: ConfigMapLookup): boolean {
  return objectsOf<Record<string, unknown>>(c.envFrom).some((from) => {
    if (isRecord(from.secretRef)) return true;
    const ref = isRecord(from.configMapRef) ? stringOf(from.configMapRef.name) : undefined;
    return ref !== undefined && configMap(ref) === undefined;
  });
}

const isBeamVar = (n: string) => n.startsWith('RELEASE_') || n.startsWith('ERL_') || n === 'ELIXIR_ERL_OPTIONS' || n === 'ERLANG_COOKIE';

/** Analyses one container. `configMap` looks up ConfigMaps of the pod's namespace in the set. */
export function analyseContainer(given: V1Container, configMap: ConfigMapLookup, pod: PodContext = {}): ContainerAnalysis {
  const c: V1Container = typeof given.name === 'string' ? given : { ...given, name: '(unnamed)' };
  const env = envEntries(c, configMap);
  const envByName = new Map(env.map((e) => [e.name, e] as const));
  const argv = [...stringsOf(c.command), ...stringsOf(c.args)];
  const script = shellScript(argv);
  const scriptWords = script !== undefined ? shellWords(script) : [];
  const mounted = mountedFiles(c, pod.volumes ?? [], configMap);
  const config = configFiles(mounted, scriptWords);
  // The release script sources env.sh after the container's command ran its own exports.
  const scriptVars = new Map([...shellAssignments(scriptWords), ...config.vars]);
  const valueOf = (name: string) => scriptVars.get(name) ?? envByName.get(name)?.value;
  const words = [...(script !== undefined ? scriptWords : argv), ...config.vmArgs];
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
  const names = new Set([...env.map((e) => e.name), ...scriptVars.keys()]);
  const beamEnv = [...names].filter(isBeamVar);
  if (beamEnv.length) reasons.push(`sets ${beamEnv.slice(0, 3).join(', ')}`);
  const ports = objectsOf<Record<string, unknown>>(c.ports);
  if (ports.some((p) => p.containerPort === 4369 || p.name === 'epmd')) reasons.push('exposes the EPMD port 4369');
  const image = stringOf(c.image) ?? '';
  const imageRepo = image.replace(/[:@].*$/, '');
  if (BEAM_IMAGES.has(basename(imageRepo))) reasons.push(`uses the ${basename(imageRepo)} image`);
  if (config.vmArgs.length) reasons.push(`mounts a vm.args`);
  const product = productOf({
    names,
    value: valueOf,
    image,
    ports: ports.flatMap((p) => (typeof p.containerPort === 'number' ? [p.containerPort] : [])),
    subdomain: pod.subdomain,
    namespace: pod.namespace ?? 'default',
    file: (name) => mounted.find((f) => basename(f.path) === name)?.text,
  });
  if (product) reasons.push(`${product.reason} (${product.name})`);

  const isElixirRelease =
    !product && ([...names].some((n) => n.startsWith('RELEASE_')) || (releaseIdx >= 0 && ['start', 'start_iex', 'daemon', 'daemon_iex'].includes(words[releaseIdx + 1])));

  const analysis: ContainerAnalysis = {
    container: c,
    env,
    envByName,
    argv,
    script,
    scriptVars,
    words,
    beamReasons: reasons,
    isElixirRelease,
    product,
    config,
    opaqueEnv: opaqueEnvFrom(c, configMap),
    distribution: { mode: 'unknown' },
  };
  analysis.distribution = distribution(analysis, pod.namespace);
  return analysis;
}

function distribution(a: ContainerAnalysis, namespace: string | undefined): Distribution {
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
  } else if (a.product) {
    const p = a.product;
    d.mode = p.mode;
    d.modeSource = p.modeSource;
    if (p.node !== undefined) {
      d.node = p.node;
      d.nodeSource = p.nodeSource;
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
  if (d.node === undefined && !a.product) {
    const node = a.scriptVars.get('RELEASE_NODE') ?? a.envByName.get('RELEASE_NODE')?.value;
    if (node !== undefined) {
      d.node = node;
      const file = a.config.varFrom.get('RELEASE_NODE');
      d.nodeSource = file ? `RELEASE_NODE in ${file}` : 'RELEASE_NODE';
    }
  }
  if (d.node !== undefined) {
    d.hostInfo = nodeHost(d.node, scopeOf(a, namespace));
    d.host = d.hostInfo.source;
  }
  return d;
}

/** The variables a container's node name may use. */
export const scopeOf = (a: Pick<ContainerAnalysis, 'envByName' | 'scriptVars'> & { opaqueEnv?: boolean }, namespace?: string): ExpandScope => ({
  script: a.scriptVars,
  env: a.envByName,
  namespace,
  opaqueEnv: a.opaqueEnv ?? false,
});

/** The host of a node name, expanded and classified (`bare` when the name has no `@`). */
export function nodeHost(node: string, scope: ExpandScope): HostInfo {
  const parts = expandText(node, scope);
  const host = hostParts(parts);
  if (host === undefined) return parts.some((p) => p.t === 'unknown') ? { source: 'variable', display: node } : { source: 'bare', display: '' };
  return classifyHost(host);
}

/** Classifies the host part of a node name, following `$(VAR)`/`$VAR` through the container's env. */
export function hostSource(node: string, a: Pick<ContainerAnalysis, 'envByName' | 'scriptVars'>): HostSource {
  return nodeHost(node, scopeOf(a)).source;
}
