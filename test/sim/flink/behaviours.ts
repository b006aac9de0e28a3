// The Flink Kubernetes Operator's containers, as its pods look from outside: the operator's
// startup log lines in its log4j format, the webhook's readiness after a warm-up and its
// dependency on the keystore Secret cert-manager issues. What the operator DOES with its custom
// resources is the simulated controller (operator.ts); the JobManager and TaskManager pods it
// creates behave as cluster.ts says.
import type { ImageBehaviour } from '../controllers/behaviours.ts';
import { byImage, getObject, idle, log4j, readinessGate, tagOf, waitForMountedSecret } from '../controllers/behaviour-kit.ts';
import { keyPairOf, serveAdmission, webhooksAreCalled } from '../controllers/webhook-serving.ts';

const FLINK_IMAGE = /(^|\/)flink-kubernetes-operator[:@]/;

function isFlinkWebhook(c: { name: string; command?: string[] }): boolean {
  return c.command?.includes('webhook') ?? c.name === 'flink-webhook';
}

export const flinkOperatorMain: ImageBehaviour = {
  name: 'flink-kubernetes-operator',
  matches: byImage(FLINK_IMAGE, (c) => !isFlinkWebhook(c)),
  async run(ctx) {
    // No readiness probe, but a startup probe on the health port: Ready once it answers.
    const gate = readinessGate(ctx);
    const warmup = await gate.open();
    const watched = ctx.env('WATCH_NAMESPACES') ?? '';
    await ctx.log(
      log4j('o.a.f.k.o.FlinkOperator', `Starting Flink Kubernetes Operator (Version: ${tagOf(ctx.container.image)})`),
      log4j('o.a.f.k.o.c.FlinkConfigManager', 'Loading default configuration from /opt/flink/conf/flink-conf.yaml'),
      log4j('o.a.f.k.o.FlinkOperator', watched ? `Configuring operator to watch the following namespaces: [${watched}].` : 'Configuring operator to watch all namespaces.'),
    );
    await ctx.sleep(warmup);
    await ctx.log(
      log4j('o.a.f.k.o.h.HealthProbe', `Health probe started on port ${ctx.container.ports?.find((p) => p.name === 'health-port')?.containerPort ?? 8085}`),
      log4j('i.j.o.Operator', 'Operator SDK 5.1.4 started.'),
      log4j('i.j.o.p.Controller', "'flinkdeploymentcontroller' controller started"),
      log4j('i.j.o.p.Controller', "'flinksessionjobcontroller' controller started"),
      log4j('i.j.o.p.Controller', "'flinkstatesnapshotcontroller' controller started"),
    );
    return idle(ctx);
  },
};

export const flinkOperatorWebhook: ImageBehaviour = {
  name: 'flink-kubernetes-operator-webhook',
  matches: byImage(FLINK_IMAGE, isFlinkWebhook),
  async run(ctx) {
    const gate = readinessGate(ctx);
    // The pod mounts the keystore cert-manager issues for Certificate flink-operator-serving-cert.
    if (!(await waitForMountedSecret(ctx, 'keystore', 'webhook-server-cert'))) return undefined;
    const warmup = await gate.open();
    await ctx.log(log4j('o.a.f.k.o.a.FlinkOperatorWebhook', 'Starting Flink Kubernetes Webhook'));
    await ctx.sleep(warmup);
    const port = Number(ctx.env('WEBHOOK_SERVER_PORT') ?? 9443);
    if (webhooksAreCalled()) {
      // The real one serves keystore.p12; the simulated keystore is a placeholder, so the same
      // Secret's tls.crt and tls.key, which cert-manager issued with it.
      const tls = keyPairOf(await getObject(ctx, `/api/v1/namespaces/${ctx.pod.metadata.namespace}/secrets/webhook-server-cert`));
      if (!tls) throw new Error('Secret webhook-server-cert has no tls.crt and tls.key');
      await serveAdmission(ctx, port, tls);
    }
    await ctx.log(log4j('o.a.f.k.o.a.FlinkOperatorWebhook', `Webhook listening at 0.0.0.0/0.0.0.0:${port}`));
    return idle(ctx);
  },
};
