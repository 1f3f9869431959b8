/**
 * The node's own name: completing a bare `alive` into `alive@host` as net_kernel does, and the
 * resolver's domain for long names. A small resolv.conf reader of its own, because dist must not
 * depend on discovery (discovery/resolv-conf.ts is the full parser, for the probe).
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { NodeError } from '../runtime/errors.js';

/**
 * Fills in the host of a bare `alive` name as net_kernel:create_hostpart/2 does, and decides
 * long/short names. Short names: the host name up to its first dot. Long names: the host name,
 * with the resolver's domain appended when it has no dot (inet_db's `domain` option, read from
 * resolv.conf's `domain` or first `search` entry by Node.start).
 */
export function completeName(
  name: string,
  longNames?: boolean,
  env: { hostname?: string; domain?: string } = {},
): { name: string; longNames: boolean } {
  if (name.includes('@')) {
    const host = name.slice(name.indexOf('@') + 1);
    return { name, longNames: longNames ?? (host.includes('.') || /^[0-9a-fA-F:]+$/.test(host)) };
  }
  const h = env.hostname ?? hostname();
  if (longNames) {
    const fqdn = h.includes('.') ? h : env.domain ? `${h}.${env.domain}` : undefined;
    if (!fqdn) {
      throw new NodeError('BEAM_ERR_NODE_BAD_NAME', `long names need a fully qualified host: "${h}" has no dot and the resolver has no domain; give the name as ${name}@<fqdn or IP>`);
    }
    return { name: `${name}@${fqdn}`, longNames: true };
  }
  return { name: `${name}@${h.split('.')[0]}`, longNames: false };
}

/** The resolver's domain: resolv.conf's `domain`, else its first `search` entry (bounded read). */
export function resolverDomain(path = '/etc/resolv.conf'): string | undefined {
  let text: string;
  try {
    if (statSync(path).size > 64 * 1024) return undefined;
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let search: string | undefined;
  for (const line of text.split('\n')) {
    const [key, first] = line.trim().split(/\s+/);
    if (key === 'domain' && first) return first.replace(/\.$/, '');
    if (key === 'search' && first && search === undefined) search = first.replace(/\.$/, '');
  }
  return search;
}
