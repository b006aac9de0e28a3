// `sandbox open <ui>`: a port-forward on 127.0.0.1 and a random free port, the URL,
// and how to log in. Runs until Ctrl-C.
import { SandboxError, UsageError } from '../lib/errors.ts';
import type { Kube } from '../lib/kube/kube.ts';
import { createServices, interruptSignal } from '../lib/services.ts';
import { ES_NAME } from '../steps/eck.ts';
import { MINIO_SECRET } from '../steps/minio.ts';
import { configFrom, emit, type GlobalOptions } from './options.ts';
import type { SandboxConfig } from '../lib/config.ts';

interface Target {
  namespace: string;
  service: string;
  port: number;
  scheme: 'http' | 'https';
  path?: string;
  login?: (kube: Kube) => Promise<{ user: string; password: string } | undefined>;
  note?: string;
}

async function secretValue(kube: Kube, namespace: string, name: string, key: string): Promise<string | undefined> {
  const s = await kube.get({ apiVersion: 'v1', kind: 'Secret', name, namespace });
  const v = (s?.data as Record<string, string> | undefined)?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
}

async function targets(cfg: SandboxConfig, kube: Kube): Promise<Record<string, Target>> {
  const { logging, minio, job } = cfg.namespaces;
  const fds = await kube.list('flink.apache.org/v1beta1', 'FlinkDeployment', { namespace: job }).catch(() => []);
  return {
    kibana: {
      namespace: logging,
      service: `${ES_NAME}-kb-http`,
      port: 5601,
      scheme: 'https',
      note: 'the certificate is self-signed: accept the browser warning; then Analytics > Discover, data view `fluentd`',
      login: async (k) => {
        const password = await secretValue(k, logging, `${ES_NAME}-es-elastic-user`, 'elastic');
        return password ? { user: 'elastic', password } : undefined;
      },
    },
    minio: {
      namespace: minio,
      service: 'minio',
      port: 9001,
      scheme: 'http',
      login: async (k) => {
        const user = await secretValue(k, minio, MINIO_SECRET, 'accessKey');
        const password = await secretValue(k, minio, MINIO_SECRET, 'secretKey');
        return user && password ? { user, password } : undefined;
      },
    },
    flink: {
      namespace: job,
      service: `${fds[0]?.metadata.name ?? 'hello-ha'}-rest`,
      port: 8081,
      scheme: 'http',
      note: fds.length > 1 ? `showing ${fds[0]!.metadata.name}; other jobs: ${fds.slice(1).map((f) => f.metadata.name).join(', ')}` : undefined,
    },
    heimdall: { namespace: job, service: 'heimdall', port: 8080, scheme: 'http' },
  };
}

export async function open(ui: string, opts: GlobalOptions): Promise<void> {
  const cfg = await configFrom(opts);
  const names = ['kibana', 'minio', 'flink', 'heimdall'];
  if (!names.includes(ui)) {
    throw new UsageError(`unknown UI "${ui}"`, { hint: `use one of: ${names.join(', ')}` });
  }
  const kube = await createServices(cfg).kube();
  const target = (await targets(cfg, kube))[ui]!;
  const svc = await kube.get({ apiVersion: 'v1', kind: 'Service', name: target.service, namespace: target.namespace });
  if (!svc) {
    throw new SandboxError(`${ui} is not installed: no Service ${target.namespace}/${target.service}`, {
      hint: ui === 'heimdall' ? 'run `sandbox up --with ui`' : ui === 'flink' ? 'deploy a job first (a scenario does)' : 'run `sandbox up` (profile full)',
    });
  }
  const login = target.login ? await target.login(kube) : undefined;
  const signal = interruptSignal();
  await using forward = await kube.portForward({ namespace: target.namespace, service: target.service, port: target.port });
  const url = forward.url(target.scheme, target.path ?? '/');
  emit(opts, { ui, url, ...(login ?? {}), note: target.note }, () =>
    [
      `${ui}: ${url}`,
      ...(login ? [`login: ${login.user} / ${login.password}`] : []),
      ...(target.note ? [`note: ${target.note}`] : []),
      'port-forward on 127.0.0.1; press Ctrl-C to stop',
    ].join('\n'),
    // Scripts read the URL while the forward keeps running.
    { now: true },
  );
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
