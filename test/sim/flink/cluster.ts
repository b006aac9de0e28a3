// The Flink processes in the simulated pods (native Kubernetes mode), as container behaviours:
// - JobManager (pods app=<name>, component=jobmanager): reads its configuration from the
//   `flink-config-<name>` ConfigMap, leads (others stand by; with Kubernetes HA a new leader also
//   waits until the lock of the last one, never released by Flink, has not been renewed for the
//   lease duration), restores the job the way Flink does (HA store with a checkpoint -> that
//   checkpoint; else `execution.savepoint.path`; else scratch), publishes HA metadata, and, as
//   Flink's ResourceManager, creates TaskManager pods `<name>-taskmanager-<attempt>-<index>`
//   through the API from the `pod-template-<name>` ConfigMap whenever fewer are alive than
//   ceil(parallelism / slots), and notices lost TaskManagers (liveness.ts).
// - TaskManager (component=taskmanager): registers its slots with the job model and writes the
//   record lines the job routes to it into its container log. Its pod deleted, it shuts down and
//   says so (`The TaskExecutor is shutting down.`).
// Both processes take the `flink` knobs' signals (process-faults.ts): killed, a
// TaskManager's container exits 137 and a JobManager's tasks run on without it; frozen, a
// TaskManager stops answering until it is given up.
// The job model (job.ts / runtime.ts) stands in for Flink's RPC and REST.
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { SimClient, type KubeObject } from '../api-client.ts';
import type { ContainerContext, ImageBehaviour } from '../controllers/behaviours.ts';
import { isActive } from '../controllers/names.ts';
import { simMs } from '../time-scale.ts';
import { checkpointIntervalMs, flinkClocks, flinkVersionOfImage, haEnabled, parseConfYaml, parseMemoryMiB, programArgs, rateFromArgs, restartStrategy, slotsPerTaskManager, type FlinkClocks, type FlinkConf } from './config.ts';
import { HaStore } from './ha.ts';
import { flinkWorld, type FlinkJobModel, type Snapshot, type TaskManagerHandle } from './job.ts';
import { lostPods, monitorHeartbeats } from './liveness.ts';
import { HELLO_ENTRY_CLASS, layoutOf, logLine, type LogLayout } from './logs.ts';
import { takeSignal } from './process-faults.ts';
import { JobRuntime, type FlinkKnobs } from './runtime.ts';

const JM_STARTUP_MS = 100;
const DEPLOY_MS = 50;
const SAVEPOINT_MS = 100;
const RM_PERIOD_MS = 100;
/** How often a TaskManager process looks for a signal (wall-clock ms). */
const PROCESS_POLL_MS = 20;
/** The exit code of a process killed with SIGKILL. */
const KILLED = 137;
const RM_LOGGER = 'org.apache.flink.kubernetes.KubernetesResourceManagerDriver';
const ARM_LOGGER = 'org.apache.flink.runtime.resourcemanager.active.ActiveResourceManager';
const ELECTOR_LOGGER = 'org.apache.flink.kubernetes.kubeclient.resources.KubernetesLeaderElector';

function isFlinkPod(pod: KubeObject, component: string): boolean {
  return pod.metadata.labels?.type === 'flink-native-kubernetes' && pod.metadata.labels?.component === component && !!pod.metadata.labels?.app;
}

interface PodConf {
  conf: FlinkConf;
  layout: LogLayout;
}

/** The mounted configuration: waits for the operator to have written it. */
async function readConf(ctx: ContainerContext, app: string): Promise<PodConf | undefined> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  while (!ctx.signal.aborted) {
    const cm = await ctx.api.get<KubeObject>(`/api/v1/namespaces/${ns}/configmaps/flink-config-${app}`).catch(() => undefined);
    const data = (cm?.data as Record<string, string> | undefined) ?? undefined;
    if (data) return { conf: parseConfYaml(data['config.yaml'] ?? data['flink-conf.yaml']), layout: layoutOf(data['log4j-console.properties']) };
    await ctx.sleep(50);
  }
  return undefined;
}

/** Ordered log writes for one container; `flush` resolves once all queued lines are written. */
function logChain(ctx: ContainerContext): { write(lines: string[]): void; flush(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  return {
    write(lines) {
      chain = chain.then(() => ctx.log(...lines)).catch(() => undefined);
    },
    flush: () => chain,
  };
}

/**
 * The image's entrypoint refuses to start when ENABLE_BUILT_IN_PLUGINS names a jar that is not in
 * the image (FACTS section 0); we can only tell for `flink:<exact version>` images.
 */
async function pluginsMissing(ctx: ContainerContext): Promise<boolean> {
  const version = flinkVersionOfImage(ctx.container.image);
  const plugins = ctx.env('ENABLE_BUILT_IN_PLUGINS');
  if (!version || !plugins) return false;
  for (const jar of plugins.split(';').map((j) => j.trim()).filter(Boolean)) {
    const m = /-(\d+\.\d+\.\d+)\.jar$/.exec(jar);
    if (m && m[1] !== version) {
      await ctx.log('Enabling required built-in plugins', `Linking ${jar} to plugin directory`, `Plugin ${jar} does not exist. Exiting.`);
      return true;
    }
  }
  return false;
}

function k8sMemory(mib: number | undefined): string | undefined {
  return mib === undefined ? undefined : `${Math.round(mib)}Mi`;
}

/** A TaskManager pod as Flink's KubernetesTaskManagerFactory builds it from the pod template. */
function taskManagerPod(name: string, ns: string, app: string, conf: FlinkConf, template: KubeObject | undefined, owner: KubeObject, fallbackImage: string): KubeObject {
  const tplContainers = ((template?.spec?.containers ?? []) as { name: string; env?: unknown[] }[]);
  const main = tplContainers.find((c) => c.name === 'flink-main-container') ?? { name: 'flink-main-container' };
  const cpu = conf['kubernetes.taskmanager.cpu.amount'] ?? '1';
  const memory = k8sMemory(parseMemoryMiB(conf['taskmanager.memory.process.size'])) ?? '1728Mi';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { ...(template?.metadata?.labels ?? {}), app, component: 'taskmanager', type: 'flink-native-kubernetes' },
      ...(template?.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      ...(template?.spec ?? {}),
      restartPolicy: 'Never',
      serviceAccountName: conf['kubernetes.taskmanager.service-account'] ?? conf['kubernetes.service-account'] ?? 'default',
      containers: [
        {
          ...main,
          name: 'flink-main-container',
          image: conf['kubernetes.container.image.ref'] ?? fallbackImage,
          imagePullPolicy: conf['kubernetes.container.image.pull-policy'] ?? 'IfNotPresent',
          args: ['bash', '-c', `kubernetes-taskmanager.sh -Dtaskmanager.resource-id=${name} -Djobmanager.rpc.address=${app}.${ns}`],
          ports: [{ name: 'rpc', containerPort: 6122, protocol: 'TCP' }],
          resources: { requests: { cpu, memory }, limits: { cpu, memory } },
          env: [...((main.env as unknown[] | undefined) ?? []), { name: 'FLINK_TM_JVM_MEM_OPTS', value: '-Xmx536870912 -Xms536870912' }],
        },
        ...tplContainers.filter((c) => c.name !== 'flink-main-container'),
      ],
    },
  };
}

export const jobManagerBehaviour: ImageBehaviour = {
  name: 'flink-jobmanager',
  matches: (_image, pod, container, init) => !init && container.name === 'flink-main-container' && isFlinkPod(pod, 'jobmanager'),
  async run(ctx) {
    const app = ctx.pod.metadata.labels!.app!;
    const ns = ctx.pod.metadata.namespace ?? 'default';
    const pod = ctx.pod.metadata.name!;
    // The leader lock's identity: one per process (Flink's is a random UUID), so a restarted
    // container is a new contender.
    const me = `${pod}-${randomBytes(4).toString('hex')}`;
    const api = new SimClient(ctx.api.url, 'flink-jobmanager');
    const pc = await readConf(ctx, app);
    if (!pc) return undefined;
    const { conf, layout } = pc;
    const jm = logChain(ctx);
    const log: JmLog = (level, logger, message) => jm.write([logLine(layout, level, logger, message)]);
    log('INFO', 'org.apache.flink.runtime.entrypoint.ClusterEntrypoint', `Starting KubernetesApplicationClusterEntrypoint (Version: ${flinkVersionOfImage(ctx.container.image) ?? '1.20.4'}, Scala: 2.12).`);
    if (await pluginsMissing(ctx)) return 1;

    const world = flinkWorld(ctx.api.url);
    const model = world.model(ns, app);
    const clocks = flinkClocks(conf);
    const clusterId = conf['high-availability.cluster-id'] ?? app;
    const ha = haEnabled(conf) ? new HaStore(api, ns, clusterId) : undefined;
    if (!(await leadership(ctx, model, me, ha, clocks))) return undefined;
    if (ha) {
      log('INFO', ELECTOR_LOGGER, `New leader elected ${me} for ${clusterId}-cluster-config-map.`);
      // The TaskManagers' job leader service hears of it and cancels what a killed leader left running.
      model.newLeader();
    }
    const renewal = ha ? setInterval(() => model.leader === me && (model.lease = { holder: me, renewedMs: Date.now() }), simMs(clocks.leaseRetryMs)) : undefined;
    renewal?.unref();
    // Until the JobManager's own loops end: the pod stopped, or the process killed.
    const alive = new AbortController();
    ctx.signal.addEventListener('abort', () => alive.abort(), { once: true });
    let knobs: FlinkKnobs = (await ctx.faults()).flink ?? {};
    let runtime: JobRuntime | undefined;
    let killed = false;
    try {
      await ctx.sleep(JM_STARTUP_MS);
      if (ctx.signal.aborted) return undefined;
      const recovered = await ha?.read(conf['$internal.pipeline.job-id']);
      const jobId = recovered?.jobId ?? conf['$internal.pipeline.job-id'] ?? randomBytes(16).toString('hex');
      let failure: string | undefined;
      let from: Snapshot | undefined;
      if (recovered?.checkpoint) {
        from = world.storage.get(recovered.checkpoint.path);
        if (!from) failure = `java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '${recovered.checkpoint.path}' on file system 's3'.`;
      }
      const savepointPath = conf['execution.savepoint.path'];
      const initialSavepoint = savepointPath ? world.storage.get(savepointPath) : undefined;
      if (savepointPath && !initialSavepoint && !from) failure = `java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '${savepointPath}' on file system 's3'.`;
      from ??= initialSavepoint;
      const entry = conf['$internal.application.main'] ?? '';
      const hello = entry === HELLO_ENTRY_CLASS || /hello-job/.test(conf['pipeline.jars'] ?? '');
      runtime = new JobRuntime(model, world, {
        jobId,
        jobName: hello ? 'hello-job' : (conf['pipeline.name'] ?? 'Flink Streaming Job'),
        hello,
        rate: rateFromArgs(programArgs(conf)),
        parallelism: Math.max(1, Number(conf['parallelism.default'] ?? 1) || 1),
        checkpointIntervalMs: checkpointIntervalMs(conf),
        checkpointsDir: conf['state.checkpoints.dir'] ?? conf['execution.checkpointing.dir'],
        savepointsDir: conf['state.savepoints.dir'] ?? conf['execution.checkpointing.savepoint-dir'],
        restart: restartStrategy(conf),
        layout,
        initialSavepoint,
        onCheckpoint: ha ? (s) => ha.checkpointCompleted(jobId, s.checkpointId ?? 0, s.path!, Number(conf['state.checkpoints.num-retained'] ?? 1)) : undefined,
        onIdUsed: ha ? (id) => ha.idUsed(jobId, id) : undefined,
        onTerminal: ha ? () => ha.jobTerminated(jobId) : undefined,
        allowNonRestoredState: (conf['execution.savepoint.ignore-unclaimed-state'] ?? 'false') === 'true',
        log,
        knobs: () => knobs,
        refreshKnobs: async () => {
          knobs = (await ctx.faults()).flink ?? {};
        },
        deployMs: DEPLOY_MS,
        savepointMs: SAVEPOINT_MS,
        clocks,
      });
      model.runtime = runtime;
      if (ha) await ha.jobSubmitted(jobId, pod, `http://${app}-rest.${ns}:8081`, me);
      knobs = (await ctx.faults()).flink ?? {};
      if (failure) runtime.failAtStart(failure);
      else runtime.begin(from, 'jobmanager-start', { checkpointCounter: recovered?.lastId, recovery: recovered?.graph === true });
      void monitorHeartbeats(model, clocks, alive.signal, (tm) => stopWorker(api, ns, tm, log));
      killed = (await resourceManager(ctx, api, app, ns, conf, runtime, log, (k) => (knobs = k))) === 'killed';
    } finally {
      alive.abort();
      if (renewal) clearInterval(renewal);
      // Shut down, Flink suspends the job and its TaskManagers cancel the tasks; killed, it can
      // do nothing, and the tasks run on. Neither releases the leader lock.
      if (killed) runtime?.orphan();
      else runtime?.shutdown();
      if (model.leader === me) model.leader = undefined;
      model.changed();
    }
    return killed ? KILLED : undefined;
  },
};

/**
 * Waits to lead: while another JobManager process leads, and, with Kubernetes HA, while the
 * leader lock of the last leader (which Flink's KubernetesLeaderElector never releases, not even
 * on a clean shutdown) was renewed less than the lease duration ago. A candidate tries once per
 * retry period. False when the pod stopped first.
 */
async function leadership(ctx: ContainerContext, model: FlinkJobModel, me: string, ha: HaStore | undefined, clocks: FlinkClocks): Promise<boolean> {
  for (;;) {
    if (ctx.signal.aborted) return false;
    const lease = model.lease;
    const locked = ha !== undefined && lease !== undefined && lease.holder !== me && Date.now() < lease.renewedMs + simMs(clocks.leaseDurationMs);
    if (!(model.leader && model.leader !== me) && !(locked && (await ha.leaderLockExists().catch(() => true)))) break;
    await ctx.sleep(ha ? simMs(clocks.leaseRetryMs) : RM_PERIOD_MS);
  }
  if (ctx.signal.aborted) return false;
  model.leader = me;
  if (ha) model.lease = { holder: me, renewedMs: Date.now() };
  return true;
}

/** ActiveResourceManager.internalStopWorker -> KubernetesResourceManagerDriver.releaseResource: the pod goes. */
async function stopWorker(api: SimClient, ns: string, pod: string, log: JmLog): Promise<void> {
  log('INFO', ARM_LOGGER, `Stopping worker ${pod}.`);
  log('INFO', RM_LOGGER, `Stopping TaskManager pod ${pod}.`);
  await api.delete(`/api/v1/namespaces/${ns}/pods/${pod}`).catch(() => undefined);
}

/** Flink's ResourceManager: keeps ceil(parallelism / slots) TaskManager pods alive while the job needs them. */
type JmLog = (level: 'INFO' | 'WARN' | 'ERROR', logger: string, message: string) => void;

async function resourceManager(ctx: ContainerContext, api: SimClient, app: string, ns: string, conf: FlinkConf, runtime: JobRuntime, log: JmLog, setKnobs: (k: FlinkKnobs) => void): Promise<'killed' | undefined> {
  const tmSelector = `app=${app},component=taskmanager`;
  const existing = await api.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: tmSelector }).catch(() => ({ items: [] as KubeObject[] }));
  // A new ResourceManager attempt: one above any attempt in the names of pods it finds.
  const attempt = 1 + Math.max(0, ...existing.items.map((p) => Number(/-taskmanager-(\d+)-\d+$/.exec(p.metadata.name ?? '')?.[1] ?? 0)));
  let index = 0;
  const cm = await api.get<KubeObject>(`/api/v1/namespaces/${ns}/configmaps/pod-template-${app}`).catch(() => undefined);
  const templateText = (cm?.data as Record<string, string> | undefined)?.['taskmanager-pod-template.yaml'];
  const template = templateText ? (parseYaml(templateText) as KubeObject) : undefined;
  const need = Math.ceil(Math.max(1, Number(conf['parallelism.default'] ?? 1) || 1) / slotsPerTaskManager(conf));
  const model = flinkWorld(ctx.api.url).model(ns, app);
  const lastSeen = new Map<string, KubeObject>();
  while (!ctx.signal.aborted) {
    setKnobs((await ctx.faults()).flink ?? {});
    if ((await takeSignal(ctx, false))?.kind === 'kill') return 'killed';
    const wanted = ['INITIALIZING', 'CREATED', 'RUNNING', 'RESTARTING'].includes(runtime.state) ? need : 0;
    try {
      const registered = [...model.taskManagers.keys()];
      const all = (await api.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: tmSelector })).items;
      // KubernetesResourceManagerDriver's pod watch: a TaskManager whose pod went or whose
      // process died is lost at once, and a terminated pod is removed.
      for (const lost of lostPods(registered, all, lastSeen)) {
        model.taskManagerLost(lost.pod, { kind: 'terminated', diagnostics: lost.diagnostics });
        if (lost.present) await api.delete(`/api/v1/namespaces/${ns}/pods/${lost.pod}`).catch(() => undefined);
      }
      const pods = all.filter(isActive);
      const owner = wanted > pods.length ? await api.get<KubeObject>(`/apis/apps/v1/namespaces/${ns}/deployments/${app}`) : undefined;
      for (let i = pods.length; owner && i < wanted; i++) {
        index += 1;
        const name = `${app}-taskmanager-${attempt}-${index}`;
        await api.create(`/api/v1/namespaces/${ns}/pods`, taskManagerPod(name, ns, app, conf, template, owner, ctx.container.image));
        log('INFO', RM_LOGGER, `Creating new TaskManager pod with name ${name} and resource <${conf['taskmanager.memory.process.size'] ?? '1728m'},${conf['kubernetes.taskmanager.cpu.amount'] ?? '1.0'}>.`);
      }
    } catch (err) {
      log('WARN', RM_LOGGER, `Could not create TaskManager pod: ${err instanceof Error ? err.message : String(err)}`);
    }
    await ctx.sleep(RM_PERIOD_MS);
  }
  return undefined;
}

export const taskManagerBehaviour: ImageBehaviour = {
  name: 'flink-taskmanager',
  matches: (_image, pod, container, init) => !init && container.name === 'flink-main-container' && isFlinkPod(pod, 'taskmanager'),
  async run(ctx) {
    const app = ctx.pod.metadata.labels!.app!;
    const ns = ctx.pod.metadata.namespace ?? 'default';
    const pc = await readConf(ctx, app);
    if (!pc) return undefined;
    const out = logChain(ctx);
    out.write([logLine(pc.layout, 'INFO', 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner', `Starting Kubernetes TaskExecutor runner (Version: ${flinkVersionOfImage(ctx.container.image) ?? '1.20.4'}).`)]);
    if (await pluginsMissing(ctx)) return 1;
    const model = flinkWorld(ctx.api.url).model(ns, app);
    const host = (ctx.pod.status?.podIP as string | undefined) ?? ctx.pod.metadata.name!;
    const handle: TaskManagerHandle = {
      pod: ctx.pod.metadata.name!,
      slots: slotsPerTaskManager(pc.conf),
      address: `pekko.tcp://flink@${host}:6122/user/rpc/taskmanager_0`,
      state: 'running',
      lastHeartbeatMs: Date.now(),
      write: out.write,
      flush: out.flush,
    };
    model.registerTaskManager(handle);
    // SIGTERM (the pod deleted, whatever its grace period): TaskExecutor.onStop disconnects from
    // the ResourceManager and the JobMaster before the container is gone. A frozen or dead
    // process cannot; the end of its pod tells them (liveness.ts).
    ctx.signal.addEventListener('abort', () => handle.state === 'running' && model.taskManagerLost(handle.pod, { kind: 'shutdown' }), { once: true });
    out.write([logLine(pc.layout, 'INFO', 'org.apache.flink.runtime.taskexecutor.TaskExecutor', `Successful registration at resource manager pekko.tcp://flink@${app}.${ns}:6123/user/rpc/resourcemanager_* under registration id ${randomBytes(16).toString('hex')}.`)]);
    return (await taskManagerProcess(ctx, handle, model, flinkClocks(pc.conf))) === 'killed' ? KILLED : undefined;
  },
};

/**
 * The TaskManager process until its pod stops or a knob kills it. It answers the heartbeat
 * requests of the JobManager and the ResourceManager, one every heartbeat.interval since it
 * registered; frozen, it answers none, so the last it answered is the last interval before the
 * freeze. Resumed, it answers the waiting requests at once.
 */
async function taskManagerProcess(ctx: ContainerContext, tm: TaskManagerHandle, model: FlinkJobModel, clocks: FlinkClocks): Promise<'killed' | undefined> {
  const since = Date.now();
  const beat = simMs(clocks.heartbeatIntervalMs);
  const lastBeat = (): number => since + Math.floor((Date.now() - since) / beat) * beat;
  while (!ctx.signal.aborted) {
    const signal = await takeSignal(ctx, true);
    if (signal?.kind === 'kill') {
      tm.lastHeartbeatMs = Math.max(tm.lastHeartbeatMs, lastBeat());
      tm.state = 'gone';
      return 'killed';
    }
    if (signal?.kind === 'freeze') {
      tm.lastHeartbeatMs = Math.max(tm.lastHeartbeatMs, lastBeat());
      tm.state = 'frozen';
      await ctx.sleep(simMs(signal.seconds * 1000));
      if (ctx.signal.aborted) break;
      tm.state = 'running';
      tm.lastHeartbeatMs = Date.now();
      model.changed();
      continue;
    }
    await ctx.sleep(PROCESS_POLL_MS);
  }
  return undefined;
}

export const flinkBehaviours: ImageBehaviour[] = [jobManagerBehaviour, taskManagerBehaviour];
