// MinIO: S3 storage for checkpoints, savepoints and HA metadata. Credentials are
// generated per sandbox and kept in a Secret (never minio/minio123 in YAML); the Secret
// is copied to the job namespace for the Flink pods. Ready = the bucket job proved that
// `flink-data` exists and is writable.
import { randomBytes } from 'node:crypto';
import { minioEndpointFor } from '../lib/flink/deployment.ts';
import type { KubeObject } from '../lib/kube/kube.ts';
import { containsDesired as objectsMatch } from '../lib/kube/desired.ts';
import { Ready } from '../lib/wait/strategy.ts';
import { applyObjects, ensureNamespace, inNamespace, loadManifest, names, objectsInPlace, PART_OF_LABELS } from './kit.ts';
import type { Step, StepContext } from '../pipeline/step.ts';

export const MINIO_SECRET = 'minio-credentials';
export const BUCKET = 'flink-data';
export const MINIO_FILES = ['minio/pvc.yaml', 'minio/deployment.yaml', 'minio/service.yaml', 'minio/make-bucket-job.yaml'];

function credentialSecret(namespace: string, accessKey: string, secretKey: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: MINIO_SECRET, namespace, labels: { ...PART_OF_LABELS } },
    stringData: { accessKey, secretKey },
  };
}

/** Reuses the credentials of an earlier run so a re-run changes nothing. */
async function credentials(ctx: StepContext): Promise<{ accessKey: string; secretKey: string }> {
  const kube = await ctx.services.kube();
  const live = await kube.get({ apiVersion: 'v1', kind: 'Secret', name: MINIO_SECRET, namespace: ctx.config.namespaces.minio });
  const data = live?.data as Record<string, string> | undefined;
  if (data?.accessKey && data.secretKey) {
    return { accessKey: Buffer.from(data.accessKey, 'base64').toString(), secretKey: Buffer.from(data.secretKey, 'base64').toString() };
  }
  return { accessKey: `sandbox-${randomBytes(4).toString('hex')}`, secretKey: randomBytes(24).toString('base64url') };
}

const JOB_NAME = 'minio-make-bucket';

type Condition = { type: string; status: string; reason?: string; message?: string };

function condition(o: KubeObject | undefined, type: string): Condition | undefined {
  return (o?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

/** The reason a Job failed for good, or undefined. */
function jobFailed(job: KubeObject | undefined): string | undefined {
  const c = condition(job, 'Failed');
  return c?.status === 'True' ? `${c.reason ?? 'Failed'}${c.message ? `: ${c.message}` : ''}` : undefined;
}

async function bucketJob(ctx: StepContext): Promise<KubeObject | undefined> {
  const kube = await ctx.services.kube();
  return kube.get({ apiVersion: 'batch/v1', kind: 'Job', name: JOB_NAME, namespace: ctx.config.namespaces.minio });
}

async function desired(ctx: StepContext): Promise<KubeObject[]> {
  const ns = ctx.config.namespaces.minio;
  const objects: KubeObject[] = [];
  for (const f of MINIO_FILES) objects.push(...inNamespace(await loadManifest(f), ns));
  return objects;
}

async function secrets(ctx: StepContext): Promise<KubeObject[]> {
  const { accessKey, secretKey } = await credentials(ctx);
  const { minio, job } = ctx.config.namespaces;
  return [...new Set([minio, job])].map((ns) => credentialSecret(ns, accessKey, secretKey));
}

export const minioStep: Step = {
  id: 'minio',
  title: 'MinIO (S3) with bucket flink-data',
  needs: ['cluster'],
  memoryMiB: 512,
  namespaces: (cfg) => [cfg.namespaces.minio],
  plan: (cfg) => [
    { kind: 'manifest', source: 'generated', objects: [`Secret ${cfg.namespaces.minio}/${MINIO_SECRET} (random credentials)`, `Secret ${cfg.namespaces.job}/${MINIO_SECRET}`] },
    ...MINIO_FILES.map((f) => ({ kind: 'manifest' as const, source: `manifests/${f}`, objects: [`into namespace ${cfg.namespaces.minio}`] })),
  ],
  async isDone(ctx) {
    const kube = await ctx.services.kube();
    if (jobFailed(await bucketJob(ctx))) return false;
    for (const ns of new Set([ctx.config.namespaces.minio, ctx.config.namespaces.job])) {
      if (!(await kube.get({ apiVersion: 'v1', kind: 'Secret', name: MINIO_SECRET, namespace: ns }))) return false;
    }
    return objectsInPlace(ctx, await desired(ctx));
  },
  async apply(ctx) {
    const kube = await ctx.services.kube();
    const objects = await desired(ctx);
    for (const ns of new Set([ctx.config.namespaces.minio, ctx.config.namespaces.job])) await ensureNamespace(ctx, ns);
    // A Job's template is immutable and a failed Job never runs again: start it afresh.
    const job = await bucketJob(ctx);
    if (job && (jobFailed(job) || !objectsMatch(objects.find((o) => o.kind === 'Job')!, job))) {
      ctx.output('recreating Job minio-make-bucket');
      await kube.delete({ apiVersion: 'batch/v1', kind: 'Job', name: JOB_NAME, namespace: ctx.config.namespaces.minio }, { wait: true });
    }
    await kube.apply(await secrets(ctx));
    await applyObjects(ctx, objects);
    ctx.output(`applied ${names(objects).join(', ')}`);
  },
  gate: (cfg) => [
    Ready.rollout('Deployment', 'minio', cfg.namespaces.minio),
    Ready.object(
      { apiVersion: 'batch/v1', kind: 'Job', name: JOB_NAME, namespace: cfg.namespaces.minio },
      `Job ${JOB_NAME} to create bucket ${BUCKET} and prove it writable`,
      (job) => {
        const failed = jobFailed(job);
        const complete = condition(job, 'Complete');
        return {
          ok: complete?.status === 'True',
          seen: failed ? `Failed: ${failed}` : complete ? `Complete=${complete.status}` : job ? 'running' : 'not found',
          fail: failed ? `the bucket job failed (${failed}); its log is in the diagnostics bundle` : undefined,
        };
      },
    ),
  ],
  async status(ctx) {
    const kube = await ctx.services.kube();
    const ns = ctx.config.namespaces.minio;
    const dep = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'minio', namespace: ns });
    const job = await kube.get({ apiVersion: 'batch/v1', kind: 'Job', name: 'minio-make-bucket', namespace: ns });
    const image = dep?.spec?.template?.spec?.containers?.[0]?.image as string | undefined;
    const available = (dep?.status?.availableReplicas ?? 0) >= 1;
    const bucket = (job?.status?.conditions as Array<{ type: string; status: string }> | undefined)?.some((c) => c.type === 'Complete' && c.status === 'True');
    return {
      component: 'minio',
      health: !dep ? 'missing' : available && bucket ? 'healthy' : 'degraded',
      version: image?.split(':')[1],
      endpoint: `${minioEndpointFor(ctx.config)} (UI: sandbox open minio)`,
      detail: dep ? `${available ? 'available' : 'not available'}, bucket ${BUCKET} ${bucket ? 'ready' : 'not verified'}` : undefined,
    };
  },
};
