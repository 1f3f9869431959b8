/**
 * The view of a manifest set the rules need: pod templates (from every workload kind) with the
 * name their pods get and the Service that governs their DNS names, Services, ConfigMaps (to see
 * cookies kept in them) and the CoreDNS Corefile when the set carries one.
 */
import type { V1Container, V1PodSpec, V1ServicePort, V1Volume } from './k8s-types.js';
import { parseCorefile, type KubernetesPluginConfig } from '../discovery/corefile.js';
import { isRecord, objectsOf, stringMap } from './shape.js';
import type { ManifestObject } from './types.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'ReplicaSet' | 'ReplicationController' | 'DaemonSet' | 'Pod';

export interface PodTemplate {
  object: ManifestObject;
  kind: WorkloadKind;
  labels: Record<string, string>;
  spec: V1PodSpec;
  containers: V1Container[];
  /** The headless Service that names the pods: pod `subdomain`, or a StatefulSet's `serviceName`. */
  governingService?: string;
  /** Which field said so, for messages. */
  governingField?: 'spec.template.spec.subdomain' | 'spec.serviceName' | 'spec.subdomain';
  replicas: number;
}

export interface ServiceView {
  object: ManifestObject;
  headless: boolean;
  /** undefined: no selector (endpoints managed by hand). */
  selector?: Record<string, string>;
  ports: V1ServicePort[];
  publishNotReadyAddresses: boolean;
}

export interface CoreDnsView {
  object: ManifestObject;
  plugin?: KubernetesPluginConfig;
  error?: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NetworkPolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}

export interface NetworkPolicyView {
  object: ManifestObject;
  podSelector: LabelSelector;
  /** Directions this policy restricts (policyTypes, defaulting as the API does). */
  ingress?: { ports?: NetworkPolicyPort[] }[];
  egress?: { ports?: NetworkPolicyPort[] }[];
}

export interface ManifestSet {
  objects: ManifestObject[];
  templates: PodTemplate[];
  services: ServiceView[];
  /** `namespace/name` → data (string values only). */
  configMaps: Map<string, Record<string, string>>;
  coreDns: CoreDnsView[];
  networkPolicies: NetworkPolicyView[];
}

const WORKLOADS_WITH_TEMPLATE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'DaemonSet']);

const record = stringMap;

interface TemplateLike {
  metadata?: { labels?: Record<string, string> };
  spec?: V1PodSpec;
}

function podTemplate(o: ManifestObject): PodTemplate | undefined {
  const spec = o.raw.spec;
  if (!isRecord(spec)) return undefined;
  let labels: Record<string, string>;
  let raw: unknown;
  if (o.kind === 'Pod') {
    labels = record(isRecord(o.raw.metadata) ? o.raw.metadata.labels : undefined);
    raw = spec;
  } else if (WORKLOADS_WITH_TEMPLATE.has(o.kind)) {
    const template = isRecord(spec.template) ? spec.template : {};
    labels = record(isRecord(template.metadata) ? template.metadata.labels : undefined);
    raw = template.spec;
  } else return undefined;
  if (!isRecord(raw) || !Array.isArray(raw.containers)) return undefined;
  // Only the fields the rules read, each of its declared type (anything else reads as absent).
  const podSpec: V1PodSpec = {
    containers: objectsOf<V1Container>(raw.containers),
    ...(typeof raw.subdomain === 'string' ? { subdomain: raw.subdomain } : {}),
    ...(typeof raw.hostname === 'string' ? { hostname: raw.hostname } : {}),
    ...(typeof raw.setHostnameAsFQDN === 'boolean' ? { setHostnameAsFQDN: raw.setHostnameAsFQDN } : {}),
    ...(raw.hostNetwork === true ? { hostNetwork: true } : {}),
    volumes: objectsOf<V1Volume>(raw.volumes),
    initContainers: objectsOf<V1Container>(raw.initContainers),
  };
  const kind = o.kind as WorkloadKind;
  let governingService: string | undefined;
  let governingField: PodTemplate['governingField'];
  if (kind === 'StatefulSet' && typeof spec.serviceName === 'string' && spec.serviceName) {
    governingService = spec.serviceName; // the controller sets each pod's subdomain to it
    governingField = 'spec.serviceName';
  } else if (podSpec.subdomain) {
    governingService = podSpec.subdomain;
    governingField = kind === 'Pod' ? 'spec.subdomain' : 'spec.template.spec.subdomain';
  }
  const replicas = kind === 'Pod' ? 1 : typeof spec.replicas === 'number' && Number.isSafeInteger(spec.replicas) && spec.replicas >= 0 ? spec.replicas : 1;
  return { object: o, kind, labels, spec: podSpec, containers: podSpec.containers, governingService, governingField, replicas };
}

function serviceView(o: ManifestObject): ServiceView {
  const spec = isRecord(o.raw.spec) ? o.raw.spec : {};
  const annotations = record(isRecord(o.raw.metadata) ? o.raw.metadata.annotations : undefined);
  const selector = record(spec.selector);
  return {
    object: o,
    headless: spec.clusterIP === 'None',
    selector: Object.keys(selector).length ? selector : undefined,
    ports: objectsOf<V1ServicePort>(spec.ports),
    // The legacy annotation still works on older clusters.
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true || annotations['service.alpha.kubernetes.io/tolerate-unready-endpoints'] === 'true',
  };
}

function networkPolicyView(o: ManifestObject): NetworkPolicyView {
  const spec = isRecord(o.raw.spec) ? o.raw.spec : {};
  const sel = isRecord(spec.podSelector) ? spec.podSelector : {};
  const podSelector: LabelSelector = {
    matchLabels: record(sel.matchLabels),
    matchExpressions: objectsOf<Record<string, unknown>>(sel.matchExpressions).map((e) => ({
      key: String(e.key),
      operator: String(e.operator),
      values: Array.isArray(e.values) ? e.values.map(String) : [],
    })),
  };
  const rules = (v: unknown) =>
    objectsOf<Record<string, unknown>>(v).map((r) => (Array.isArray(r.ports) ? { ports: objectsOf<NetworkPolicyPort>(r.ports) } : {}));
  // API default: Ingress always; Egress when the policy has egress rules.
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : ['Ingress', ...(spec.egress ? ['Egress'] : [])];
  return {
    object: o,
    podSelector,
    ...(types.includes('Ingress') ? { ingress: rules(spec.ingress) } : {}),
    ...(types.includes('Egress') ? { egress: rules(spec.egress) } : {}),
  };
}

/** Kubernetes label selector semantics (matchLabels AND matchExpressions; an empty selector selects everything). */
export function labelsMatch(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(labels[e.key]) :
      e.operator === 'NotIn' ? !has || !values.includes(labels[e.key]) :
      e.operator === 'Exists' ? has :
      e.operator === 'DoesNotExist' ? !has :
      false;
    if (!ok) return false;
  }
  return true;
}

/** A ConfigMap that is CoreDNS's: named `coredns` with a `Corefile` key (kube-system in every distribution we know). */
function coreDnsView(o: ManifestObject, data: Record<string, string>): CoreDnsView | undefined {
  if (o.name !== 'coredns' || typeof data.Corefile !== 'string') return undefined;
  try {
    const cf = parseCorefile(data.Corefile);
    return { object: o, plugin: cf.kubernetes[0] };
  } catch (err) {
    return { object: o, error: (err as Error).message };
  }
}

export function buildManifestSet(objects: ManifestObject[]): ManifestSet {
  const set: ManifestSet = { objects, templates: [], services: [], configMaps: new Map(), coreDns: [], networkPolicies: [] };
  for (const o of objects) {
    if (o.kind === 'Service') set.services.push(serviceView(o));
    else if (o.kind === 'NetworkPolicy') set.networkPolicies.push(networkPolicyView(o));
    else if (o.kind === 'ConfigMap') {
      const data = record(o.raw.data);
      set.configMaps.set(`${o.namespace}/${o.name}`, data);
      const dns = coreDnsView(o, data);
      if (dns) set.coreDns.push(dns);
    } else {
      const t = podTemplate(o);
      if (t) set.templates.push(t);
    }
  }
  return set;
}

/** Whether a Service's selector selects a pod template (same namespace, every selector label present). */
export function selects(svc: ServiceView, t: PodTemplate): boolean {
  if (!svc.selector || svc.object.namespace !== t.object.namespace) return false;
  return Object.entries(svc.selector).every(([k, v]) => t.labels[k] === v);
}

export const objectRef = (o: ManifestObject) => `${o.kind}/${o.name}`;
