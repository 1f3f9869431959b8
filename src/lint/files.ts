/**
 * The configuration files a container reads from ConfigMaps of the set: a release's `env.sh`,
 * `vm.args`, a script its command sources (`. /etc/app/setup.sh`), RabbitMQ's
 * `rabbitmq-env.conf`. They decide the node name as much as `env` does, so lint reads them where
 * the pod mounts them (a `configMap` or `projected` volume, whole or through `subPath`).
 */
import type { V1Container, V1Volume } from './k8s-types.js';
import { isRecord, objectsOf, stringOf } from './shape.js';
import { basename, shellAssignments, shellWords } from './shell.js';

export type ConfigMapLookup = (name: string) => Record<string, string> | undefined;

export interface MountedFile {
  /** Where the container sees it. */
  path: string;
  text: string;
  /** `ConfigMap/<name>` key `<key>`, for messages. */
  from: string;
}

interface VolumeSource {
  configMap: string;
  /** key → relative path; undefined: every key under its own name. */
  items?: Map<string, string>;
}

function sourcesOf(v: V1Volume): VolumeSource[] {
  const one = (src: unknown): VolumeSource | undefined => {
    if (!isRecord(src)) return undefined;
    const name = stringOf(src.name);
    if (!name) return undefined;
    const items = Array.isArray(src.items)
      ? new Map(objectsOf<Record<string, unknown>>(src.items).flatMap((i) => (typeof i.key === 'string' ? [[i.key, stringOf(i.path) ?? i.key] as const] : [])))
      : undefined;
    return { configMap: name, items };
  };
  const direct = one(v.configMap);
  if (direct) return [direct];
  const projected = isRecord(v.projected) ? objectsOf<Record<string, unknown>>(v.projected.sources) : [];
  return projected.flatMap((s) => {
    const x = one(s.configMap);
    return x ? [x] : [];
  });
}

/** Files of ConfigMaps in the set that the container mounts (ConfigMaps not in the set are unknown, so absent). */
export function mountedFiles(c: V1Container, volumes: readonly V1Volume[], configMap: ConfigMapLookup): MountedFile[] {
  const out: MountedFile[] = [];
  for (const m of objectsOf<Record<string, unknown>>(c.volumeMounts)) {
    const mountPath = stringOf(m.mountPath);
    const vol = volumes.find((v) => v.name === m.name);
    if (!mountPath || !vol) continue;
    const subPath = stringOf(m.subPath);
    for (const src of sourcesOf(vol)) {
      const data = configMap(src.configMap);
      if (!data) continue;
      for (const [key, text] of Object.entries(data)) {
        const rel = src.items ? src.items.get(key) : key;
        if (rel === undefined) continue;
        if (subPath !== undefined && subPath !== '') {
          if (rel === subPath) out.push({ path: mountPath, text, from: `ConfigMap/${src.configMap} key ${key}` });
        } else out.push({ path: `${mountPath.replace(/\/+$/, '')}/${rel}`, text, from: `ConfigMap/${src.configMap} key ${key}` });
      }
    }
  }
  return out;
}

/** Scripts a shell script sources: `. FILE` and `source FILE`. */
export function sourcedPaths(scriptWords: readonly string[]): string[] {
  const out: string[] = [];
  scriptWords.forEach((w, i) => {
    if ((w === '.' || w === 'source') && scriptWords[i + 1]) out.push(scriptWords[i + 1]);
  });
  return out;
}

/** The words of a script or vm.args file, comments dropped (`#` starting a word, to the end of its line). */
export function fileWords(text: string): string[] {
  return shellWords(
    text
      .split('\n')
      .map((l) => l.replace(/(^|\s)#.*$/, ''))
      .join('\n'),
  );
}

export interface ConfigFiles {
  /** Shell assignments from env.sh, sourced scripts and rabbitmq-env.conf, later ones winning. */
  vars: Map<string, string>;
  /** Where each variable was set (for messages). */
  varFrom: Map<string, string>;
  /** Words of mounted vm.args files. */
  vmArgs: string[];
  vmArgsFrom?: string;
  /** Files read, for messages and the cookie rule. */
  files: MountedFile[];
}

/**
 * What the container's mounted configuration sets. `env.sh` anywhere is taken as the release's
 * (the release script and Livebook's image both source it before boot); other `*.sh` files count
 * only when the command sources them.
 */
export function configFiles(files: readonly MountedFile[], scriptWords: readonly string[]): ConfigFiles {
  const out: ConfigFiles = { vars: new Map(), varFrom: new Map(), vmArgs: [], files: [] };
  const sourced = new Set(sourcedPaths(scriptWords));
  const set = (vars: Map<string, string>, from: string) => {
    for (const [k, v] of vars) {
      out.vars.set(k, v);
      out.varFrom.set(k, from);
    }
  };
  for (const f of files) {
    const name = basename(f.path);
    if (name === 'env.sh' || sourced.has(f.path)) {
      set(shellAssignments(fileWords(f.text)), `${f.path} (${f.from})`);
      out.files.push(f);
    } else if (name === 'rabbitmq-env.conf') {
      // rabbitmq-env reads NODENAME=… as RABBITMQ_NODENAME (the prefix is optional there).
      const vars = new Map([...shellAssignments(fileWords(f.text))].map(([k, v]) => [k.startsWith('RABBITMQ_') ? k : `RABBITMQ_${k}`, v] as const));
      set(vars, `${f.path} (${f.from})`);
      out.files.push(f);
    } else if (name === 'vm.args') {
      out.vmArgs.push(...fileWords(f.text));
      out.vmArgsFrom = `${f.path} (${f.from})`;
      out.files.push(f);
    }
  }
  return out;
}
