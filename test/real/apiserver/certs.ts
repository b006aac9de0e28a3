// The certificates a loopback control plane needs, made with the openssl CLI (node:crypto can
// make keys but not sign certificates): a throwaway CA, the API server's serving certificate
// for 127.0.0.1, an admin client certificate in system:masters (what kind's admin user is), and
// the key that signs service account tokens. P-256 keys: quick to make, and Go accepts them.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface ControlPlaneCerts {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** Signs service account tokens. */
  serviceAccountKey: string;
  /** Verifies them: kube-apiserver reads only public keys (or RSA private ones) from --service-account-key-file. */
  serviceAccountPub: string;
}

interface CertSpec {
  name: string;
  subject: Record<string, string>;
  extensions: string[];
  /** Signed by the CA; otherwise self-signed (the CA itself). */
  signed: boolean;
}

async function makeCert(dir: string, spec: CertSpec): Promise<{ cert: string; key: string }> {
  // A config file of our own, so nothing of the system's openssl.cnf (its default extensions)
  // ends up in the certificate.
  const conf = join(dir, `${spec.name}.cnf`);
  await writeFile(
    conf,
    ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', ...Object.entries(spec.subject).map(([k, v]) => `${k} = ${v}`), '[ext]', ...spec.extensions, ''].join('\n'),
  );
  const cert = join(dir, `${spec.name}.crt`);
  const key = join(dir, `${spec.name}.key`);
  const ca = spec.signed ? ['-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key')] : [];
  await exec('openssl', [
    'req', '-x509', '-new', '-config', conf, '-extensions', 'ext', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', ...ca,
  ]);
  return { cert, key };
}

/** Writes every certificate and key into `dir` (a fresh private directory). */
export async function makeControlPlaneCerts(dir: string): Promise<ControlPlaneCerts> {
  const ca = await makeCert(dir, {
    name: 'ca',
    subject: { CN: 'flink-sandbox-test-ca' },
    extensions: ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash'],
    signed: false,
  });
  const leaf = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'authorityKeyIdentifier = keyid'];
  const [serving, admin] = await Promise.all([
    makeCert(dir, {
      name: 'serving',
      subject: { CN: 'kube-apiserver' },
      extensions: [...leaf, 'extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1, DNS:localhost'],
      signed: true,
    }),
    makeCert(dir, {
      name: 'admin',
      subject: { O: 'system:masters', CN: 'sandbox-admin' },
      extensions: [...leaf, 'extendedKeyUsage = clientAuth'],
      signed: true,
    }),
  ]);
  const serviceAccountKey = join(dir, 'service-account.key');
  const serviceAccountPub = join(dir, 'service-account.pub');
  await exec('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', serviceAccountKey]);
  await exec('openssl', ['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]);
  return {
    caCert: ca.cert,
    caKey: ca.key,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey,
    serviceAccountPub,
  };
}
