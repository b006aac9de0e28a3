// The TLS between kube-apiserver and the simulation's kubelet endpoint
// (test/sim/controllers/kubelet-endpoint.ts), made with the openssl CLI like certs.ts: a CA of
// the kubelets' own, the kubelet's serving certificate for 127.0.0.1 signed by it, and the client
// certificate kube-apiserver shows the kubelet (kubeadm's apiserver-kubelet-client, in
// system:masters). kube-apiserver checks the serving certificate against
// --kubelet-certificate-authority (without that flag it would not check it at all) and the
// endpoint accepts only client certificates of that CA.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeletTls } from '../../sim/controllers/kubelet-endpoint.ts';

const exec = promisify(execFile);

export interface KubeletCerts {
  /** For startSim's `kubelet` option. */
  tls: KubeletTls;
  /** kube-apiserver's flags that make it reach and trust the endpoint. */
  apiserverArgs: string[];
  /** PEM: a client certificate of the kubelet CA for a user with no rights (CN=stranger). */
  stranger: { cert: string; key: string };
  remove(): Promise<void>;
}

async function cert(dir: string, name: string, subject: string[], extensions: string[], signed: boolean): Promise<void> {
  const conf = join(dir, `${name}.cnf`);
  await writeFile(conf, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', ...subject, '[ext]', ...extensions, ''].join('\n'));
  const ca = signed ? ['-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key')] : [];
  await exec('openssl', [
    'req', '-x509', '-new', '-config', conf, '-extensions', 'ext', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-days', '2', ...ca,
  ]);
}

export async function makeKubeletCerts(): Promise<KubeletCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-kubelet-tls-'));
  await cert(dir, 'ca', ['CN = flink-sandbox-test-kubelet-ca'], ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash'], false);
  const leaf = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'authorityKeyIdentifier = keyid'];
  await Promise.all([
    cert(dir, 'kubelet', ['CN = kubelet'], [...leaf, 'extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1'], true),
    cert(dir, 'apiserver-kubelet-client', ['O = system:masters', 'CN = kube-apiserver-kubelet-client'], [...leaf, 'extendedKeyUsage = clientAuth'], true),
    cert(dir, 'stranger', ['CN = stranger'], [...leaf, 'extendedKeyUsage = clientAuth'], true),
  ]);
  const read = (f: string): Promise<string> => readFile(join(dir, f), 'utf8');
  return {
    tls: { cert: await read('kubelet.crt'), key: await read('kubelet.key'), clientCa: await read('ca.crt') },
    apiserverArgs: [
      `--kubelet-certificate-authority=${join(dir, 'ca.crt')}`,
      `--kubelet-client-certificate=${join(dir, 'apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${join(dir, 'apiserver-kubelet-client.key')}`,
      // The default order starts with Hostname, the node's name, which nothing resolves here.
      '--kubelet-preferred-address-types=InternalIP',
    ],
    stranger: { cert: await read('stranger.crt'), key: await read('stranger.key') },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
