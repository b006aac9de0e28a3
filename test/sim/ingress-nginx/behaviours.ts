// ingress-nginx's kind provider: the admission Jobs (kube-webhook-certgen `create` writes the
// webhook's TLS Secret, `patch` puts its CA into the ValidatingWebhookConfiguration and exits),
// and the controller, which mounts that Secret and answers admission calls after a warm-up.
import type { ContainerContext, ImageBehaviour } from '../controllers/behaviours.ts';
import { b64, byImage, fakePem, getObject, idle, klog, readinessGate, tagOf, waitForMountedSecret } from '../controllers/behaviour-kit.ts';
import { keyPairOf, makeCert, serveAdmission, webhooksAreCalled } from '../controllers/webhook-serving.ts';

function arg(ctx: ContainerContext, name: string): string | undefined {
  const pre = `--${name}=`;
  const raw = (ctx.container.args ?? []).find((a) => a.startsWith(pre))?.slice(pre.length);
  // $(POD_NAMESPACE) comes from the downward API, which the simulated kubelet does not expand.
  return raw?.replaceAll('$(POD_NAMESPACE)', ctx.pod.metadata.namespace!);
}

async function certgenCreate(ctx: ContainerContext): Promise<number> {
  const ns = arg(ctx, 'namespace') ?? ctx.pod.metadata.namespace!;
  const name = arg(ctx, 'secret-name') ?? 'ingress-nginx-admission';
  if (await getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${name}`)) {
    await ctx.log(JSON.stringify({ level: 'info', msg: 'secret already exists', source: 'k8s/k8s.go:178', time: new Date().toISOString() }));
    return 0;
  }
  await ctx.log(JSON.stringify({ level: 'info', msg: 'creating new secret', source: 'cmd/create.go:28', time: new Date().toISOString() }));
  let data = { ca: b64(fakePem('CERTIFICATE')), cert: b64(fakePem('CERTIFICATE')), key: b64(fakePem('PRIVATE KEY')) };
  if (webhooksAreCalled()) {
    // A CA and a serving certificate for the --host names, as certgen makes them: kube-apiserver
    // checks the controller's certificate against the CA that `patch` puts into the hook.
    const hosts = (arg(ctx, 'host') ?? '').split(',').filter(Boolean);
    const ca = await makeCert({ commonName: 'ingress-nginx-admission-ca', isCA: true, days: 365 });
    const leaf = await makeCert({ commonName: hosts[0] ?? name, dnsNames: hosts, signer: ca, days: 365 });
    data = { ca: b64(ca.cert), cert: b64(leaf.cert), key: b64(leaf.key) };
  }
  await ctx.api.create(`/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data });
  return 0;
}

async function certgenPatch(ctx: ContainerContext): Promise<number> {
  const ns = arg(ctx, 'namespace') ?? ctx.pod.metadata.namespace!;
  const secret = await getObject(ctx, `/api/v1/namespaces/${ns}/secrets/${arg(ctx, 'secret-name') ?? 'ingress-nginx-admission'}`);
  const ca = (secret?.data as Record<string, string> | undefined)?.ca;
  if (!ca) {
    await ctx.log(JSON.stringify({ level: 'fatal', msg: 'no secret with ca found', source: 'cmd/patch.go:50', time: new Date().toISOString() }));
    return 1;
  }
  const hookName = arg(ctx, 'webhook-name') ?? 'ingress-nginx-admission';
  const path = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${hookName}`;
  const cfg = await getObject(ctx, path);
  if (!cfg) {
    await ctx.log(JSON.stringify({ level: 'fatal', msg: `failed getting validating webhook: validatingwebhookconfigurations.admissionregistration.k8s.io "${hookName}" not found`, time: new Date().toISOString() }));
    return 1;
  }
  const policy = arg(ctx, 'patch-failure-policy');
  const ops = ((cfg.webhooks ?? []) as unknown[]).flatMap((_h, i) => [
    { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: ca },
    ...(policy ? [{ op: 'add', path: `/webhooks/${i}/failurePolicy`, value: policy }] : []),
  ]);
  await ctx.api.request('PATCH', path, ops, { contentType: 'application/json-patch+json' });
  await ctx.log(JSON.stringify({ level: 'info', msg: 'Patched hook(s)', source: 'k8s/k8s.go:91', time: new Date().toISOString() }));
  return 0;
}

export const ingressCertgen: ImageBehaviour = {
  name: 'ingress-nginx-kube-webhook-certgen',
  matches: byImage(/\/ingress-nginx\/kube-webhook-certgen[:@]/),
  async run(ctx) {
    await ctx.sleep(100);
    const mode = ctx.container.args?.[0];
    try {
      return mode === 'patch' ? await certgenPatch(ctx) : await certgenCreate(ctx);
    } catch (err) {
      await ctx.log(JSON.stringify({ level: 'fatal', msg: String(err instanceof Error ? err.message : err), time: new Date().toISOString() }));
      return 1;
    }
  },
};

export const ingressController: ImageBehaviour = {
  name: 'ingress-nginx-controller',
  matches: byImage(/\/ingress-nginx\/controller(-chroot)?[:@]/),
  async run(ctx) {
    const gate = readinessGate(ctx);
    if (!(await waitForMountedSecret(ctx, 'webhook-cert', 'ingress-nginx-admission'))) return undefined;
    const warmup = await gate.open();
    const release = tagOf(ctx.container.image);
    await ctx.log(
      '-------------------------------------------------------------------------------',
      'NGINX Ingress controller',
      `  Release:       ${release}`,
      '  Repository:    https://github.com/kubernetes/ingress-nginx',
      '  nginx version: nginx/1.27.1',
      '',
      '-------------------------------------------------------------------------------',
      '',
      klog('main.go:205', 'Creating API client', { host: 'https://10.96.0.1:443' }),
      klog('ssl.go:535', 'loading tls certificate', { path: '/usr/local/certificates/cert', key: '/usr/local/certificates/key' }),
      klog('nginx.go:271', 'Starting NGINX Ingress controller'),
    );
    await ctx.sleep(warmup);
    if (webhooksAreCalled()) {
      // --validating-webhook=:8443 with the mounted Secret's cert and key.
      const tls = keyPairOf(await getObject(ctx, `/api/v1/namespaces/${ctx.pod.metadata.namespace}/secrets/ingress-nginx-admission`), 'cert', 'key');
      if (!tls) throw new Error('Secret ingress-nginx-admission has no cert and key');
      await serveAdmission(ctx, Number(arg(ctx, 'validating-webhook')?.split(':').pop() ?? 8443), tls);
    }
    await ctx.log(klog('leaderelection.go:271', 'successfully acquired lease ingress-nginx/ingress-nginx-leader'), klog('status.go:85', 'new leader elected', { identity: ctx.pod.metadata.name! }));
    return idle(ctx);
  },
};
