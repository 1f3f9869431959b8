/**
 * Discovery through the Kubernetes API (@kubernetes/client-node 1.x, object parameters): a
 * service's EndpointSlices, the Service, its pods, and the CoreDNS Corefile when readable (the
 * kubernetes plugin's `endpoint_pod_names` and `pods` modes decide which names DNS serves; see
 * https://github.com/coredns/coredns/tree/master/plugin/kubernetes). Every failure is typed: a
 * 403 is a KubernetesAccessError naming the verb, resource and RBAC fix, never an empty list;
 * connection failures are BEAM_ERR_K8S_UNREACHABLE.
 */
import { readFileSync } from 'node:fs';
import { addAbortListener } from 'node:events';
import createDebug from 'debug';
// Types only: the package is loaded on first use (loadClient). It is large (its generated models
// take a noticeable time to load), and a user who only wants DNS must neither pay for it nor
// crash when it is missing or broken.
import type {
  ConfigurationOptions,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node';
import { KubernetesAccessError, KubernetesError } from './errors.js';
import type { KubeConfigLike } from './k8s-api.js';
import { endpointsOf, podOf, selectorString, serviceOf, type EndpointInfo, type PodInfo, type ServiceInfo } from './k8s-model.js';
import { parseCorefile, type KubernetesPluginConfig } from './corefile.js';
import { predictNames, type PodNamePrediction } from './predict.js';

export { parseCorefile, type Corefile, type KubernetesPluginConfig, CorefileSyntaxError } from './corefile.js';
export { predictNames, kubeletHostname, type PodNamePrediction, type PredictionProblem, type DnsSettings } from './predict.js';
export type { EndpointInfo, PodInfo, ServiceInfo, ServicePortInfo } from './k8s-model.js';

const log = createDebug('beamnode:discovery:k8s');

export interface KubernetesClientOptions {
  /** A ready KubeConfig. Default: `loadFromDefault()` (KUBECONFIG, ~/.kube/config, else in-cluster). */
  kubeConfig?: KubeConfigLike;
  /** An explicit API server URL (tests, `kubectl proxy`); used with `token` / `caData` / `skipTlsVerify`. */
  server?: string;
  token?: string;
  /** PEM CA bundle for `server`. */
  caData?: string;
  skipTlsVerify?: boolean;
  /** Default namespace: the context's, else the service account's, else `default`. */
  namespace?: string;
  /** Per request, in ms (default 10 000). */
  timeout?: number;
  /** @deprecated Use `timeout` (one name for every timeout option; this one is read when `timeout` is absent). */
  timeoutMs?: number;
}

export interface RequestOptions {
  namespace?: string;
  signal?: AbortSignal;
}

export interface CoreDnsInfo {
  /** The parsed `kubernetes` plugin block (the first one), when the ConfigMap was readable. */
  plugin?: KubernetesPluginConfig;
  /** Why the Corefile is unknown (403 is common and harmless for the probe). */
  error?: KubernetesError | Error;
}

export interface ServiceDiscovery {
  service: ServiceInfo;
  endpoints: EndpointInfo[];
  /** Pods selected by the service's selector (empty when it has none). */
  pods: PodInfo[];
  coreDns: CoreDnsInfo;
  predictions: PodNamePrediction[];
  /** Non-fatal failures (listing pods forbidden, …); the service itself must be readable. */
  errors: KubernetesError[];
}

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

type ClientModule = typeof import('@kubernetes/client-node');
let clientModule: Promise<ClientModule> | undefined;

/**
 * Loads @kubernetes/client-node once. A failure (the package missing, pruned or broken) is cached
 * and reported as BEAM_ERR_K8S_CLIENT: importing a module whose evaluation failed again only
 * repeats it.
 */
function loadClient(): Promise<ClientModule> {
  clientModule ??= import('@kubernetes/client-node').catch((e: unknown) => {
    throw new KubernetesError(
      'BEAM_ERR_K8S_CLIENT',
      'load @kubernetes/client-node',
      `@kubernetes/client-node cannot be loaded on Node ${process.version}: ${(e as Error)?.message ?? String(e)}. ` +
        'It is an optional peer dependency, needed only for the Kubernetes API (probe --kubernetes): npm install @kubernetes/client-node@1',
      undefined,
      { cause: e },
    );
  });
  return clientModule;
}

export class KubernetesDiscovery {
  readonly namespace: string;
  readonly server: string;
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly timeoutMs: number;
  private readonly k8s: ClientModule;

  /** Loads the client library and the configuration. Throws KubernetesError (CONFIG, CLIENT). */
  static async create(opts: KubernetesClientOptions = {}): Promise<KubernetesDiscovery> {
    return new KubernetesDiscovery(await loadClient(), opts);
  }

  private constructor(k8s: ClientModule, opts: KubernetesClientOptions) {
    this.k8s = k8s;
    // A caller's KubeConfig is a real one (KubeConfigLike only keeps the public types free of the package).
    let kc = opts.kubeConfig as KubeConfig | undefined;
    if (!kc) {
      kc = new k8s.KubeConfig();
      try {
        if (opts.server) {
          kc.loadFromClusterAndUser(
            // client-node refuses plain http unless skipTLSVerify is set; an http:// URL has no TLS to verify.
            { name: 'beamnode', server: opts.server, skipTLSVerify: opts.skipTlsVerify ?? opts.server.startsWith('http:'), ...(opts.caData ? { caData: Buffer.from(opts.caData).toString('base64') } : {}) },
            { name: 'beamnode', ...(opts.token ? { token: opts.token } : {}) },
          );
        } else {
          kc.loadFromDefault();
          // loadFromDefault falls back to an unauthenticated http://localhost:8080 when it finds no
          // kubeconfig and no service account: say so instead of failing later on that URL.
          const c = kc.getCurrentCluster();
          if (c?.name === 'cluster' && c.server === 'http://localhost:8080' && kc.getCurrentUser()?.name === 'user')
            throw new Error('no KUBECONFIG, no ~/.kube/config, and no in-cluster service account token');
        }
      } catch (e) {
        throw new KubernetesError('BEAM_ERR_K8S_CONFIG', 'load kubeconfig', `no usable Kubernetes configuration: ${(e as Error).message}`, undefined, { cause: e });
      }
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubernetesError('BEAM_ERR_K8S_CONFIG', 'load kubeconfig', 'the kubeconfig has no current cluster');
    this.server = cluster.server;
    this.namespace = opts.namespace ?? contextNamespace(kc) ?? serviceAccountNamespace() ?? 'default';
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    this.timeoutMs = opts.timeout ?? opts.timeoutMs ?? 10_000;
  }

  /** The endpoints of every EndpointSlice labelled `kubernetes.io/service-name=<service>`. */
  async endpointSlices(service: string, o: RequestOptions = {}): Promise<EndpointInfo[]> {
    const namespace = o.namespace ?? this.namespace;
    const list = await this.call('list', 'endpointslices.discovery.k8s.io', namespace, o.signal, (opt) =>
      this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` }, opt),
    );
    return (list.items ?? []).flatMap(endpointsOf);
  }

  /** The Service. 404 → BEAM_ERR_K8S_NOT_FOUND. */
  async service(name: string, o: RequestOptions = {}): Promise<ServiceInfo> {
    const namespace = o.namespace ?? this.namespace;
    const svc = await this.call('get', 'services', namespace, o.signal, (opt) => this.core.readNamespacedService({ name, namespace }, opt), name);
    return serviceOf(svc);
  }

  /** Pods, optionally by label selector (`app=myapp`). */
  async pods(o: RequestOptions & { labelSelector?: string } = {}): Promise<PodInfo[]> {
    const namespace = o.namespace ?? this.namespace;
    const list = await this.call('list', 'pods', namespace, o.signal, (opt) =>
      this.core.listNamespacedPod({ namespace, ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}) }, opt),
    );
    return (list.items ?? []).map(podOf);
  }

  /** The `kubernetes` plugin block of the Corefile in ConfigMap kube-system/coredns. */
  async coreDnsConfig(o: { signal?: AbortSignal; namespace?: string; name?: string } = {}): Promise<KubernetesPluginConfig | undefined> {
    const namespace = o.namespace ?? 'kube-system';
    const name = o.name ?? 'coredns';
    const cm = await this.call('get', 'configmaps', namespace, o.signal, (opt) => this.core.readNamespacedConfigMap({ name, namespace }, opt), name);
    const text = cm.data?.Corefile;
    if (text === undefined) return undefined;
    return parseCorefile(text).kubernetes[0];
  }

  /**
   * Everything about one service: the Service (must be readable), its EndpointSlices, the pods
   * its selector matches, the CoreDNS settings when readable, and per-pod name predictions.
   * A 403 on the Service or the EndpointSlices throws; on pods or the Corefile it is recorded.
   */
  async discover(serviceName: string, o: RequestOptions & { clusterDomain?: string } = {}): Promise<ServiceDiscovery> {
    const service = await this.service(serviceName, o);
    const errors: KubernetesError[] = [];
    const endpoints = await this.endpointSlices(serviceName, o);
    let pods: PodInfo[] = [];
    if (service.selector && Object.keys(service.selector).length) {
      try {
        pods = await this.pods({ ...o, labelSelector: selectorString(service.selector) });
      } catch (e) {
        if (!(e instanceof KubernetesError)) throw e;
        errors.push(e);
      }
    }
    const coreDns: CoreDnsInfo = {};
    try {
      coreDns.plugin = await this.coreDnsConfig({ signal: o.signal });
    } catch (e) {
      if (!(e instanceof Error) || o.signal?.aborted) throw e;
      coreDns.error = e;
    }
    const predictions = predictNames(pods, service, {
      clusterDomain: o.clusterDomain ?? coreDns.plugin?.clusterDomain,
      endpointPodNames: coreDns.plugin?.endpointPodNames,
    });
    return { service, endpoints, pods, coreDns, predictions, errors };
  }

  /** Runs one API call with a timeout and the caller's signal, mapping failures to typed errors. */
  private async call<T>(
    verb: string,
    resource: string,
    namespace: string,
    signal: AbortSignal | undefined,
    fn: (opt: ConfigurationOptions) => Promise<T>,
    name?: string,
  ): Promise<T> {
    signal?.throwIfAborted();
    const what = `${verb} ${resource}${name ? `/${name}` : ''} in ${namespace}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    // Observable middleware (the ObjectParam API hands `options.middleware` to the observable
    // layer): it puts our signal on every request so that undici aborts the fetch itself.
    const Observable = this.k8s.Observable;
    const withSignal = {
      pre: (ctx: RequestContext) => {
        ctx.setSignal(combined);
        return new Observable(Promise.resolve(ctx));
      },
      post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
    };
    const opt: ConfigurationOptions = { middleware: [withSignal], middlewareMergeStrategy: 'append' };
    log('%s (%s)', what, this.server);
    let stop: Disposable | undefined;
    try {
      // Racing the abort as well: we never wait past the deadline even if the transport ignores the signal.
      return await Promise.race([
        fn(opt),
        new Promise<never>((_, reject) => {
          stop = addAbortListener(combined, () => reject(combined.reason));
        }),
      ]);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw toKubernetesError(this.k8s, e, verb, resource, namespace, what, timeout.aborted ? this.timeoutMs : undefined);
    } finally {
      stop?.[Symbol.dispose]();
    }
  }
}

function toKubernetesError(k8s: ClientModule, e: unknown, verb: string, resource: string, namespace: string, what: string, timedOutMs?: number): KubernetesError {
  if (timedOutMs !== undefined)
    return new KubernetesError('BEAM_ERR_K8S_TIMEOUT', what, `${what}: no answer from the API server within ${timedOutMs} ms`, undefined, { cause: e });
  if (e instanceof k8s.ApiException) {
    const status = e.code;
    const message = statusMessage(e.body) ?? e.message;
    log('%s: HTTP %d %s', what, status, message);
    if (status === 403) return new KubernetesAccessError(verb, resource, namespace, message, { cause: e });
    if (status === 401)
      return new KubernetesError('BEAM_ERR_K8S_UNAUTHORIZED', what, `${what}: HTTP 401 Unauthorized (missing or expired credentials)`, 401, { cause: e });
    if (status === 404) return new KubernetesError('BEAM_ERR_K8S_NOT_FOUND', what, `${what}: not found (${message})`, 404, { cause: e });
    return new KubernetesError('BEAM_ERR_K8S_API', what, `${what}: HTTP ${status}: ${message}`, status, { cause: e });
  }
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (/HTTP protocol is not allowed/.test(err.message ?? ''))
    return new KubernetesError('BEAM_ERR_K8S_CONFIG', what, `${what}: ${err.message} (set skipTLSVerify for a plain-http API URL)`, undefined, { cause: e });
  const code = err.cause?.code ?? (err as { code?: string }).code;
  const detail = err.cause?.message ?? err.message;
  // undici's fetch rejects with TypeError('fetch failed') whose cause carries the socket error code.
  if ((err instanceof TypeError && err.message === 'fetch failed') || typeof code === 'string')
    return new KubernetesError('BEAM_ERR_K8S_UNREACHABLE', what, `${what}: cannot reach the API server: ${detail}${code ? ` (${code})` : ''}`, undefined, { cause: e });
  return new KubernetesError('BEAM_ERR_K8S_API', what, `${what}: ${detail}`, undefined, { cause: e });
}

/** The `message` of a Status object body (JSON text or object), when there is one. */
function statusMessage(body: unknown): string | undefined {
  let b: unknown = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.length ? body.slice(0, 500) : undefined;
    }
  }
  if (b && typeof b === 'object' && 'message' in b && typeof (b as { message: unknown }).message === 'string') return (b as { message: string }).message;
  return undefined;
}

function contextNamespace(kc: KubeConfig): string | undefined {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace || undefined;
}

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SA_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
