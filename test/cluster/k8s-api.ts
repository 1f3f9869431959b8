/**
 * The Kubernetes API objects of a rig, in the API server's JSON shapes (v1 Service, discovery.k8s.io/v1
 * EndpointSliceList, v1 PodList), and the discovery a probe gets from them. The client library
 * (@kubernetes/client-node) does not load on every Node we run, and the probe runs inside a pod
 * namespace with no route to a test server: so the probe pod runs probe-k8s-runner.ts, which
 * turns these objects into a ServiceDiscovery through the same model functions the client's
 * answers go through (serviceOf, endpointsOf, podOf, predictNames).
 */
import type { Cluster } from './rig.js';

export interface ApiPod {
  podName: string;
  /** Owner kind (ReplicaSet for a Deployment's pod, StatefulSet, …). */
  owner?: string;
  readinessProbe?: boolean;
  hostNetwork?: boolean;
  nodeName?: string;
}

export interface ApiObjects {
  service: object;
  endpointSlices: object;
  pods: object;
}

/** The Service, its EndpointSlice and the pods of a rig, as the API server returns them. */
export function apiObjects(c: Cluster, o: { pods: ApiPod[]; selector?: Record<string, string> }): ApiObjects {
  const svc = c.svc;
  const selector = o.selector ?? { app: 'myapp' };
  const placed = c.placedPods();
  const pod = (p: ApiPod) => {
    const spec = placed.find((x) => x.podName === p.podName)!;
    const ready = spec.ready !== false;
    const ownerName = p.owner === 'StatefulSet' ? 'myapp' : 'myapp-7d9f8b6c5';
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.podName, namespace: svc.namespace, labels: { ...selector },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: p.owner ?? 'ReplicaSet', name: ownerName, uid: `uid-${ownerName}`, controller: true }],
      },
      spec: {
        ...(spec.hostname ? { hostname: spec.hostname } : {}),
        ...(spec.subdomain ? { subdomain: spec.subdomain } : {}),
        ...(p.hostNetwork ? { hostNetwork: true } : {}),
        nodeName: p.nodeName ?? 'kind-worker',
        containers: [{
          name: 'myapp', image: 'registry.example/myapp:1.4.2', ports: [{ name: 'epmd', containerPort: 4369, protocol: 'TCP' }],
          ...(p.readinessProbe ? { readinessProbe: { httpGet: { path: '/health/ready', port: 4000 }, periodSeconds: 5 } } : {}),
        }],
      },
      status: {
        phase: 'Running', podIP: spec.ip, podIPs: [{ ip: spec.ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }, { type: 'ContainersReady', status: ready ? 'True' : 'False' }],
      },
    };
  };
  const headless = svc.headless !== false;
  return {
    service: {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: svc.service, namespace: svc.namespace, labels: { ...selector } },
      spec: {
        clusterIP: headless ? 'None' : svc.clusterIP, type: 'ClusterIP', selector: { ...selector },
        ports: (svc.ports ?? [{ name: 'epmd', port: 4369, protocol: 'TCP' }]).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP', targetPort: p.port })),
        ...(svc.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
      },
    },
    endpointSlices: {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSliceList',
      items: [{
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
        metadata: { name: `${svc.service}-abc12`, namespace: svc.namespace, labels: { 'kubernetes.io/service-name': svc.service } },
        endpoints: o.pods.map((p) => {
          const spec = placed.find((x) => x.podName === p.podName)!;
          const ready = spec.ready !== false;
          return {
            addresses: [spec.ip],
            conditions: { ready, serving: ready, terminating: false },
            // ShouldSetHostname: spec.hostname set and subdomain = the service.
            ...(spec.hostname && spec.subdomain === svc.service ? { hostname: spec.hostname } : {}),
            targetRef: { kind: 'Pod', name: p.podName, namespace: svc.namespace },
            nodeName: p.nodeName ?? 'kind-worker',
          };
        }),
        ports: [{ name: 'epmd', port: 4369, protocol: 'TCP' }],
      }],
    },
    pods: { apiVersion: 'v1', kind: 'PodList', items: o.pods.map(pod) },
  };
}
