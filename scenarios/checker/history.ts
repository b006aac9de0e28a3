// The run history: `.sandbox/runs/<run-id>/history.jsonl`, one JSON object per line, appended by
// the recorder while a scenario runs. Observations (what the job logged) and the timeline (what
// was done to it, and what Flink completed) share one file in the order the recorder learned of
// them, so that the checker can place every record among the faults and checkpoints.
//
// Times `t` are milliseconds since the epoch, as the recorder saw them. Unknown keys are refused:
// a typo in a recorder must fail loudly, not silently weaken the verdict.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** One record of our job: the line `SEQ seq=<n> subtask=<i> attempt=<a>`. */
export interface RecordEvent {
  t: number;
  kind: 'record';
  seq: number;
  subtask: number;
  attempt: number;
  /** Where it was read: `pod/<pod>/<container>` or `<file>:<line>`. */
  source: string;
}

/** One record of the blog's job: `Number: <n>`, or `<prefix>> Number: <n>` with parallelism. */
export interface NumberEvent {
  t: number;
  kind: 'number';
  n: number;
  prefix?: number;
  source: string;
}

/** A line that carries our marker but not a valid record (cut off, garbled). */
export interface MalformedEvent {
  t: number;
  kind: 'malformed';
  line: string;
  source: string;
}

/** Something done to the job or the platform (a pod killed, the network cut). */
export interface FaultEvent {
  t: number;
  kind: 'fault';
  name: string;
  /** Milliseconds within which the sequence must pass its pre-fault high-water mark (checker default otherwise). */
  deadline?: number;
}

/** A checkpoint Flink completed. `t` is when it completed; `triggered` when Flink triggered it. */
export interface CheckpointEvent {
  t: number;
  kind: 'checkpoint';
  id: number;
  /**
   * Flink's trigger time (REST `trigger_timestamp`). The checkpoint covers what was emitted before
   * it; without it the completion time stands in, which can only shrink the replay window.
   */
  triggered?: number;
}

/** A savepoint Flink completed (taken by hand, by a suspend, or by an upgrade). */
export interface SavepointEvent {
  t: number;
  kind: 'savepoint';
  path: string;
  triggered?: number;
  /** The last sequence number it covers, when the recorder knows it exactly. */
  seq?: number;
}

/** The job was stopped on purpose (a liveness clock starts only at the resume). */
export interface SuspendEvent {
  t: number;
  kind: 'suspend';
}

export interface ResumeEvent {
  t: number;
  kind: 'resume';
  deadline?: number;
}

/** The job was restored from this snapshot (when the recorder knows which one). */
export interface RestoreEvent {
  t: number;
  kind: 'restore';
  from: 'checkpoint' | 'savepoint';
  id?: number;
  path?: string;
}

/** The scenario declares that the sequence will fall back to its start (the no-HA baseline). */
export interface ExpectResetEvent {
  t: number;
  kind: 'expect-reset';
}

/** The scenario declares a rewind to `to` (a redeploy from an older savepoint). */
export interface ExpectRewindEvent {
  t: number;
  kind: 'expect-rewind';
  to: number;
}

export type ObservationEvent = RecordEvent | NumberEvent | MalformedEvent;
export type TimelineEvent =
  | FaultEvent
  | CheckpointEvent
  | SavepointEvent
  | SuspendEvent
  | ResumeEvent
  | RestoreEvent
  | ExpectResetEvent
  | ExpectRewindEvent;
export type HistoryEvent = ObservationEvent | TimelineEvent;
export type HistoryKind = HistoryEvent['kind'];

const time = { type: 'number', minimum: 0 };
const count = { type: 'integer', minimum: 0 };
const text = { type: 'string', minLength: 1 };
const seqNumber = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };

function kind(name: HistoryKind, properties: Record<string, object>, required: string[]): object {
  return {
    type: 'object',
    properties: { t: time, kind: { const: name }, ...properties },
    required: ['t', 'kind', ...required],
    additionalProperties: false,
  };
}

const SCHEMA = {
  type: 'object',
  required: ['kind'],
  discriminator: { propertyName: 'kind' },
  oneOf: [
    kind('record', { seq: seqNumber, subtask: count, attempt: count, source: text }, ['seq', 'subtask', 'attempt', 'source']),
    kind('number', { n: seqNumber, prefix: count, source: text }, ['n', 'source']),
    kind('malformed', { line: { type: 'string' }, source: text }, ['line', 'source']),
    kind('fault', { name: text, deadline: { type: 'number', exclusiveMinimum: 0 } }, ['name']),
    kind('checkpoint', { id: count, triggered: time }, ['id']),
    kind('savepoint', { path: text, triggered: time, seq: seqNumber }, ['path']),
    kind('suspend', {}, []),
    kind('resume', { deadline: { type: 'number', exclusiveMinimum: 0 } }, []),
    kind('restore', { from: { enum: ['checkpoint', 'savepoint'] }, id: count, path: text }, ['from']),
    kind('expect-reset', {}, []),
    kind('expect-rewind', { to: seqNumber }, ['to']),
  ],
};

let validator: ValidateFunction | undefined;

function validate(value: unknown): ErrorObject[] | undefined {
  validator ??= new Ajv({ discriminator: true, allErrors: false }).compile(SCHEMA);
  return validator(value) ? undefined : (validator.errors ?? []);
}

/** Why a history line was refused, in words. */
function describe(errors: ErrorObject[]): string {
  const e = errors[0];
  if (!e) return 'not a history event';
  const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '';
  if (e.keyword === 'additionalProperties') return `unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'discriminator') return `"kind" must be one of: ${SCHEMA.oneOf.map((s) => (s as { properties: { kind: { const: string } } }).properties.kind.const).join(', ')}`;
  return `${where ? `${where} ` : ''}${e.message ?? 'is invalid'}`;
}

/** A history line that does not parse or does not match the format. */
export interface HistoryLineError {
  error: string;
}

/** The event on one history line, or why it is not one. Blank lines are `undefined`. */
export function parseHistoryLine(line: string): HistoryEvent | HistoryLineError | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { error: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  const errors = validate(value);
  return errors ? { error: describe(errors) } : (value as HistoryEvent);
}

/** One history line for an event: what the recorder appends. */
export function formatHistoryLine(event: HistoryEvent): string {
  return `${JSON.stringify(event)}\n`;
}
