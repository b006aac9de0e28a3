// The simulated Elasticsearch's HTTP certificate: self-signed, as ECK's own CA is to everyone
// outside the cluster, so clients must skip verification (`ssl_verify: false`, curl -k). Made
// with the openssl CLI because node:crypto makes keys but cannot sign certificates; one per
// Service name and process, in a private temp directory removed right after.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const made = new Map<string, Promise<{ key: string; cert: string }>>();

async function make(service: string, namespace: string): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-es-tls-'));
  try {
    const names = [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
    const conf = join(dir, 'req.cnf');
    // Our own config, so nothing from the system's openssl.cnf ends up in the certificate.
    await writeFile(
      conf,
      [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        `CN = ${service}.${namespace}.es.local`,
        'OU = quickstart',
        '[ext]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = ${[...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(', ')}`,
        '',
      ].join('\n'),
    );
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    await exec('openssl', ['req', '-x509', '-new', '-config', conf, '-extensions', 'ext', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '365']);
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A key and certificate (PEM) for `<service>.<namespace>.svc`; made once per process. */
export function serviceCertificate(service: string, namespace: string): Promise<{ key: string; cert: string }> {
  const k = `${namespace}/${service}`;
  let p = made.get(k);
  if (!p) {
    p = make(service, namespace);
    // A failure is not kept: the next container start tries again.
    p.catch(() => made.delete(k));
    made.set(k, p);
  }
  return p;
}
