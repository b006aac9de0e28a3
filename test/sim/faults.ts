// The fault knobs of the simulated cluster: one JSON object kept by the fake API server at
// /_sim/faults and shared by everyone (server, controllers, fake tools, tests). The server
// enforces the first three; the simulated controllers and the fake tools read the rest.
// Requests that carry `x-sim-actor` (the simulation's own) are never faulted.

/** A fake tool that fails with a message, like a real CLI whose call went wrong. */
export interface ToolFault {
  tool: 'kind' | 'helm' | 'docker';
  /** Regex tested against the tool's arguments joined by single spaces; absent = every call. */
  match?: string;
  /** Printed on stderr (a trailing newline is added when missing). */
  message: string;
  /** Exit code of the failing call (default 1). */
  exitCode?: number;
  /** How many calls fail before the fault clears itself (absent = every matching call). */
  times?: number;
}

/** The static download server misbehaving (ECK and ingress-nginx manifests). */
export interface DownloadsFault {
  /** Connections are reset before any answer, as if nothing listened. */
  down?: boolean;
  /** Answer this HTTP status (e.g. 500) instead of the file. */
  status?: number;
  /** Regex on the request path; absent = every path. */
  pathRegex?: string;
  /** How many requests fail before the knob clears itself; absent = until cleared. */
  count?: number;
}

/** What the fake docker knows about an image it has built (kept here so all tools see it). */
export interface DockerImage {
  /** `sha256:<64 hex>`: derived from the build context, so the same content gives the same id. */
  id: string;
  /** ISO time of the build. */
  created: string;
  sizeBytes: number;
}

export interface SimFaults {
  // --- enforced by the API server (test/sim/api/), client requests only ---
  /** The next `count` matching requests answer HTTP 500 (the knob removes itself when used up). */
  api500?: { count: number; pathRegex?: string; methods?: string[] };
  /** Client watch streams are cut after this many events and/or this long. */
  watchDrop?: { afterEvents?: number; afterMs?: number };
  /** Pod log follow streams break (the connection drops) after `afterLines` lines, at most `count` times in all. */
  logDrop?: { afterLines: number; count?: number };
  /** Extra latency per client request, in ms. */
  latencyMs?: number;
  /** Admission webhooks (by name regex) refuse client calls, `count` times or until cleared. */
  webhookRefuse?: { webhook?: string; count?: number };

  // --- honoured by the establishing controller (test/sim/controllers/crds.ts), read live ---
  /**
   * Regexes of CRD names that stay Established=False (reason Installing), so the API server
   * never serves their kinds; clearing the knob lets them become Established.
   */
  crdsNeverEstablished?: string[];

  // --- honoured by the simulated kubelet (test/sim/controllers/pod-worker.ts), read live ---
  /** Containers report Ready only this long after they started (a slow readiness probe). */
  slowReadinessMs?: number;
  /**
   * Regexes of pod names whose containers run but never pass their readiness probe (Warning
   * Unhealthy events); clearing the knob lets them become Ready.
   */
  neverReady?: string[];
  /**
   * Regexes of image references (as written in the pod spec, or normalized like
   * `docker.io/library/x:tag`) that cannot be pulled: the container goes ErrImagePull ->
   * ImagePullBackOff with the kubelet's events, and retries with backoff until the knob clears.
   * (Images that only the fake docker has, i.e. in `dockerImages` but not in the node's
   * status.images, cannot be pulled either: that is what `kind load docker-image` is for.)
   */
  unpullableImages?: string[];
  /**
   * Regexes of pod names whose containers (not init containers) exit with code 1 right after
   * they start, logging one line first: the kubelet restarts them with CrashLoopBackOff until
   * the knob clears.
   */
  crashLoop?: string[];

  // --- honoured by the fake docker and kind (test/sim/tools/fake-docker.ts, fake-kind.ts) ---
  docker?: {
    /** The daemon is not running: every call that needs it fails like the docker CLI. */
    down?: boolean;
    /** What `docker info` reports as MemTotal (bytes) and kind nodes as memory capacity. */
    memBytes?: number;
    /** What `docker info` reports as NCPU and kind nodes as cpu capacity. */
    cpus?: number;
  };

  /** Fake tool calls that fail (kind, helm, docker); the first matching entry wins. */
  tools?: ToolFault[];
  /**
   * Regexes of chart sources (repository URLs, oci:// references, chart URLs) that answer 404,
   * as downloads.apache.org does once a Flink operator release moved to archive.apache.org.
   * The fake helm then fails the way helm does for that kind of source.
   */
  chartSourcesGone?: string[];

  // --- honoured by the systems' own containers (test/sim/<system>/behaviours.ts) ---
  /**
   * How long admission webhooks (cert-manager, Flink operator, ECK, ingress-nginx) take after
   * their container started before they answer, in ms (default 300). Read when it starts.
   */
  webhookWarmupMs?: number;

  // --- honoured by the harness's download server (test/sim/tools/downloads.ts) ---
  downloads?: DownloadsFault;

  // --- honoured by the simulated operators (test/sim/<system>/), read live ---
  /** ECK: hold an Elasticsearch at a health / phase, e.g. keep it red. */
  elasticsearch?: {
    /** Reported once any node is reachable, instead of yellow -> green. */
    health?: 'red' | 'yellow' | 'green';
    /** Reported instead of ApplyingChanges / Ready (e.g. 'Stalled', 'MigratingData'). */
    phase?: string;
    /** Regex of the Elasticsearch names it applies to; absent = all. */
    name?: string;
  };
  /** The logging pipeline (fluent-bit -> fluentd -> Elasticsearch), read live by fluentd. */
  logging?: {
    /** Regexes of log lines (the record's `message` as fluent-bit read it) that never reach Elasticsearch. */
    dropLines?: string[];
  };
  /** Flink: make the simulated job misbehave, so that the sequence checker must catch it. */
  flink?: {
    /** Every restore from a checkpoint or savepoint silently starts the sequence from 1. */
    loseStateOnRestore?: boolean;
    /**
     * Only restores when a JobManager starts the job (a resume after suspend, an upgrade, a new
     * JobManager taking over from HA) silently start from 1; failovers keep their state.
     */
    loseStateOnResume?: boolean;
    /** A restore from a checkpoint takes the completed checkpoint BEFORE the latest one (a longer replay). */
    restoreOlderCheckpoint?: boolean;
    /** Sequence numbers that the source emits but no TaskManager ever logs. */
    dropRecords?: number[];
    /** After every Nth record line a TaskManager logs a cut-off copy of it (ours by its marker, malformed). */
    garbageLines?: number;
    /** A job recovering after a fault (failover or HA takeover) never gets its tasks running again. */
    neverRecover?: boolean;
    /**
     * Savepoint triggers fail, stop-with-savepoint included (a manual FlinkStateSnapshot is
     * FAILED at once with the default backoffLimit -1; an upgrade's suspend fails with SavepointError).
     */
    failSavepoints?: boolean;
    /** Savepoints take this many more wall-clock ms to complete (for catching work in flight). */
    savepointDelayMs?: number;
    /**
     * Regexes of JobManager or TaskManager pod names whose Flink process is killed with SIGKILL
     * (`kill -9` in the container, the OOM killer): the container exits 137, the process says
     * nothing more. A TaskManager's loss is noticed when Flink's ResourceManager sees its pod
     * terminated; a JobManager's tasks keep running on the TaskManagers until a new leader has
     * waited out the old one's HA lease. Each entry is used up by the process it kills.
     */
    killProcesses?: string[];
    /**
     * TaskManager processes stopped with SIGSTOP for `seconds` simulated seconds, then resumed:
     * no records, no heartbeats, checkpoint triggers time out; after heartbeat.timeout the
     * ResourceManager gives the TaskManager up and deletes its pod. `pod` is a regex of the pod
     * name; each entry is used up by the process it freezes.
     */
    freezeTaskManagers?: { pod: string; seconds: number }[];
  };

  // --- state, not a fault: the fake docker's image store, keyed by normalized reference ---
  dockerImages?: Record<string, DockerImage>;
}

/** The header every request of the simulation carries (faults skip it, the audit names it). */
export const ACTOR_HEADER = 'x-sim-actor';

/** True when `name` matches one of the regexes (invalid regexes match literally). */
export function matchesAny(name: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns) return false;
  return patterns.some((p) => {
    try {
      return new RegExp(p).test(name);
    } catch {
      return name === p;
    }
  });
}

/** Reads the current knobs from the server (an empty object when none are set). */
export async function readFaults(url: string, actor: string): Promise<SimFaults> {
  const res = await fetch(`${url}/_sim/faults`, { headers: { [ACTOR_HEADER]: actor } });
  if (!res.ok) throw new Error(`GET /_sim/faults: HTTP ${res.status}`);
  const body = (await res.json()) as SimFaults | null;
  return body ?? {};
}

/** Merge-patches the knobs (objects merge, arrays and scalars replace, null deletes). */
export async function patchFaults(url: string, actor: string, patch: Partial<Record<keyof SimFaults, unknown>>): Promise<void> {
  const res = await fetch(`${url}/_sim/faults`, {
    method: 'PATCH',
    headers: { [ACTOR_HEADER]: actor, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(patch),
  });
  if (!res.ok) throw new Error(`PATCH /_sim/faults: HTTP ${res.status} ${await res.text()}`);
}
