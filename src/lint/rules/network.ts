/**
 * network-policy: NetworkPolicies are additive allow-lists. Once one selects a pod for a
 * direction, only what some rule allows passes. BEAM pods need TCP 4369 (EPMD) and the
 * distribution port both ways, and DNS (53) out; the distribution port is random unless
 * inet_dist_listen_min/max pin it, and then no port list can allow it. Only ports are checked
 * here, not `from`/`to` peers.
 */
import type { ContainerAnalysis } from '../beam.js';
import { objectsOf } from '../shape.js';
import { labelsMatch, type NetworkPolicyPort, type NetworkPolicyView } from '../model.js';
import type { Finding } from '../types.js';
import { finding, type BeamTemplate, type Rule } from './context.js';

/** The pinned distribution port range, from `-kernel inet_dist_listen_min N inet_dist_listen_max M`. */
export function distPortRange(a: ContainerAnalysis): [number, number] | undefined {
  const at = (key: string) => {
    const i = a.words.indexOf(key);
    const v = i >= 0 ? Number(a.words[i + 1]) : NaN;
    return Number.isInteger(v) && v > 0 && v <= 0xffff ? v : undefined;
  };
  const min = at('inet_dist_listen_min');
  if (min === undefined) return undefined;
  return [min, at('inet_dist_listen_max') ?? min];
}

type Allowed = 'all' | NetworkPolicyPort[];

/** What the policies selecting these pods allow in one direction; undefined when none restricts it. */
function allowed(policies: NetworkPolicyView[], dir: 'ingress' | 'egress'): Allowed | undefined {
  const restricting = policies.filter((p) => p[dir] !== undefined);
  if (restricting.length === 0) return undefined;
  const ports: NetworkPolicyPort[] = [];
  for (const p of restricting) {
    for (const rule of p[dir] ?? []) {
      if (!rule.ports || rule.ports.length === 0) return 'all';
      ports.push(...rule.ports);
    }
  }
  return ports;
}

/** Whether a TCP (or UDP) port, or every port of a range, is allowed; named ports are looked up in the containers. */
function allows(a: Allowed, port: number, protocol: 'TCP' | 'UDP', names: Map<string, number>, upTo = port): boolean {
  if (a === 'all') return true;
  for (let p = port; p <= upTo; p++) {
    const ok = a.some((x) => {
      if ((x.protocol ?? 'TCP') !== protocol) return false;
      if (x.port === undefined) return true;
      const from = typeof x.port === 'number' ? x.port : names.get(x.port);
      if (from === undefined) return false;
      return p >= from && p <= (x.endPort ?? from);
    });
    if (!ok) return false;
  }
  return true;
}

export const networkPolicies: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) out.push(...checkTemplate(b, ctx.set.networkPolicies));
  return out;
};

function checkTemplate(b: BeamTemplate, all: NetworkPolicyView[]): Finding[] {
  const t = b.template;
  const policies = all.filter((p) => p.object.namespace === t.object.namespace && labelsMatch(p.podSelector, t.labels));
  if (policies.length === 0) return [];
  const out: Finding[] = [];
  const names = new Map<string, number>();
  for (const c of t.containers) {
    for (const p of objectsOf<Record<string, unknown>>(c.ports)) if (typeof p.name === 'string' && typeof p.containerPort === 'number') names.set(p.name, p.containerPort);
  }
  // Pinned by a flag the set shows (command, ERL_*FLAGS, a mounted vm.args or env.sh), else by the product's image.
  const dist = b.beam.map((a) => distPortRange(a) ?? a.product?.distPorts).find((r) => r !== undefined);
  const epmd = b.beam.some((a) => a.product?.epmd !== false);
  const extra = b.beam.flatMap((a) => a.product?.extraPorts ?? []);
  for (const dir of ['ingress', 'egress'] as const) {
    const a = allowed(policies, dir);
    if (a === undefined) continue;
    const by = policies.filter((p) => p[dir] !== undefined).map((p) => p.object.name).join(', ');
    const blocked: string[] = [];
    if (epmd && !allows(a, 4369, 'TCP', names)) blocked.push('EPMD (TCP 4369)');
    if (dist && !allows(a, dist[0], 'TCP', names, Math.min(dist[1], dist[0] + 1024))) blocked.push(`the distribution port${dist[1] > dist[0] ? `s ${dist[0]}-${dist[1]}` : ` ${dist[0]}`}`);
    for (const x of extra) if (!allows(a, x.port, 'TCP', names)) blocked.push(`${x.what} (TCP ${x.port})`);
    if (dir === 'egress' && !(allows(a, 53, 'UDP', names) && allows(a, 53, 'TCP', names))) blocked.push('DNS (UDP and TCP 53)');
    if (blocked.length) {
      out.push(
        finding('network-policy', 'error', t.object, `NetworkPolicy ${by} restricts ${dir} of these BEAM pods and does not allow ${blocked.join(', ')}: nodes need ${epmd ? 'EPMD and ' : ''}the distribution port between them${dir === 'egress' ? ', and DNS to find each other' : ''} (a blocked distribution port looks like EPMD answering and the handshake never connecting)`, `allow ${blocked.join(' and ')} ${dir === 'ingress' ? 'from' : 'to'} the BEAM pods in a NetworkPolicy selecting them`),
      );
    }
    if (!dist && a !== 'all') {
      out.push(
        finding('network-policy', 'warning', t.object, `NetworkPolicy ${by} restricts ${dir} ports, but the distribution port is not pinned: the node listens on a random port no port list can allow`, 'pin it: ERL_AFLAGS="-kernel inet_dist_listen_min 9000 inet_dist_listen_max 9000", and allow 9000'),
      );
    }
  }
  return out;
}
