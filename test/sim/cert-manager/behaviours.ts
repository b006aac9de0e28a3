// cert-manager's three containers. The controller marks Issuers/ClusterIssuers Ready and
// issues Certificates (a kubernetes.io/tls Secret with a PKCS#12 keystore when asked, the
// Certificate Ready), which is what the Flink operator's webhook pod waits for; the cainjector
// copies CA bundles into webhook configurations that ask for them; the webhook creates its
// serving CA Secret and answers (is Ready) only after a warm-up (`webhookWarmupMs`).
import type { KubeObject } from '../api-client.ts';
import type { ContainerContext, ImageBehaviour } from '../controllers/behaviours.ts';
import { b64, byImage, fakePem, getObject, idle, klog, readinessGate, tagOf } from '../controllers/behaviour-kit.ts';
import { keyPairOf, makeCert, type KeyPair, serveAdmission, webhooksAreCalled } from '../controllers/webhook-serving.ts';

const CM = '/apis/cert-manager.io/v1';

function ready(obj: KubeObject): boolean {
  return ((obj.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

async function items(ctx: ContainerContext, path: string): Promise<KubeObject[]> {
  try {
    return (await ctx.api.list(path)).items;
  } catch {
    return []; // CRDs not installed (yet)
  }
}

function condition(obj: KubeObject, status: 'True' | 'False', reason: string, message: string): Record<string, unknown> {
  return { type: 'Ready', status, reason, message, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), observedGeneration: obj.metadata.generation ?? 1 };
}

async function readyIssuers(ctx: ContainerContext): Promise<void> {
  const all = [...(await items(ctx, `${CM}/issuers`)), ...(await items(ctx, `${CM}/clusterissuers`))];
  for (const iss of all.filter((i) => !ready(i))) {
    const ns = iss.metadata.namespace;
    const path = ns ? `${CM}/namespaces/${ns}/issuers/${iss.metadata.name}/status` : `${CM}/clusterissuers/${iss.metadata.name}/status`;
    const message = iss.spec?.ca ? 'Signing CA verified' : iss.spec?.acme ? 'The ACME account was registered with the ACME server' : '';
    await ctx.api.mergePatch(path, { status: { conditions: [condition(iss, 'True', 'IsReady', message)] } }).catch(() => undefined);
    await ctx.log(klog('issuers/sync.go:123', 'Issuer is ready', { resource_name: iss.metadata.name!, resource_namespace: ns ?? '' }));
  }
}

/**
 * A real certificate from a selfSigned or CA issuer, as cert-manager writes its Secret (ca.crt
 * is the signer's certificate, or the certificate itself when self-signed); undefined for other
 * issuers or a CA issuer whose Secret is missing. Only on a real API server, which verifies the
 * webhooks' certificates (webhook-serving.ts). The PKCS#12 keystores stay placeholders: the
 * simulated Flink webhook serves from tls.crt and tls.key.
 */
async function realTls(ctx: ContainerContext, cert: KubeObject, issuer: KubeObject): Promise<Record<string, string> | undefined> {
  const spec = cert.spec ?? {};
  const dnsNames: string[] = spec.dnsNames ?? [];
  let signer: KeyPair | undefined;
  if (issuer.spec?.ca?.secretName) {
    // A ClusterIssuer's Secret lives in the cluster resource namespace, cert-manager's own.
    const ns = issuer.metadata.namespace ?? ctx.pod.metadata.namespace!;
    signer = keyPairOf(await getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${issuer.spec.ca.secretName}`));
    if (!signer) return undefined;
  } else if (!issuer.spec?.selfSigned) {
    return undefined;
  }
  const pair = await makeCert({ commonName: spec.commonName ?? dnsNames[0] ?? cert.metadata.name!, dnsNames, isCA: spec.isCA === true, signer });
  return { 'ca.crt': b64((signer ?? pair).cert), 'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key) };
}

async function issue(ctx: ContainerContext, cert: KubeObject): Promise<void> {
  const ns = cert.metadata.namespace!;
  const name = cert.metadata.name!;
  const spec = cert.spec ?? {};
  const ref = spec.issuerRef ?? {};
  const issuerPath = ref.kind === 'ClusterIssuer' ? `${CM}/clusterissuers/${ref.name}` : `${CM}/namespaces/${ns}/issuers/${ref.name}`;
  const issuer = await getObject(ctx, issuerPath);
  const statusPath = `${CM}/namespaces/${ns}/certificates/${name}/status`;
  if (!issuer || !ready(issuer)) {
    const why = issuer ? `Referenced "${ref.kind ?? 'Issuer'}" not ready` : `Referenced "${ref.kind ?? 'Issuer'}" not found: ${ref.kind ?? 'issuer'}.cert-manager.io "${ref.name}" not found`;
    if (!cert.status?.conditions?.length) {
      await ctx.api.mergePatch(statusPath, { status: { conditions: [condition(cert, 'False', 'DoesNotExist', 'Issuing certificate as Secret does not exist')] } }).catch(() => undefined);
      await ctx.log(klog('certificates/issuing/issuing_controller.go:160', why, { resource_name: name, resource_namespace: ns }, 'W'));
    }
    return;
  }
  const data: Record<string, string> = (webhooksAreCalled() && (await realTls(ctx, cert, issuer))) || {
    'ca.crt': b64(fakePem('CERTIFICATE')),
    'tls.crt': b64(fakePem('CERTIFICATE')),
    'tls.key': b64(fakePem('RSA PRIVATE KEY')),
  };
  if (spec.keystores?.pkcs12?.create) {
    data['keystore.p12'] = b64(`PKCS12 keystore for ${name}`);
    data['truststore.p12'] = b64(`PKCS12 truststore for ${name}`);
  }
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: spec.secretName,
      namespace: ns,
      labels: { 'controller.cert-manager.io/fao': 'true' },
      annotations: {
        'cert-manager.io/alt-names': (spec.dnsNames ?? []).join(','),
        'cert-manager.io/certificate-name': name,
        'cert-manager.io/common-name': spec.commonName ?? '',
        'cert-manager.io/issuer-group': ref.group ?? 'cert-manager.io',
        'cert-manager.io/issuer-kind': ref.kind ?? 'Issuer',
        'cert-manager.io/issuer-name': ref.name ?? '',
      },
    },
    data,
  };
  const secretPath = `/api/v1/namespaces/${ns}/secrets/${spec.secretName}`;
  if (await getObject(ctx, secretPath)) await ctx.api.mergePatch(secretPath, { data, metadata: { annotations: secret.metadata.annotations } }).catch(() => undefined);
  else await ctx.api.create(`/api/v1/namespaces/${ns}/secrets`, secret).catch(() => undefined);
  const now = Date.now();
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const day = 24 * 3600 * 1000;
  await ctx.api
    .mergePatch(statusPath, {
      status: {
        conditions: [condition(cert, 'True', 'Ready', 'Certificate is up to date and has not expired')],
        notBefore: iso(now),
        notAfter: iso(now + 90 * day),
        renewalTime: iso(now + 60 * day),
        revision: (cert.status?.revision ?? 0) + 1,
      },
    })
    .catch(() => undefined);
  await ctx.log(klog('certificates/issuing/issuing_controller.go:251', 'Issued certificate', { resource_name: name, resource_namespace: ns, secret: spec.secretName }));
}

async function issueCertificates(ctx: ContainerContext): Promise<void> {
  for (const cert of await items(ctx, `${CM}/certificates`)) {
    const ns = cert.metadata.namespace!;
    const secret = cert.spec?.secretName ? await getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${cert.spec.secretName}`) : undefined;
    if (ready(cert) && secret) continue;
    await issue(ctx, cert);
  }
}

export const certManagerController: ImageBehaviour = {
  name: 'cert-manager-controller',
  matches: byImage(/\/cert-manager-controller:/),
  async run(ctx) {
    const version = tagOf(ctx.container.image);
    await ctx.log(
      klog('controller/start.go:95', 'starting cert-manager controller', { version, git_commit: 'a6b2d5d' }),
      klog('controller/start.go:190', 'starting leader election'),
      klog('leaderelection/leaderelection.go:257', 'attempting to acquire leader lease kube-system/cert-manager-controller...'),
      klog('leaderelection/leaderelection.go:271', 'successfully acquired lease kube-system/cert-manager-controller'),
    );
    while (!ctx.signal.aborted) {
      await readyIssuers(ctx);
      await issueCertificates(ctx);
      await ctx.sleep(150);
    }
    return undefined;
  },
};

/** `ns/name` of the CA Secret a webhook configuration asks the cainjector for. */
async function caSecretFor(ctx: ContainerContext, cfg: KubeObject): Promise<KubeObject | undefined> {
  const ann = cfg.metadata.annotations ?? {};
  if (ann['cert-manager.io/inject-ca-from-secret']) {
    const [ns, name] = ann['cert-manager.io/inject-ca-from-secret'].split('/');
    return getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${name}`);
  }
  if (ann['cert-manager.io/inject-ca-from']) {
    const [ns, name] = ann['cert-manager.io/inject-ca-from'].split('/');
    const cert = await getObject(ctx, `${CM}/namespaces/${ns}/certificates/${name}`);
    return cert?.spec?.secretName ? getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${cert.spec.secretName}`) : undefined;
  }
  return undefined;
}

async function injectBundles(ctx: ContainerContext): Promise<void> {
  for (const plural of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
    for (const cfg of await items(ctx, `/apis/admissionregistration.k8s.io/v1/${plural}`)) {
      const secret = await caSecretFor(ctx, cfg);
      const ca = (secret?.data as Record<string, string> | undefined)?.['ca.crt'];
      if (!ca) continue;
      const hooks = (cfg.webhooks ?? []) as { clientConfig?: { caBundle?: string } }[];
      const ops = hooks.flatMap((h, i) => (h.clientConfig?.caBundle === ca ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: ca }]));
      if (ops.length === 0) continue;
      await ctx.api
        .request('PATCH', `/apis/admissionregistration.k8s.io/v1/${plural}/${cfg.metadata.name}`, ops, { contentType: 'application/json-patch+json' })
        .then(() => ctx.log(klog('controller/injector.go:140', 'Updated object', { kind: cfg.kind ?? plural, name: cfg.metadata.name! })))
        .catch(() => undefined);
    }
  }
}

export const certManagerCainjector: ImageBehaviour = {
  name: 'cert-manager-cainjector',
  matches: byImage(/\/cert-manager-cainjector:/),
  async run(ctx) {
    await ctx.log(
      klog('cainjector/start.go:87', 'starting cert-manager ca-injector', { version: tagOf(ctx.container.image) }),
      klog('leaderelection/leaderelection.go:271', 'successfully acquired lease kube-system/cert-manager-cainjector-leader-election'),
    );
    while (!ctx.signal.aborted) {
      await injectBundles(ctx);
      await ctx.sleep(250);
    }
    return undefined;
  },
};

export const certManagerWebhook: ImageBehaviour = {
  name: 'cert-manager-webhook',
  matches: byImage(/\/cert-manager-webhook:/),
  async run(ctx) {
    const gate = readinessGate(ctx);
    const warmup = await gate.open();
    const ns = ctx.pod.metadata.namespace!;
    const arg = (name: string): string | undefined =>
      (ctx.container.args ?? []).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).replaceAll('$(POD_NAMESPACE)', ns);
    const caName = arg('dynamic-serving-ca-secret-name') ?? 'cert-manager-webhook-ca';
    const caPath = `/api/v1/namespaces/${ns}/secrets/${caName}`;
    const real = webhooksAreCalled();
    await ctx.log(klog('webhook/server.go:144', 'listening for insecure healthz connections', { address: ':6080' }));
    if (!(await getObject(ctx, caPath))) {
      // Its own CA (the cainjector copies ca.crt into the webhook configurations): a real one
      // where kube-apiserver verifies the serving certificate against it.
      const ca = real ? await makeCert({ commonName: 'cert-manager-webhook-ca', isCA: true, days: 365 }) : undefined;
      await ctx.api
        .create(`/api/v1/namespaces/${ns}/secrets`, {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'Opaque',
          metadata: { name: caName, namespace: ns, annotations: { 'cert-manager.io/allow-direct-injection': 'true' } },
          data: ca
            ? { 'ca.crt': b64(ca.cert), 'tls.crt': b64(ca.cert), 'tls.key': b64(ca.key) }
            : { 'ca.crt': b64(fakePem('CERTIFICATE')), 'tls.crt': b64(fakePem('CERTIFICATE')), 'tls.key': b64(fakePem('PRIVATE KEY')) },
        })
        .catch(() => undefined);
      await ctx.log(klog('authority/authority.go:296', 'Will regenerate CA', { reason: 'CA secret not found' }));
    }
    const dnsNames = (arg('dynamic-serving-dns-names') ?? caName.replace(/-ca$/, '')).split(',');
    const port = Number(arg('secure-port') ?? 10250);
    await ctx.sleep(warmup);
    if (real) {
      const ca = keyPairOf(await getObject(ctx, caPath));
      if (!ca) throw new Error(`the webhook's CA Secret ${ns}/${caName} has no tls.crt and tls.key`);
      await serveAdmission(ctx, port, await makeCert({ commonName: dnsNames[0]!, dnsNames, signer: ca }));
    }
    await ctx.log(klog('webhook/server.go:193', 'listening for secure connections', { address: `:${port}` }), klog('tls/dynamic_source.go:204', 'Updated cert-manager TLS certificate', { DNSNames: dnsNames.join(',') }));
    return idle(ctx);
  },
};
