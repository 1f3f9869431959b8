/**
 * BEAM products that name their node from their own variables, not from `-name` or
 * `RELEASE_NODE`: what each image's start script does with them (its documented defaults),
 * so lint can check the name they end up with, and which ports they pin.
 *   RabbitMQ   rabbitmq-env: RABBITMQ_NODENAME (default rabbit@<hostname>), -sname unless
 *              RABBITMQ_USE_LONGNAME=true; distribution port RABBITMQ_DIST_PORT, else AMQP + 20000.
 *   EMQX       docker-entrypoint.sh: EMQX_NODE__NAME, else ${EMQX_NAME:-emqx}@${EMQX_HOST}, the host
 *              the pod IP unless the k8s address type says otherwise; always long names; 5.x listens
 *              on 4370 without EPMD and uses 5370 for cluster RPC, 4.x on 6369-7369 with EPMD.
 *   VerneMQ    vernemq.sh: VerneMQ@${DOCKER_VERNEMQ_NODENAME}, with Kubernetes discovery
 *              VerneMQ@${MY_POD_NAME}.<subdomain>.<ns>.svc.<cluster>, else the pod IP; ports
 *              DOCKER_VERNEMQ_ERLANG__DISTRIBUTION__PORT_RANGE__MINIMUM/MAXIMUM (9100-9109).
 *   CouchDB    docker-entrypoint.sh: couchdb@${NODENAME} (vm.args default couchdb@127.0.0.1),
 *              distribution pinned to 9100 in the image's vm.args.
 *   Livebook   LIVEBOOK_NODE, LIVEBOOK_DISTRIBUTION (default sname); 13825 for clustering.
 *   MongooseIM start.sh: ${NODE_NAME:-mongooseim}@$(hostname -s|-f) by NODE_TYPE (default sname);
 *              distribution pinned to 9100.
 */
import type { DistributionMode } from './beam.js';

export type ProductName = 'RabbitMQ' | 'EMQX' | 'VerneMQ' | 'CouchDB' | 'Livebook' | 'MongooseIM';

export interface Product {
  name: ProductName;
  reason: string;
  mode: DistributionMode;
  modeSource: string;
  /** The node name the image builds, in shell syntax (its variables are expanded like any other). */
  node?: string;
  nodeSource?: string;
  /** How to switch it to long names, for messages. */
  longNamesFix: string;
  /** Distribution port range the image listens on. */
  distPorts?: [number, number];
  distPortsSource?: string;
  /** Peers dial EPMD (4369) first. */
  epmd: boolean;
  /** Other TCP ports the nodes use between them. */
  extraPorts: { port: number; what: string }[];
  /** The names the product's own peer discovery dials: IPs or pod DNS names. */
  discovery?: { dials: 'ip' | 'dns-name'; what: string };
}

export interface ProductInput {
  /** Variables the container defines (env, envFrom, scripts). */
  names: ReadonlySet<string>;
  value(name: string): string | undefined;
  image: string;
  ports: number[];
  /** The pod's subdomain (a StatefulSet's serviceName) and namespace. */
  subdomain?: string;
  namespace: string;
  /** A mounted file's text by its name (rabbitmq.conf). */
  file(name: string): string | undefined;
}

const has = (i: ProductInput, prefix: string) => [...i.names].some((n) => n.startsWith(prefix));
// Variables only a RabbitMQ server reads (rabbitmq-env, Bitnami's image); clients set RABBITMQ_HOST, _URL, _PASSWORD.
const RABBITMQ_SERVER_VARS = ['RABBITMQ_NODENAME', 'RABBITMQ_NODE_NAME', 'RABBITMQ_USE_LONGNAME', 'RABBITMQ_ERLANG_COOKIE', 'RABBITMQ_ERL_COOKIE', 'RABBITMQ_DIST_PORT', 'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS', 'RABBITMQ_MNESIA_BASE', 'RABBITMQ_MNESIA_DIR', 'RABBITMQ_ENABLED_PLUGINS_FILE', 'RABBITMQ_CONFIG_FILE'];
// `registry:5000/library/rabbitmq:3.13@sha256:…`: the last path segment, its tag after the last ':'.
const lastSegment = (image: string) => image.replace(/@.*$/, '').split('/').pop() ?? '';
const imageIs = (i: ProductInput, name: string) => lastSegment(i.image).replace(/:.*$/, '') === name;
const tagOf = (image: string) => /:([^:]+)$/.exec(lastSegment(image))?.[1] ?? '';
const port = (v: string | undefined, d: number) => {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n <= 0xffff ? n : d;
};
/** One pinned distribution port, reached through EPMD, nothing else between the nodes. */
const pinned = (p: number, source: string) => ({ distPorts: [p, p] as [number, number], distPortsSource: source, epmd: true, extraPorts: [] });
const truthy = (v: string | undefined) => v !== undefined && /^(true|yes|1)$/i.test(v);

function rabbitmq(i: ProductInput): Product | undefined {
  const why = RABBITMQ_SERVER_VARS.some((n) => i.names.has(n)) ? 'sets RabbitMQ server variables' : imageIs(i, 'rabbitmq') ? 'uses the rabbitmq image' : i.ports.includes(25672) ? 'exposes the RabbitMQ distribution port 25672' : undefined;
  if (!why) return undefined;
  const long = truthy(i.value('RABBITMQ_USE_LONGNAME'));
  const nodeVar = i.value('RABBITMQ_NODENAME') !== undefined ? 'RABBITMQ_NODENAME' : i.value('RABBITMQ_NODE_NAME') !== undefined ? 'RABBITMQ_NODE_NAME' : undefined; // the second: Bitnami's image
  const distVar = i.value('RABBITMQ_DIST_PORT');
  const dist = port(distVar, port(i.value('RABBITMQ_NODE_PORT') ?? i.value('RABBITMQ_NODE_PORT_NUMBER'), 5672) + 20000);
  // rabbitmq_peer_discovery_k8s up to 4.0 dials what the Endpoints API gives, by
  // cluster_formation.k8s.address_type (default ip); from 4.1 it derives the seed from the node's own name.
  const conf = i.file('rabbitmq.conf') ?? '';
  const k8s = /^\s*cluster_formation\.peer_discovery_backend\s*=\s*(rabbit_peer_discovery_)?k8s\s*$/m.test(conf);
  const version = /^(\d+)\.(\d+)/.exec(tagOf(i.image));
  const v1 = version !== null && (Number(version[1]) < 4 || (Number(version[1]) === 4 && Number(version[2]) === 0));
  const type = /^\s*cluster_formation\.k8s\.address_type\s*=\s*(\w+)/m.exec(conf)?.[1] ?? 'ip';
  const discovery = k8s && v1 ? { dials: type === 'hostname' ? 'dns-name' : 'ip', what: `rabbitmq.conf cluster_formation.k8s.address_type = ${type}` } as const : undefined;
  return {
    name: 'RabbitMQ',
    reason: why,
    mode: long ? 'name' : 'sname',
    modeSource: long ? 'RABBITMQ_USE_LONGNAME' : 'RABBITMQ_USE_LONGNAME (unset: RabbitMQ uses -sname)',
    node: nodeVar ? i.value(nodeVar) : long ? 'rabbit' : 'rabbit@$(hostname)',
    nodeSource: nodeVar ?? 'RabbitMQ default',
    longNamesFix: 'set RABBITMQ_USE_LONGNAME=true and RABBITMQ_NODENAME=rabbit@$(POD_NAME).<headless service>.$(POD_NAMESPACE).svc.<cluster domain> (POD_NAME, POD_NAMESPACE from fieldRef)',
    ...pinned(dist, distVar !== undefined ? 'RABBITMQ_DIST_PORT' : 'RabbitMQ default (AMQP port + 20000)'),
    ...(discovery ? { discovery } : {}),
  };
}

function emqx(i: ProductInput): Product | undefined {
  // EMQX overrides its configuration with EMQX_<PATH>__<KEY>; a client of EMQX may set EMQX_HOST alone.
  const why = [...i.names].some((n) => /^EMQX_(NAME|NODE_NAME|\w+__\w+)$/.test(n)) ? 'sets EMQX server variables' : imageIs(i, 'emqx') ? 'uses the emqx image' : undefined;
  if (!why) return undefined;
  const full = ['EMQX_NODE_NAME', 'EMQX_NODE__NAME'].find((n) => i.value(n) !== undefined);
  let host = '${EMQX_HOST}';
  if (i.value('EMQX_HOST') === undefined) {
    const type = i.value('EMQX_CLUSTER__K8S__ADDRESS_TYPE');
    host = type === 'hostname' ? '$(hostname -f)' : type === 'dns' ? '${LOCAL_IP//./-}.pod' : '$(hostname -i)';
  }
  const v4 = /^v?4\./.test(tagOf(i.image));
  // ekka: the k8s strategy dials app@<ip> (address_type ip, the default) or app@<pod>.<svc>.<ns>.<suffix>
  // (hostname); the dns strategy app@<A record> or app@<SRV target>.
  const strategy = i.value('EMQX_CLUSTER__DISCOVERY_STRATEGY') ?? i.value('EMQX_CLUSTER__DISCOVERY');
  const k8sType = i.value('EMQX_CLUSTER__K8S__ADDRESS_TYPE') ?? 'ip';
  const record = i.value('EMQX_CLUSTER__DNS__RECORD_TYPE') ?? 'a';
  const discovery =
    strategy === 'k8s' && (k8sType === 'ip' || k8sType === 'hostname')
      ? ({ dials: k8sType === 'ip' ? 'ip' : 'dns-name', what: `EMQX_CLUSTER__K8S__ADDRESS_TYPE=${k8sType}` } as const)
      : strategy === 'dns' && (record === 'a' || record === 'srv')
        ? ({ dials: record === 'a' ? 'ip' : 'dns-name', what: `EMQX_CLUSTER__DNS__RECORD_TYPE=${record}` } as const)
        : undefined;
  return {
    name: 'EMQX',
    reason: why,
    mode: 'name',
    modeSource: 'EMQX (always long names)',
    node: full ? i.value(full) : `\${EMQX_NAME:-emqx}@${host}`,
    nodeSource: full ?? "built by EMQX's entrypoint from EMQX_NAME and EMQX_HOST",
    longNamesFix: 'EMQX always uses long names',
    distPorts: v4 ? [6369, 7369] : [4370, 4370],
    distPortsSource: v4 ? 'EMQX 4 default (node.dist_listen_min/max)' : 'EMQX 5 (fixed port, no EPMD)',
    epmd: v4,
    extraPorts: [{ port: v4 ? 5369 : 5370, what: 'EMQX cluster RPC (gen_rpc)' }],
    ...(discovery ? { discovery } : {}),
  };
}

function vernemq(i: ProductInput): Product | undefined {
  const why = has(i, 'DOCKER_VERNEMQ_') ? 'sets DOCKER_VERNEMQ_* variables' : imageIs(i, 'vernemq') || imageIs(i, 'docker-vernemq') ? 'uses the vernemq image' : undefined;
  if (!why) return undefined;
  let node = 'VerneMQ@$(hostname -i)';
  let nodeSource = 'VerneMQ default (the pod IP)';
  if (i.value('DOCKER_VERNEMQ_NODENAME') !== undefined) {
    node = 'VerneMQ@${DOCKER_VERNEMQ_NODENAME}';
    nodeSource = 'DOCKER_VERNEMQ_NODENAME';
  } else if (i.names.has('DOCKER_VERNEMQ_DISCOVERY_KUBERNETES')) {
    // vernemq.sh: the subdomain from the variable, else from the pod's spec (read through the API).
    const sub = i.value('DOCKER_VERNEMQ_KUBERNETES_SUBDOMAIN') ?? i.subdomain;
    const ns = i.value('DOCKER_VERNEMQ_KUBERNETES_NAMESPACE') ?? i.namespace;
    const zone = i.value('DOCKER_VERNEMQ_KUBERNETES_CLUSTER_NAME') ?? 'cluster.local';
    node = `VerneMQ@\${MY_POD_NAME}.${sub ? `${sub}.` : ''}${ns}.svc.${zone}`;
    nodeSource = "built by VerneMQ's start script for DOCKER_VERNEMQ_DISCOVERY_KUBERNETES";
  }
  const min = port(i.value('DOCKER_VERNEMQ_ERLANG__DISTRIBUTION__PORT_RANGE__MINIMUM'), 9100);
  return {
    name: 'VerneMQ',
    reason: why,
    mode: 'name',
    modeSource: 'VerneMQ (always long names)',
    node,
    nodeSource,
    longNamesFix: 'VerneMQ always uses long names',
    distPorts: [min, Math.max(min, port(i.value('DOCKER_VERNEMQ_ERLANG__DISTRIBUTION__PORT_RANGE__MAXIMUM'), 9109))],
    distPortsSource: 'DOCKER_VERNEMQ_ERLANG__DISTRIBUTION__PORT_RANGE__MINIMUM/MAXIMUM (image default 9100-9109)',
    epmd: true,
    extraPorts: [],
  };
}

function couchdb(i: ProductInput): Product | undefined {
  // A client of CouchDB may set COUCHDB_URL or COUCHDB_USER; the cookie is the server's own.
  const why = i.names.has('COUCHDB_ERLANG_COOKIE') ? 'sets COUCHDB_ERLANG_COOKIE' : imageIs(i, 'couchdb') ? 'uses the couchdb image' : undefined;
  if (!why) return undefined;
  const named = i.value('NODENAME') !== undefined;
  return {
    name: 'CouchDB',
    reason: why,
    mode: 'name',
    modeSource: 'CouchDB (vm.args -name)',
    node: named ? 'couchdb@${NODENAME}' : 'couchdb@127.0.0.1',
    nodeSource: named ? "built by CouchDB's entrypoint from NODENAME" : "the image's vm.args default, NODENAME unset",
    longNamesFix: 'CouchDB always uses long names',
    ...pinned(9100, "the couchdb image's vm.args"),
  };
}

function livebook(i: ProductInput): Product | undefined {
  const why = has(i, 'LIVEBOOK_') ? 'sets LIVEBOOK_* variables' : imageIs(i, 'livebook') ? 'uses the livebook image' : undefined;
  if (!why) return undefined;
  const dist = i.value('LIVEBOOK_DISTRIBUTION');
  const mode: DistributionMode = dist === 'name' || dist === 'sname' ? dist : dist === undefined && i.value('LIVEBOOK_CLUSTER') === undefined ? 'sname' : 'unknown';
  return {
    name: 'Livebook',
    reason: why,
    mode,
    modeSource: dist !== undefined ? 'LIVEBOOK_DISTRIBUTION' : 'LIVEBOOK_DISTRIBUTION (unset: sname)',
    node: i.value('LIVEBOOK_NODE'),
    nodeSource: 'LIVEBOOK_NODE',
    longNamesFix: 'set LIVEBOOK_DISTRIBUTION=name and LIVEBOOK_NODE=livebook@$(POD_IP) (POD_IP from fieldRef status.podIP)',
    ...pinned(13825, 'Livebook default for clustering'),
  };
}

function mongooseim(i: ProductInput): Product | undefined {
  if (!/mongooseim/.test(i.image)) return undefined;
  const type = i.value('NODE_TYPE') === 'name' ? 'name' : 'sname';
  return {
    name: 'MongooseIM',
    reason: 'uses the mongooseim image',
    mode: type,
    modeSource: i.value('NODE_TYPE') !== undefined ? 'NODE_TYPE' : 'NODE_TYPE (unset: sname)',
    node: `\${NODE_NAME:-mongooseim}@${type === 'name' ? '$(hostname -f)' : '$(hostname -s)'}`,
    nodeSource: "built by MongooseIM's start script from NODE_NAME and NODE_TYPE",
    longNamesFix: 'set NODE_TYPE=name (the node takes $(hostname -f)) with a StatefulSet serviceName',
    ...pinned(9100, "the mongooseim image's vm.args"),
  };
}

/** The product a container runs, if lint knows it. */
export function productOf(i: ProductInput): Product | undefined {
  return rabbitmq(i) ?? emqx(i) ?? vernemq(i) ?? couchdb(i) ?? livebook(i) ?? mongooseim(i);
}
