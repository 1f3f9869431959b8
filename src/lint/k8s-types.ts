/**
 * The fields of Kubernetes pod specs that lint reads, as manifests hold them (plain objects from
 * YAML). Declared here rather than imported from @kubernetes/client-node, an optional peer of
 * the package, so that the published types compile without it. Field meanings: the Kubernetes API
 * reference (core/v1 PodSpec, Container, Volume, ServicePort).
 */
export interface V1EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string; apiVersion?: string };
    secretKeyRef?: { name?: string; key: string; optional?: boolean };
    configMapKeyRef?: { name?: string; key: string; optional?: boolean };
    resourceFieldRef?: { resource: string; containerName?: string };
  };
}

export interface V1EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  configMapRef?: { name?: string; optional?: boolean };
}

export interface V1ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  hostPort?: number;
}

export interface V1VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

export interface V1Probe {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
}

export interface V1Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: V1EnvVar[];
  envFrom?: V1EnvFromSource[];
  ports?: V1ContainerPort[];
  volumeMounts?: V1VolumeMount[];
  readinessProbe?: V1Probe;
  livenessProbe?: V1Probe;
  startupProbe?: V1Probe;
}

export interface V1KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface V1Volume {
  name: string;
  configMap?: { name?: string; items?: V1KeyToPath[]; optional?: boolean };
  secret?: { secretName?: string; items?: V1KeyToPath[]; optional?: boolean };
  projected?: {
    sources?: {
      configMap?: { name?: string; items?: V1KeyToPath[]; optional?: boolean };
      secret?: { name?: string; items?: V1KeyToPath[]; optional?: boolean };
    }[];
  };
}

export interface V1PodSpec {
  containers: V1Container[];
  initContainers?: V1Container[];
  volumes?: V1Volume[];
  hostname?: string;
  subdomain?: string;
  setHostnameAsFQDN?: boolean;
  hostNetwork?: boolean;
  nodeName?: string;
  dnsPolicy?: string;
}

export interface V1ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}
