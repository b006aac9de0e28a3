// What the simulated-Flink tests share: a simulation with the Flink operator installed the way
// its chart installs it (the flink-operator-config ConfigMap rendered from
// manifests/flink-operator/values.yaml mounted at /opt/flink/conf), FlinkDeployments like the
// project's hello-ha manifest, a recorder of the TaskManagers' record lines (read back with the
// real parser, following every TaskManager pod as it appears), and pollers of the status.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { parseSequenceLine, type SequenceRecord } from '../../scripts/lib/flink/sequence-line.ts';
import { SimClient, type KubeObject } from '../sim/api-client.ts';
import type { Sim } from '../sim/harness.ts';
import { flinkWorld, type FlinkJobModel } from '../sim/systems.ts';
import { flinkOperatorConfigMap, installOperator, operatorSim } from './sim-operators-fixture.ts';

export const FD = '/apis/flink.apache.org/v1beta1/namespaces/default/flinkdeployments';
export const SNAP = '/apis/flink.apache.org/v1beta1/namespaces/default/flinkstatesnapshots';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const jsonLog4j = readFileSync(path.join(repoRoot, 'job', 'conf', 'log4j-console.properties'), 'utf8');

export interface DeploymentOptions {
  ha: boolean;
  upgradeMode: string;
  /** Records per (simulated) second. */
  rate?: number;
  serviceAccount?: string;
  parallelism?: number;
  flinkConfiguration?: Record<string, string>;
  job?: Record<string, unknown>;
}

/** A FlinkDeployment of the hello-world job, configured like manifests/flink/hello-ha.yaml. */
export function deployment(name: string, opts: DeploymentOptions): KubeObject {
  const conf: Record<string, string> = {
    'taskmanager.numberOfTaskSlots': '2',
    's3.endpoint': 'http://minio.minio.svc.cluster.local:9000',
    'restart-strategy.type': 'exponential-delay',
    'restart-strategy.exponential-delay.initial-backoff': '1 s',
  };
  if (opts.ha) {
    Object.assign(conf, {
      'execution.checkpointing.interval': '5 s',
      'state.backend.type': 'rocksdb',
      'state.checkpoints.dir': 's3://flink-data/checkpoints',
      'state.savepoints.dir': 's3://flink-data/savepoints',
      'high-availability.type': 'kubernetes',
      'high-availability.storageDir': 's3://flink-data/ha',
    });
  }
  Object.assign(conf, opts.flinkConfiguration ?? {});
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name, namespace: 'default' },
    spec: {
      image: 'flink-sandbox/hello-job:dev',
      imagePullPolicy: 'IfNotPresent',
      flinkVersion: 'v1_20',
      serviceAccount: opts.serviceAccount ?? 'flink',
      flinkConfiguration: conf,
      jobManager: { resource: { memory: '1024m', cpu: 0.5 } },
      taskManager: { resource: { memory: '1024m', cpu: 0.5 } },
      podTemplate: { spec: { containers: [{ name: 'flink-main-container', env: [{ name: 'ENABLE_BUILT_IN_PLUGINS', value: 'flink-s3-fs-presto-1.20.4.jar' }] }] } },
      logConfiguration: { 'log4j-console.properties': jsonLog4j },
      job: { jarURI: 'local:///opt/flink/usrlib/hello-job.jar', entryClass: 'dev.flinksandbox.hello.HelloJob', args: ['--rate', String(opts.rate ?? 2)], parallelism: opts.parallelism ?? 2, upgradeMode: opts.upgradeMode, state: 'running', ...(opts.job ?? {}) },
    },
  };
}

/** A record line as read from a TaskManager's log: the pod, and when the line was written (its `@timestamp`). */
export type Seen = SequenceRecord & { pod: string; t: number };

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it answers something other than undefined. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Follows the log of every TaskManager pod of a deployment as it appears (pods vanish when killed). */
export class Recorder {
  readonly records: Seen[] = [];
  readonly malformedLines: string[] = [];
  private readonly sim: Sim;
  private readonly app: string;
  private readonly followed = new Set<string>();
  private readonly abort = new AbortController();

  constructor(sim: Sim, app: string) {
    this.sim = sim;
    this.app = app;
    void this.discover();
  }

  private async discover(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const pods = await this.sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: `app=${this.app},component=taskmanager` }).catch(() => []);
      for (const p of pods) {
        const uid = p.metadata.uid!;
        if (this.followed.has(uid) || !p.status?.containerStatuses?.[0]?.state?.running) continue;
        this.followed.add(uid);
        void this.follow(p.metadata.name!);
      }
      await sleep(15);
    }
  }

  private async follow(pod: string): Promise<void> {
    try {
      const res = await fetch(`${this.sim.url}/api/v1/namespaces/default/pods/${pod}/log?container=flink-main-container&follow=true`, { signal: this.abort.signal });
      if (!res.ok || !res.body) return;
      let buf = '';
      for await (const chunk of res.body) {
        buf += Buffer.from(chunk as Uint8Array).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          const parsed = parseSequenceLine(line);
          buf = buf.slice(nl + 1);
          if (parsed && 'malformed' in parsed) this.malformedLines.push(line);
          else if (parsed) this.records.push({ ...parsed, pod, t: lineTime(line) });
        }
      }
    } catch {
      // aborted at the end of the test
    }
  }

  get malformed(): number {
    return this.malformedLines.length;
  }

  max(): number {
    return this.records.reduce((m, r) => Math.max(m, r.seq), 0);
  }

  /** Waits until a record satisfying `check` has been seen. */
  async until(check: (r: Seen) => boolean, what: string, timeoutMs = 10_000): Promise<Seen> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.records.find(check);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no record ${what} within ${timeoutMs} ms; highest seen ${this.max()}`);
      await sleep(20);
    }
  }

  /** Numbers in 1..max never seen. */
  gaps(): number[] {
    const seen = new Set(this.records.map((r) => r.seq));
    const out: number[] = [];
    for (let i = 1; i <= this.max(); i++) if (!seen.has(i)) out.push(i);
    return out;
  }

  stop(): void {
    this.abort.abort();
  }
}

export interface Trace {
  states: string[];
  jm: string[];
  fd: KubeObject;
}

/** Polls a FlinkDeployment until `done`, recording each lifecycleState and JobManager status seen. */
export async function lifecycle(sim: Sim, name: string, done: (fd: KubeObject) => boolean, timeoutMs = 15_000): Promise<Trace> {
  const states: string[] = [];
  const jm: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fd = await sim.kube.get(`${FD}/${name}`);
    const s = fd?.status?.lifecycleState ?? '-';
    const j = fd?.status?.jobManagerDeploymentStatus ?? '-';
    if (states[states.length - 1] !== s) states.push(s);
    if (jm[jm.length - 1] !== j) jm.push(j);
    if (fd && done(fd)) return { states, jm, fd };
    if (Date.now() > deadline) throw new Error(`timed out: lifecycle ${states.join(' -> ')}, JM ${jm.join(' -> ')}, status ${JSON.stringify(fd?.status)?.slice(0, 1500)}`);
    await sleep(5);
  }
}

/**
 * Watches one FlinkDeployment and keeps every status it was written with (polling can miss a
 * status the operator replaces within milliseconds).
 */
export function watchStatuses(sim: Sim, name: string): { statuses: Record<string, any>[]; stop(): void } {
  const statuses: Record<string, any>[] = [];
  const abort = new AbortController();
  const client = new SimClient(sim.url, 'test-watch');
  const run = async (): Promise<void> => {
    let rv: string | undefined;
    while (!abort.signal.aborted) {
      await client
        .watch(FD, { resourceVersion: rv, signal: abort.signal }, (ev) => {
          const obj = ev.object as KubeObject;
          if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (obj?.metadata?.name === name && obj.status) statuses.push(obj.status);
        })
        .catch(() => undefined);
    }
  };
  void run();
  return { statuses, stop: () => abort.abort() };
}

/** Consecutive distinct values of one status field. */
export function distinct(values: unknown[]): unknown[] {
  return values.filter((v, i) => i === 0 || v !== values[i - 1]);
}

export const stable = (fd: KubeObject): boolean => fd.status?.lifecycleState === 'STABLE' && fd.status?.jobStatus?.state === 'RUNNING';
export const suspended = (fd: KubeObject): boolean => fd.status?.lifecycleState === 'SUSPENDED';

/** The recorded spec part of status.reconciliationStatus.lastReconciledSpec. */
export function reconciled(fd: KubeObject): Record<string, any> {
  return JSON.parse(fd.status.reconciliationStatus.lastReconciledSpec).spec;
}

/** The current JobManager pod's log. */
export async function jmLog(sim: Sim, app: string): Promise<string> {
  const [pod] = (await sim.kube.list('/api/v1/namespaces/default/pods', { labelSelector: `app=${app},component=jobmanager` })).filter((p) => !p.metadata.deletionTimestamp);
  if (!pod) return '';
  const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/${pod.metadata.name}/log?container=flink-main-container`);
  return res.text();
}

/** The messages of the JSON log lines of a JobManager log. */
export function messages(log: string): string[] {
  return log.split('\n').filter((l) => l.startsWith('{')).map((l) => String((JSON.parse(l) as { message?: string }).message ?? ''));
}

/** When a JSON log line was written (its `@timestamp`), else now. */
export function lineTime(line: string): number {
  if (!line.startsWith('{')) return Date.now();
  const at = Date.parse(String((JSON.parse(line) as { '@timestamp'?: string })['@timestamp']));
  return Number.isNaN(at) ? Date.now() : at;
}

export interface LogEntry {
  t: number;
  logger: string;
  message: string;
  line: string;
}

/** The JSON lines of a pod's main container log; `previous`: the container before its last restart. */
export async function podLog(sim: Sim, pod: string, previous = false): Promise<LogEntry[]> {
  const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/${pod}/log?container=flink-main-container${previous ? '&previous=true' : ''}`);
  if (!res.ok) return [];
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((line) => {
      const j = JSON.parse(line) as { message?: string; 'log.logger'?: string };
      return { t: lineTime(line), logger: String(j['log.logger'] ?? ''), message: String(j.message ?? ''), line };
    });
}

/** Events about one object. */
export async function eventsOf(sim: Sim, name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await sim.kube.list('/api/v1/namespaces/default/events', { fieldSelector: `involvedObject.name=${name}` });
  return list.map((e) => ({ type: String(e.type), reason: String(e.reason), message: String(e.message) }));
}

/** Watches the Events of one object and keeps them in the order they were created (`type reason: message`). */
export function watchEvents(sim: Sim, name: string): { events: string[]; stop(): void } {
  const events: string[] = [];
  const abort = new AbortController();
  const client = new SimClient(sim.url, 'test-watch');
  void client
    .watch('/api/v1/namespaces/default/events', { signal: abort.signal }, (ev) => {
      const e = ev.object as KubeObject & { involvedObject?: { name?: string } };
      if (ev.type === 'ADDED' && e.involvedObject?.name === name) events.push(`${String(e.type)} ${String(e.reason)}: ${String(e.message)}`);
    })
    .catch(() => undefined);
  return { events, stop: () => abort.abort() };
}

export interface FlinkSim {
  sim: Sim;
  model(name: string): FlinkJobModel;
  record(app: string): Recorder;
  close(): Promise<void>;
}

/** A simulation with the CRDs, the `flink` ServiceAccount and the operator installed from its chart values. */
export async function startFlinkSim(): Promise<FlinkSim> {
  const sim = await operatorSim(['flink-flinkdeployments.yaml', 'flink-flinkstatesnapshots.yaml']);
  const recorders: Recorder[] = [];
  await sim.kube.create('/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flink', namespace: 'default' } });
  await installOperator(sim, {
    kind: 'Deployment',
    name: 'flink-kubernetes-operator',
    namespace: 'flink-operator',
    image: 'ghcr.io/apache/flink-kubernetes-operator:1.15.0',
    env: { WATCH_NAMESPACES: 'default' },
    configMap: flinkOperatorConfigMap('flink-operator'),
  });
  return {
    sim,
    model: (name) => flinkWorld(sim.url).model('default', name),
    record(app) {
      const r = new Recorder(sim, app);
      recorders.push(r);
      return r;
    },
    async close() {
      for (const r of recorders) r.stop();
      await sim.close();
    },
  };
}

/**
 * One simulated Flink cluster for a describe block whose tests set `flink` fault knobs: started
 * before the first test, its knobs cleared after each, closed after the last.
 */
export function useFlinkSimWithKnobs(): { readonly f: FlinkSim; readonly sim: Sim } {
  let f: FlinkSim | undefined;
  beforeAll(async () => {
    f = await startFlinkSim();
  });
  afterEach(async () => {
    await f?.sim.patchFaults({ flink: null });
  });
  afterAll(async () => {
    await f?.close();
  });
  return {
    get f() {
      return f!;
    },
    get sim() {
      return f!.sim;
    },
  };
}
