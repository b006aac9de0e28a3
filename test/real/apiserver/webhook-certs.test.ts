// The certificates the simulated cert-manager and certgen issue for kube-apiserver to verify
// (test/sim/controllers/webhook-serving.ts): a CA, a serving certificate it signs for a
// Service's DNS names, and a self-signed one (cert-manager's selfSigned issuer). The apiserver
// tier's sim-on-real test shows kube-apiserver accepting them; this shows what it checks, in
// this tier because it needs openssl, as the control plane's certificates do.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyPairOf, makeCert } from '../../sim/controllers/webhook-serving.ts';

describe('simulated webhook certificates', () => {
  it('a CA signs a serving certificate for the Service names, and a self-signed one is its own root', async () => {
    const ca = await makeCert({ commonName: 'test-ca', isCA: true });
    const names = ['hook', 'hook.ns', 'hook.ns.svc'];
    const leaf = await makeCert({ commonName: 'hook', dnsNames: names, signer: ca });
    const caCert = new X509Certificate(ca.cert);
    const leafCert = new X509Certificate(leaf.cert);
    expect(caCert.ca).toBe(true);
    expect(leafCert.ca).toBe(false);
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
    expect(leafCert.checkIssued(caCert)).toBe(true);
    // kube-apiserver checks the name <service>.<namespace>.svc against the SANs.
    expect(leafCert.checkHost('hook.ns.svc')).toBe('hook.ns.svc');
    expect(leafCert.checkHost('other.ns.svc')).toBeUndefined();
    expect(leafCert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1'])); // serverAuth
    // A different CA did not sign it.
    const stranger = new X509Certificate((await makeCert({ commonName: 'other-ca', isCA: true })).cert);
    expect(leafCert.verify(stranger.publicKey)).toBe(false);

    const self = new X509Certificate((await makeCert({ commonName: 'self', dnsNames: ['self.ns.svc'] })).cert);
    expect(self.verify(self.publicKey)).toBe(true);
    expect(self.checkHost('self.ns.svc')).toBe('self.ns.svc');
  });

  it('reads a key pair from a Secret under the keys given', () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const secret = { metadata: { name: 's' }, data: { cert: b64('C'), key: b64('K'), 'tls.crt': b64('T') } };
    expect(keyPairOf(secret, 'cert', 'key')).toEqual({ cert: 'C', key: 'K' });
    expect(keyPairOf(secret)).toBeUndefined(); // tls.key missing
    expect(keyPairOf(undefined)).toBeUndefined();
  });
});
