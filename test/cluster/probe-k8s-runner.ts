/**
 * Runs `runProbe({ kubernetes })` inside a pod of the rig with the API objects of k8s-api.ts in
 * place of the API server (see there why), and prints the JSON report. Arguments: a JSON file
 * `{ service, namespace, cookieFile, api: ApiObjects }`. Exit status as the CLI's: 0 ok, 1 broken.
 */
import { readFileSync } from 'node:fs';
import type { V1EndpointSliceList, V1PodList, V1Service } from '@kubernetes/client-node';
import { endpointsOf, podOf, predictNames, serviceOf, type KubernetesDiscovery } from '../../src/discovery/index.js';
import { renderJson, runProbe } from '../../src/probe/index.js';
import type { ApiObjects } from './k8s-api.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { service: string; namespace: string; cookieFile: string; mesh?: boolean; api: ApiObjects };
const api = {
  service: input.api.service as V1Service,
  slices: input.api.endpointSlices as V1EndpointSliceList,
  pods: input.api.pods as V1PodList,
};
const fake = {
  namespace: input.namespace,
  async discover(name: string) {
    const service = serviceOf(api.service);
    if (name !== service.name) throw new Error(`services "${name}" not found`);
    const pods = api.pods.items.map(podOf);
    return {
      service,
      endpoints: api.slices.items.flatMap(endpointsOf),
      pods,
      coreDns: {},
      predictions: predictNames(pods, service, {}),
      errors: [],
    };
  },
} as unknown as KubernetesDiscovery;

const report = await runProbe({
  service: input.service,
  cookie: readFileSync(input.cookieFile, 'utf8').trim(),
  kubernetes: { namespace: input.namespace, client: async () => fake },
  mesh: input.mesh === true,
});
process.stdout.write(renderJson(report));
process.exitCode = report.verdict === 'ok' ? 0 : 1;
