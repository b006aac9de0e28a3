// The recorder: while a scenario runs, it follows the logs of every pod of one Flink job, as
// they come and go (killed pods take their logs with them, so it records as it goes), and turns
// them into history entries:
//  - TaskManager pods: each record line (our job's `SEQ seq=...`, plain or ECS JSON) with the
//    kubelet's timestamp, the pod and the container attempt it came from; broken record lines too;
//  - JobManager pods: "Completed checkpoint <id> for job <job>" and "Restoring job <job> from
//    Checkpoint|Savepoint <id> ... located at <path>." lines.
// Scenarios add their own entries (faults, suspends, savepoints) through the same sink, so one
// time-ordered history file holds what happened and what was seen.
import type { Kube, KubeObject } from '../scripts/lib/kube/kube.ts';
import { FLINK_CONTAINER } from '../scripts/lib/flink/deployment.ts';
import { parseSequenceLine } from '../scripts/lib/flink/sequence-line.ts';

/** What the recorder writes; scenarios write the other kinds of history entries. */
export type RecordedEntry =
  | { t: string; kind: 'record'; seq: number; subtask: number; attempt: number; source: string }
  | { t: string; kind: 'malformed'; line: string; source: string }
  | { t: string; kind: 'checkpoint'; id: number; job: string; source: string }
  | { t: string; kind: 'restore'; from: 'checkpoint' | 'savepoint'; id: number; path: string; job: string; source: string };

const COMPLETED = /Completed checkpoint (\d+) for job ([0-9a-f]+)/;
const RESTORING = /Restoring job ([0-9a-f]+) from (Checkpoint|Savepoint) (\d+) @ \d+ for [0-9a-f]+ located at (.*?)\.?$/;

/** The JobManager's lines the history keeps, from the text of one log line (plain or ECS JSON). */
export function parseJobManagerLine(line: string, t: string, source: string): RecordedEntry | undefined {
  const text = messageOf(line);
  const done = COMPLETED.exec(text);
  if (done) return { t, kind: 'checkpoint', id: Number(done[1]), job: done[2]!, source };
  const restore = RESTORING.exec(text);
  if (restore) {
    return { t, kind: 'restore', from: restore[2] === 'Savepoint' ? 'savepoint' : 'checkpoint', id: Number(restore[3]), path: restore[4]!, job: restore[1]!, source };
  }
  return undefined;
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

/** A TaskManager's line as a history entry; undefined for lines that are not ours. */
export function parseTaskManagerLine(line: string, t: string, source: string): RecordedEntry | undefined {
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
    if (followed.has(name)) return;
    const component = pod.metadata.labels?.component;
    const parse = component === 'taskmanager' ? parseTaskManagerLine : component === 'jobmanager' ? parseJobManagerLine : undefined;
    if (!parse) return;
    order.push(name);
    const run = kube
      .followLogs(
        namespace,
        name,
        FLINK_CONTAINER,
        (line, attempt, time) => {
          const entry = parse(line, time || new Date().toISOString(), `${name}#${attempt}`);
          if (entry) sink(entry);
          else opts.onOtherLine?.(name, line);
        },
        { signal: controller.signal },
      )
      // A pod that vanished before its log could be read has nothing left to give.
      .catch(() => undefined);
    followed.set(name, run);
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
