// The recorder: while a scenario runs, it follows the logs of every pod of one Flink job, as
// they come and go (killed pods take their logs with them, so it records as it goes), and turns
// them into history entries:
//  - TaskManager pods: each record line (our job's `SEQ seq=...`, plain or ECS JSON) with the
//    kubelet's timestamp, the pod and the container attempt it came from; broken record lines too;
//  - JobManager pods: "Completed checkpoint <id> for job <job>" and "Restoring job <job> from
//    Checkpoint|Savepoint <id> ... located at <path>." lines.
// Scenarios add their own events (faults, suspends, savepoints) through the same sink, so one
// time-ordered history file (scenarios/checker/history.ts) holds what happened and what was seen.
import { FLINK_CONTAINER } from '../scripts/lib/flink/deployment.ts';
import type { Kube, KubeObject } from '../scripts/lib/kube/kube.ts';
import { parseSequenceLine } from '../scripts/lib/flink/sequence-line.ts';
import type { CheckpointEvent, MalformedEvent, RecordEvent, RestoreEvent } from './checker/history.ts';

/** The history events the recorder writes. */
export type RecordedEntry = RecordEvent | MalformedEvent | CheckpointEvent | RestoreEvent;

// Flink 1.20's CheckpointCoordinator and Checkpoints messages (FACTS.md section 2).
const TRIGGERING = /Triggering checkpoint (\d+) \(type=.*?\) @ (\d+) for job ([0-9a-f]+)/;
const COMPLETED = /Completed checkpoint (\d+) for job ([0-9a-f]+)/;
const CHECKPOINT_DIR = /\/chk-\d+\/?$/;
const RESTORING = /Restoring job ([0-9a-f]+) from (Checkpoint|Savepoint) (\d+) @ \d+ for [0-9a-f]+ located at (.*?)\.?$/;

/** Milliseconds since the epoch of a kubelet timestamp (RFC 3339, up to nanoseconds). */
export function epochMs(time: string): number {
  const m = /^(.*?:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!m) return Date.now();
  return Date.parse(`${m[1]}${m[3]}`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/**
 * Reads a JobManager's lines: completed checkpoints (with the trigger time Flink logged before,
 * which says what the checkpoint covers) and restores. One per JobManager container.
 */
export function jobManagerParser(): (line: string, t: number) => RecordedEntry | undefined {
  const triggered = new Map<string, number>();
  return (line, t) => {
    const text = messageOf(line);
    const trigger = TRIGGERING.exec(text);
    if (trigger) {
      triggered.set(`${trigger[3]}/${trigger[1]}`, Number(trigger[2]));
      return undefined;
    }
    const done = COMPLETED.exec(text);
    if (done) {
      const key = `${done[2]}/${done[1]}`;
      const at = triggered.get(key);
      triggered.delete(key);
      return at === undefined ? { t, kind: 'checkpoint', id: Number(done[1]) } : { t, kind: 'checkpoint', id: Number(done[1]), triggered: at };
    }
    const restore = RESTORING.exec(text);
    if (restore) {
      // A retained checkpoint given as the savepoint path is logged as "Savepoint <id>": its
      // chk-<id> folder says what it is (and the checker then judges it as a checkpoint).
      const path = restore[4]!;
      const fromCheckpoint = restore[2] === 'Checkpoint' || CHECKPOINT_DIR.test(path);
      return { t, kind: 'restore', from: fromCheckpoint ? 'checkpoint' : 'savepoint', id: Number(restore[3]), path };
    }
    return undefined;
  };
}

function messageOf(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const m = (JSON.parse(line) as { message?: unknown }).message;
    return typeof m === 'string' ? m : '';
  } catch {
    return '';
  }
}

/** A TaskManager's line as a history event; undefined for lines that are not ours. */
export function parseTaskManagerLine(line: string, t: number, source: string): RecordedEntry | undefined {
  const r = parseSequenceLine(line);
  if (r === undefined) return undefined;
  if ('malformed' in r) return { t, kind: 'malformed', line: r.malformed, source };
  return { t, kind: 'record', seq: r.seq, subtask: r.subtask, attempt: r.attempt, source };
}

export interface RecorderOptions {
  kube: Kube;
  namespace: string;
  /** The FlinkDeployment's name: its pods carry `app=<name>` and `component=jobmanager|taskmanager`. */
  deployment: string;
  sink: (entry: RecordedEntry) => void;
  /** Lines of the pods' logs that were not ours, for diagnostics (optional). */
  onOtherLine?: (pod: string, line: string) => void;
}

export interface Recorder {
  /** Pods followed so far (pod names), in the order they appeared. */
  readonly pods: readonly string[];
  /** Stops following; resolves once every follower has handed on what it had. */
  stop(): Promise<void>;
}

/** Starts following the job's pods; resolves once the pod watch is established. */
export async function startRecorder(opts: RecorderOptions): Promise<Recorder> {
  const { kube, namespace, deployment, sink } = opts;
  const controller = new AbortController();
  const followed = new Map<string, Promise<void>>();
  const order: string[] = [];

  const follow = (pod: KubeObject): void => {
    const name = pod.metadata.name;
    // By uid: a pod deleted and made again under the same name (a resumed cluster's first
    // TaskManager) is a new pod with a new log.
    const key = String(pod.metadata.uid ?? name);
    if (followed.has(key)) return;
    const component = pod.metadata.labels?.component;
    if (component !== 'taskmanager' && component !== 'jobmanager') return;
    const jm = component === 'jobmanager' ? jobManagerParser() : undefined;
    order.push(name);
    const run = kube
      .followLogs(
        namespace,
        name,
        FLINK_CONTAINER,
        (line, attempt, time) => {
          const t = time ? epochMs(time) : Date.now();
          const entry = jm ? jm(line, t) : parseTaskManagerLine(line, t, `pod/${name}/${FLINK_CONTAINER}/${attempt}`);
          if (entry) sink(entry);
          else opts.onOtherLine?.(name, line);
        },
        { signal: controller.signal },
      )
      // A pod that vanished before its log could be read has nothing left to give.
      .catch(() => undefined);
    followed.set(key, run);
  };

  const watch = await kube.watch(
    'v1',
    'Pod',
    { namespace, labelSelector: `app=${deployment}` },
    (type, pod) => {
      if (type !== 'DELETED') follow(pod);
    },
    controller.signal,
  );

  return {
    pods: order,
    async stop() {
      watch.close();
      controller.abort();
      await Promise.all(followed.values());
    },
  };
}
