/**
 * Reads a CoreDNS Corefile (ConfigMap kube-system/coredns, key `Corefile`) far enough to know how
 * the `kubernetes` plugin names endpoints: its zones, `endpoint_pod_names`, `pods` mode, `ttl`,
 * `fallthrough`, `noendpoints`. Caddyfile syntax: server blocks `keys { directives }`, one
 * directive per line, a directive may open its own `{ … }` block, `#` starts a comment.
 */

export interface CorefileDirective {
  name: string;
  args: string[];
  block?: CorefileDirective[];
}

export interface CorefileServer {
  /** Server keys, e.g. `.:53`, `cluster.local:53`. */
  keys: string[];
  directives: CorefileDirective[];
}

export interface KubernetesPluginConfig {
  /** Keys of the server block this plugin sits in. */
  serverKeys: string[];
  /** Zones the plugin is authoritative for (its arguments, or the server block's zones). */
  zones: string[];
  /** The first forward zone that is not a reverse zone: the cluster domain (usually `cluster.local`). */
  clusterDomain: string | undefined;
  endpointPodNames: boolean;
  /** Plugin default `disabled`; kubeadm/kind/minikube set `insecure`. */
  podsMode: 'disabled' | 'insecure' | 'verified';
  /** Plugin default 5 s; kubeadm sets 30. */
  ttl: number;
  /** Zones listed after `fallthrough` (`['*']` when it has no arguments); undefined without it. */
  fallthrough: string[] | undefined;
  noendpoints: boolean;
  /** Every option line as written (name → arguments). */
  options: Record<string, string[]>;
}

export interface Corefile {
  servers: CorefileServer[];
  /** One entry per `kubernetes` plugin found (usually one). */
  kubernetes: KubernetesPluginConfig[];
}

export class CorefileSyntaxError extends Error {
  override name = 'CorefileSyntaxError';
}

type Token = { text: string; line: number } | { text: '\n'; line: number };

const MAX_CHARS = 1 << 20; // a Corefile is a few KB; refuse anything absurd before tokenizing

function tokenize(text: string): Token[] {
  if (text.length > MAX_CHARS) throw new CorefileSyntaxError(`Corefile of ${text.length} characters is larger than ${MAX_CHARS}`);
  const out: Token[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '');
    for (const m of line.matchAll(/"([^"]*)"|\{|\}|[^\s{}"]+/g)) out.push({ text: m[1] ?? m[0], line: i + 1 });
    out.push({ text: '\n', line: i + 1 });
  });
  return out;
}

/** Parses Corefile text. Throws CorefileSyntaxError on unbalanced braces. */
export function parseCorefile(text: string): Corefile {
  const toks = tokenize(text);
  let i = 0;
  const servers: CorefileServer[] = [];

  const parseBlock = (depth: number): CorefileDirective[] => {
    if (depth > 16) throw new CorefileSyntaxError('blocks nested deeper than 16');
    const out: CorefileDirective[] = [];
    let cur: string[] = [];
    const flush = (block?: CorefileDirective[]) => {
      if (cur.length) out.push({ name: cur[0], args: cur.slice(1), ...(block ? { block } : {}) });
      cur = [];
    };
    while (i < toks.length) {
      const t = toks[i++];
      if (t.text === '\n') flush();
      else if (t.text === '{') flush(parseBlock(depth + 1));
      else if (t.text === '}') {
        flush();
        return out;
      } else cur.push(t.text);
    }
    throw new CorefileSyntaxError('missing }');
  };

  let keys: string[] = [];
  while (i < toks.length) {
    const t = toks[i++];
    if (t.text === '\n') continue;
    if (t.text === '{') {
      if (keys.length === 0) throw new CorefileSyntaxError(`line ${t.line}: block without server keys`);
      servers.push({ keys, directives: parseBlock(1) });
      keys = [];
    } else if (t.text === '}') throw new CorefileSyntaxError(`line ${t.line}: unexpected }`);
    else keys.push(t.text);
  }
  return { servers, kubernetes: servers.flatMap(kubernetesPlugins) };
}

function kubernetesPlugins(server: CorefileServer): KubernetesPluginConfig[] {
  return server.directives
    .filter((d) => d.name === 'kubernetes')
    .map((d) => {
      const options: Record<string, string[]> = {};
      for (const o of d.block ?? []) options[o.name] = o.args;
      const serverZones = server.keys.map((k) => k.replace(/^[a-z]+:\/\//, '').replace(/:\d+$/, '')).map(stripDot);
      const zones = (d.args.length ? d.args : serverZones).map(stripDot).filter((z) => z.length > 0);
      const pods = options.pods?.[0];
      const ttl = options.ttl?.[0] !== undefined ? Number(options.ttl[0]) : 5;
      return {
        serverKeys: server.keys,
        zones,
        clusterDomain: zones.find((z) => z !== '.' && !z.endsWith('in-addr.arpa') && !z.endsWith('ip6.arpa')),
        endpointPodNames: 'endpoint_pod_names' in options,
        podsMode: pods === 'insecure' || pods === 'verified' ? pods : 'disabled',
        ttl: Number.isFinite(ttl) && ttl >= 0 ? ttl : 5,
        fallthrough: options.fallthrough ? (options.fallthrough.length ? options.fallthrough.map(stripDot) : ['*']) : undefined,
        noendpoints: 'noendpoints' in options,
        options,
      };
    });
}

const stripDot = (z: string) => (z.length > 1 && z.endsWith('.') ? z.slice(0, -1) : z);
