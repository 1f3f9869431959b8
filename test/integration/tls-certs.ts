/**
 * Test certificates made with the openssl CLI: a CA, and per name a key and a certificate
 * (serverAuth + clientAuth, subjectAltName IP:127.0.0.1 and DNS:localhost) signed by it. Used by
 * the TLS distribution tests; everything lives in one temporary folder erl can read.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

export interface Pki {
  dir: string;
  /** Makes `<ca>.key`/`<ca>.pem`, a self-signed CA. */
  ca(name: string): { key: string; pem: string };
  /** Makes `<name>.key`/`<name>.pem` signed by `ca`; returns the paths. `san` replaces the default subjectAltName entries. */
  leaf(name: string, ca: string, san?: string[]): { key: string; pem: string };
  read(path: string): Buffer;
}

export function pki(dir: string): Pki {
  return {
    dir,
    ca(name) {
      openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
      return { key: join(dir, `${name}.key`), pem: join(dir, `${name}.pem`) };
    },
    leaf(name, ca, san) {
      writeFileSync(join(dir, `${name}.ext`), [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${(san ?? ['IP:127.0.0.1', 'DNS:localhost', 'DNS:127.0.0.1']).join(',')}`,
      ].join('\n'));
      openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
      return { key: join(dir, `${name}.key`), pem: join(dir, `${name}.pem`) };
    },
    read: (p) => readFileSync(p),
  };
}
