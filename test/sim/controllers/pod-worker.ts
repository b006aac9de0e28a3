// One pod's life on its node, as the kubelet drives it: sandbox, volumes, image pulls (with
// ErrImagePull / ImagePullBackOff when a pull fails), init containers in order, then the app
// containers, readiness (fault knobs + the behaviour's own check), restarts by restartPolicy
// with CrashLoopBackOff, and log streams through /_sim/logs. Status is written as a whole
// through the status subresource, coalescing bursts of changes into one write.
import { randomBytes } from 'node:crypto';
import { ApiError, type KubeObject, type SimClient } from '../api-client.ts';
import { behaviourFor, type ContainerContext, type ContainerSpec } from './behaviours.ts';
import { matchesAny, type SimFaults } from '../faults.ts';
import { fakeDigest, imageRepository, imageTag, normalizeImage } from '../image-ref.ts';
import type { ControllerContext } from './context.ts';
import type { EventInput } from './events.ts';
import { sleep, simLog } from './informer.ts';
import { now } from './names.ts';
import { podConditions, podPhase, type ContainerStatus, type PodCondition } from './pod-status.ts';

export interface KubeletShared {
  readonly ctx: ControllerContext;
  readonly api: SimClient;
  allocateIp(nodeName: string): string;
}

interface Slot {
  spec: ContainerSpec;
  init: boolean;
  status: ContainerStatus;
  /** Precise start time (status times have second precision, like the real API). */
  startedMs?: number;
  readiness?: () => boolean;
  lastUnhealthyMs?: number;
  /** Attempt currently writing logs (its restartCount), while it runs. */
  logAttempt?: number;
}

function hex(n: number): string {
  return randomBytes(n).toString('hex');
}

function ms(d: number): string {
  return d >= 1000 ? `${(d / 1000).toFixed(3).replace(/\.?0+$/, '')}s` : `${Math.round(d)}ms`;
}

function qosClass(pod: KubeObject): string {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  if (all.every((c) => !c.resources?.requests && !c.resources?.limits)) return 'BestEffort';
  const guaranteed = all.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = { ...l, ...(c.resources?.requests ?? {}) };
    return l.cpu !== undefined && l.memory !== undefined && r.cpu === l.cpu && r.memory === l.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export class PodWorker {
  pod: KubeObject;
  private readonly shared: KubeletShared;
  private readonly abort = new AbortController();
  private readonly init: Slot[];
  private readonly main: Slot[];
  private sandboxReady = false;
  private readonly startTime = now();
  private podIp = '';
  private hostIp = '';
  private dirty = false;
  private writing: Promise<void> | undefined;
  private gone = false;

  constructor(shared: KubeletShared, pod: KubeObject) {
    this.shared = shared;
    this.pod = pod;
    const slot = (spec: ContainerSpec, init: boolean): Slot => ({
      spec,
      init,
      status: {
        name: spec.name,
        image: spec.image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: init ? 'PodInitializing' : pod.spec?.initContainers?.length ? 'PodInitializing' : 'ContainerCreating' } },
        lastState: {},
      },
    });
    this.init = ((pod.spec?.initContainers ?? []) as ContainerSpec[]).map((c) => slot(c, true));
    this.main = ((pod.spec?.containers ?? []) as ContainerSpec[]).map((c) => slot(c, false));
  }

  private get ctx(): ControllerContext {
    return this.shared.ctx;
  }
  private get nodeName(): string {
    return this.pod.spec.nodeName as string;
  }
  private get ns(): string {
    return this.pod.metadata.namespace ?? 'default';
  }
  private get name(): string {
    return this.pod.metadata.name ?? '';
  }

  update(pod: KubeObject): void {
    if (pod.metadata.uid === this.pod.metadata.uid) this.pod = pod;
  }

  async run(): Promise<void> {
    const signal = this.abort.signal;
    const node = this.ctx.informers.nodes.get(undefined, this.nodeName);
    this.hostIp = (node?.status?.addresses ?? []).find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '172.18.0.2';
    this.podIp = this.pod.spec?.hostNetwork ? this.hostIp : this.shared.allocateIp(this.nodeName);
    this.flush();
    await sleep(this.ctx.timing.sandboxMs, signal);
    await this.waitForVolumes();
    if (signal.aborted) return;
    this.sandboxReady = true;
    this.flush();
    for (const slot of this.init) {
      const code = await this.runContainer(slot);
      if (signal.aborted || code === undefined) return;
      if (code !== 0) return; // restartPolicy Never: the pod failed (phase computed from the statuses)
    }
    for (const slot of this.main) if (!slot.status.state.running) slot.status.state = { waiting: { reason: 'ContainerCreating' } };
    this.flush();
    void this.readinessLoop();
    await Promise.all(this.main.map((slot) => this.runContainer(slot)));
    this.flush();
  }

  /** The pod is being deleted: stop its containers; when graceful, write the last status and finish the delete. */
  async stop(graceful: boolean): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    const at = now();
    for (const slot of [...this.init, ...this.main]) {
      const running = slot.status.state.running;
      if (running && graceful) {
        void this.event(slot, { type: 'Normal', reason: 'Killing', message: `Stopping container ${slot.spec.name}` });
      }
      if (running) {
        slot.status.state = { terminated: { exitCode: 0, reason: 'Completed', startedAt: running.startedAt, finishedAt: at, containerID: slot.status.containerID } };
        slot.status.ready = false;
        slot.status.started = false;
      }
      await this.endLogs(slot);
    }
    if (!graceful) {
      this.gone = true;
      return;
    }
    this.flush();
    await this.writing;
    await this.shared.api.delete(`/api/v1/namespaces/${this.ns}/pods/${this.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: this.pod.metadata.uid } }).catch((err: unknown) => simLog(`final delete of ${this.name}: ${String(err)}`));
    this.gone = true;
  }

  private async waitForVolumes(): Promise<void> {
    const claims = ((this.pod.spec?.volumes ?? []) as { persistentVolumeClaim?: { claimName: string } }[]).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
    while (!this.abort.signal.aborted && claims.some((c) => this.ctx.informers.pvcs.get(this.ns, c)?.status?.phase !== 'Bound')) {
      await sleep(50, this.abort.signal);
    }
  }

  private event(slot: Slot | undefined, ev: EventInput): Promise<void> {
    const fieldPath = slot ? `spec.${slot.init ? 'initContainers' : 'containers'}{${slot.spec.name}}` : undefined;
    return this.ctx.events.record(this.pod, { component: 'kubelet', host: this.nodeName }, { ...ev, fieldPath });
  }

  private async postLogs(slot: Slot, lines: string[], terminated = false): Promise<void> {
    if (slot.logAttempt === undefined) return;
    try {
      await this.shared.api.request('POST', '/_sim/logs', {
        namespace: this.ns,
        pod: this.name,
        uid: this.pod.metadata.uid,
        container: slot.spec.name,
        attempt: slot.logAttempt,
        lines,
        ...(terminated ? { terminated: true } : {}),
      });
    } catch (err) {
      simLog(`logs of ${this.name}/${slot.spec.name}: ${String(err)}`);
    }
  }

  private async endLogs(slot: Slot): Promise<void> {
    if (slot.logAttempt === undefined) return;
    await this.postLogs(slot, [], true);
    slot.logAttempt = undefined;
  }

  /** Pulls, starts and runs one container until it ends for good; its last exit code, or undefined when stopped. */
  private async runContainer(slot: Slot): Promise<number | undefined> {
    const signal = this.abort.signal;
    const restartPolicy = (this.pod.spec?.restartPolicy as string | undefined) ?? 'Always';
    for (;;) {
      if (!(await this.pull(slot))) return undefined;
      await sleep(this.ctx.timing.startMs, signal);
      if (signal.aborted) return undefined;
      const containerID = `containerd://${hex(32)}`;
      await this.event(slot, { type: 'Normal', reason: 'Created', message: `Created container: ${slot.spec.name}` });
      await this.event(slot, { type: 'Normal', reason: 'Started', message: `Started container ${slot.spec.name}` });
      // The crashLoop knob: the process dies at start, before any readiness probe could pass.
      const crash = !slot.init && matchesAny(this.name, (await this.ctx.faults()).crashLoop);
      const startedAt = now();
      slot.startedMs = Date.now();
      slot.readiness = crash ? () => false : undefined;
      slot.logAttempt = slot.status.restartCount;
      Object.assign(slot.status, { containerID, started: true, ready: false, state: { running: { startedAt } } });
      this.flush();

      const attempt = new AbortController();
      const onAbort = (): void => attempt.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let exitCode: number | undefined;
      try {
        if (crash) {
          await this.postLogs(slot, [`FATAL: ${slot.spec.name} exited at start: simulated crash (crashLoop fault knob)`]);
          exitCode = 1;
        } else {
          exitCode = await behaviourFor(slot.spec.image, this.pod, slot.spec, slot.init).run(this.containerContext(slot, attempt.signal));
        }
      } catch (err) {
        await this.postLogs(slot, [`Error: ${err instanceof Error ? err.message : String(err)}`]);
        exitCode = 1;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      if (signal.aborted) return undefined;
      exitCode ??= 0;
      const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: now(), containerID };
      await this.endLogs(slot);
      const restart = slot.init ? exitCode !== 0 && restartPolicy !== 'Never' : restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0);
      if (!restart) {
        Object.assign(slot.status, { state: { terminated }, ready: false, started: false });
        this.flush();
        return exitCode;
      }
      slot.status.restartCount += 1;
      const backoff = Math.min(this.ctx.timing.backoffMs * 2 ** (slot.status.restartCount - 1), this.ctx.timing.backoffMaxMs);
      const podRef = `${this.name}_${this.ns}(${this.pod.metadata.uid})`;
      Object.assign(slot.status, {
        lastState: { terminated },
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${ms(backoff)} restarting failed container=${slot.spec.name} pod=${podRef}` } },
        ready: false,
        started: false,
      });
      this.flush();
      await this.event(slot, { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${slot.spec.name} in pod ${podRef}` });
      await sleep(backoff, signal);
    }
  }

  private containerContext(slot: Slot, signal: AbortSignal): ContainerContext {
    const env = new Map<string, string>();
    for (const e of slot.spec.env ?? []) if (e.value !== undefined) env.set(e.name, e.value);
    return {
      pod: this.pod,
      container: slot.spec,
      init: slot.init,
      nodeName: this.nodeName,
      attempt: slot.status.restartCount,
      signal,
      api: this.shared.api,
      log: (...lines) => (signal.aborted ? Promise.resolve() : this.postLogs(slot, lines)),
      sleep: (d) => sleep(d, signal),
      faults: () => this.ctx.faults(),
      env: (name) => env.get(name),
      setReadiness: (check) => {
        slot.readiness = check;
      },
    };
  }

  /** Why a pull fails (containerd's words), or undefined when it works. */
  private pullFailure(image: string, faults: SimFaults, onNode: boolean): string | undefined {
    const ref = normalizeImage(image);
    if (matchesAny(image, faults.unpullableImages) || matchesAny(ref, faults.unpullableImages)) {
      return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
    }
    // Built by the local docker only: no registry has it (the reason `kind load` exists).
    if (faults.dockerImages?.[ref] && !onNode) {
      return `rpc error: code = Unknown desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
    }
    return undefined;
  }

  private imagesOnNode(): Set<string> {
    const node = this.ctx.informers.nodes.get(undefined, this.nodeName);
    return new Set(((node?.status?.images ?? []) as { names?: string[] }[]).flatMap((i) => i.names ?? []));
  }

  /** True once the image is there; false when the pod stopped first. */
  private async pull(slot: Slot): Promise<boolean> {
    const signal = this.abort.signal;
    const image = slot.spec.image;
    const ref = normalizeImage(image);
    const policy = slot.spec.imagePullPolicy ?? (imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent');
    let failures = 0;
    while (!signal.aborted) {
      const faults = await this.ctx.faults();
      const onNode = this.imagesOnNode().has(ref);
      const imageID = `${imageRepository(image)}@${faults.dockerImages?.[ref]?.id ?? fakeDigest(ref)}`;
      if (policy !== 'Always' && onNode) {
        await this.event(slot, { type: 'Normal', reason: 'Pulled', message: `Container image "${image}" already present on machine` });
        slot.status.imageID = imageID;
        return true;
      }
      if (policy === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        slot.status.state = { waiting: { reason: 'ErrImageNeverPull', message } };
        this.flush();
        await this.event(slot, { type: 'Warning', reason: 'ErrImageNeverPull', message });
        await sleep(this.ctx.timing.backoffMaxMs, signal);
        continue;
      }
      await this.event(slot, { type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"` });
      const t0 = Date.now();
      await sleep(this.ctx.timing.pullMsByImage?.find((p) => new RegExp(p.image).test(image))?.ms ?? this.ctx.timing.pullMs, signal);
      if (signal.aborted) return false;
      const failure = this.pullFailure(image, await this.ctx.faults(), this.imagesOnNode().has(ref));
      if (!failure) {
        const took = ms(Date.now() - t0);
        const size = 10_000_000 + (parseInt(fakeDigest(ref).slice(7, 13), 16) % 90_000_000);
        await this.event(slot, { type: 'Normal', reason: 'Pulled', message: `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.` });
        slot.status.imageID = imageID;
        return true;
      }
      failures += 1;
      slot.status.state = { waiting: { reason: 'ErrImagePull', message: failure } };
      this.flush();
      await this.event(slot, { type: 'Warning', reason: 'Failed', message: `Failed to pull image "${image}": ${failure}` });
      await this.event(slot, { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' });
      const backoff = Math.min(this.ctx.timing.backoffMs * 2 ** (failures - 1), this.ctx.timing.backoffMaxMs);
      await sleep(Math.min(backoff, 100), signal);
      if (signal.aborted) return false;
      slot.status.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${failure}` } };
      this.flush();
      await this.event(slot, { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${image}"` });
      await this.event(slot, { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' });
      await sleep(backoff, signal);
    }
    return false;
  }

  /** Probes: started containers turn Ready when the knobs and their own check allow. */
  private async readinessLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const faults = await this.ctx.faults();
      const never = matchesAny(this.name, faults.neverReady);
      let changed = false;
      for (const slot of this.main) {
        if (!slot.status.state.running || slot.startedMs === undefined) continue;
        const slowOk = Date.now() - slot.startedMs >= (faults.slowReadinessMs ?? 0);
        const ready = slowOk && !never && (slot.readiness?.() ?? true);
        if (never && Date.now() - (slot.lastUnhealthyMs ?? 0) > 2000) {
          slot.lastUnhealthyMs = Date.now();
          void this.event(slot, { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' });
        }
        if (slot.status.ready !== ready) {
          slot.status.ready = ready;
          changed = true;
        }
      }
      if (changed) this.flush();
      if (this.main.every((s) => s.status.state.terminated)) return;
      await sleep(25, signal);
    }
  }

  private statusBody(): Record<string, unknown> {
    const restartPolicy = (this.pod.spec?.restartPolicy as string | undefined) ?? 'Always';
    const init = this.init.map((s) => s.status);
    const main = this.main.map((s) => s.status);
    const phase = podPhase(init, main, restartPolicy);
    const previous = (this.pod.status?.conditions ?? []) as PodCondition[];
    const scheduled = previous.find((c) => c.type === 'PodScheduled');
    const status: Record<string, unknown> = {
      phase,
      conditions: podConditions({ sandboxReady: this.sandboxReady, init, main, phase, scheduled, previous, at: now() }),
      hostIP: this.hostIp,
      hostIPs: [{ ip: this.hostIp }],
      podIP: this.podIp,
      podIPs: [{ ip: this.podIp }],
      startTime: this.startTime,
      qosClass: qosClass(this.pod),
      containerStatuses: structuredClone(main),
    };
    if (init.length) status.initContainerStatuses = structuredClone(init);
    return status;
  }

  /** Schedules a status write; bursts of changes become one write of the latest state. */
  flush(): void {
    if (this.gone) return;
    this.dirty = true;
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty && !this.gone) {
      this.dirty = false;
      // The name may already belong to a successor pod (StatefulSets reuse names): hands off.
      const cached = this.ctx.informers.pods.get(this.ns, this.name);
      if (cached && cached.metadata.uid !== this.pod.metadata.uid) {
        this.gone = true;
        return;
      }
      try {
        const updated = await this.shared.api.mergePatch(`/api/v1/namespaces/${this.ns}/pods/${this.name}/status`, { status: this.statusBody() });
        if (updated.metadata.uid === this.pod.metadata.uid) {
          this.pod = updated;
          this.ctx.informers.pods.upsert(updated);
        }
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          this.gone = true;
          if (!this.abort.signal.aborted) void this.stop(false);
          return;
        }
        if (this.ctx.signal.aborted) return; // shutting down: the server may be gone already
        simLog(`status of ${this.name}: ${String(err)}`);
        this.dirty = true;
        await sleep(100, this.ctx.signal);
      }
    }
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }
}
