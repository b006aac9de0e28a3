// The kubelet's status rules: pod phase from container states (kubelet getPhase) and the
// pod conditions Initialized / ContainersReady / Ready with their reasons and messages.

export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason: string; startedAt?: string; finishedAt: string; containerID?: string; message?: string };
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

/** kubelet getPhase: a waiting container keeps the pod Pending; crash-looping ones count as stopped. */
export function podPhase(init: ContainerStatus[], main: ContainerStatus[], restartPolicy: string): string {
  for (const s of init) {
    if (s.state.terminated && s.state.terminated.exitCode !== 0 && restartPolicy === 'Never') return 'Failed';
  }
  if (init.some((s) => !(s.state.terminated && s.state.terminated.exitCode === 0))) return 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of main) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function cond(type: string, ok: boolean, reason?: string, message?: string): Omit<PodCondition, 'lastTransitionTime'> & { lastTransitionTime?: string } {
  return ok ? { type, status: 'True', lastProbeTime: null } : { type, status: 'False', reason, message, lastProbeTime: null };
}

/**
 * Conditions in the kubelet's order; lastTransitionTime only moves when a status flips
 * (taken from `previous`).
 */
export function podConditions(opts: {
  sandboxReady: boolean;
  init: ContainerStatus[];
  main: ContainerStatus[];
  phase: string;
  scheduled: PodCondition | undefined;
  previous: PodCondition[];
  at: string;
}): PodCondition[] {
  const incompleteInit = opts.init.filter((s) => !(s.state.terminated && s.state.terminated.exitCode === 0)).map((s) => s.name);
  const unready = opts.main.filter((s) => !s.ready).map((s) => s.name);
  const completed = opts.phase === 'Succeeded' || opts.phase === 'Failed';
  const readyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const readyMessage = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const list = [
    cond('PodReadyToStartContainers', opts.sandboxReady && !completed),
    cond('Initialized', incompleteInit.length === 0, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    cond('Ready', !completed && unready.length === 0, readyReason, readyMessage),
    cond('ContainersReady', !completed && unready.length === 0, readyReason, readyMessage),
  ];
  if (opts.init.length === 0 || incompleteInit.length === 0) list[1] = cond('Initialized', true);
  const out: PodCondition[] = list.map((c) => {
    const prev = opts.previous.find((p) => p.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : opts.at;
    const clean = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
    return { ...clean, lastTransitionTime } as PodCondition;
  });
  if (opts.scheduled) out.push(opts.scheduled);
  return out;
}
