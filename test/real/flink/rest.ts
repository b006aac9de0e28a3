// The few calls of Flink's REST API the local cluster needs (flink-runtime-web serves them):
// cluster overview, jar upload and run, job state, cancel.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${text}`);
  // Some calls (cancel) answer 202 with no body.
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface ClusterOverview {
  taskmanagers: number;
  'slots-total': number;
  'jobs-running': number;
}

export function overview(restUrl: string): Promise<ClusterOverview> {
  return call<ClusterOverview>(`${restUrl}/overview`);
}

export interface RunRequest {
  entryClass: string;
  programArgsList: string[];
  parallelism: number;
  savepointPath?: string;
  /** Per-job configuration (JarRunRequestBody's flinkConfiguration). */
  flinkConfiguration?: Record<string, string>;
}

/** Uploads the jar (POST /jars/upload) and runs it (POST /jars/<id>/run); returns the job id. */
export async function submitJar(restUrl: string, jarPath: string, run: RunRequest): Promise<string> {
  const form = new FormData();
  form.append('jarfile', new Blob([await readFile(jarPath)], { type: 'application/x-java-archive' }), basename(jarPath));
  const uploaded = await call<{ filename: string; status: string }>(`${restUrl}/jars/upload`, { method: 'POST', body: form });
  const jarId = basename(uploaded.filename);
  const started = await call<{ jobid: string }>(`${restUrl}/jars/${jarId}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(run),
  });
  return started.jobid;
}

export async function jobState(restUrl: string, jobId: string): Promise<string> {
  return (await call<{ state: string }>(`${restUrl}/jobs/${jobId}`)).state;
}

/** Cancels the job (PATCH /jobs/<id>?mode=cancel) and waits until it is CANCELED. */
export async function cancelJob(restUrl: string, jobId: string, timeoutMs = 30_000): Promise<void> {
  await call<undefined>(`${restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
  const deadline = Date.now() + timeoutMs;
  let state = await jobState(restUrl, jobId);
  while (state !== 'CANCELED') {
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${state}, not CANCELED, ${timeoutMs / 1000}s after the cancel`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    state = await jobState(restUrl, jobId);
  }
}

export interface JobSummary {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
}

/** Every job the JobManager knows (GET /jobs/overview), e.g. the one HA recovered after a restart. */
export async function jobsOverview(restUrl: string): Promise<JobSummary[]> {
  return (await call<{ jobs: JobSummary[] }>(`${restUrl}/jobs/overview`)).jobs;
}

interface AsyncOperation {
  status: { id: 'IN_PROGRESS' | 'COMPLETED' };
  operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; 'class'?: string } };
}

/** Polls a savepoint trigger (GET /jobs/<id>/savepoints/<trigger>) until it completes; returns the path. */
async function savepointResult(restUrl: string, jobId: string, triggerId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call<AsyncOperation>(`${restUrl}/jobs/${jobId}/savepoints/${triggerId}`);
    if (r.status.id === 'COMPLETED') {
      const location = r.operation?.location;
      if (!location) throw new Error(`savepoint of job ${jobId} failed: ${r.operation?.['failure-cause']?.['stack-trace']?.split('\n').slice(0, 5).join('\n') ?? 'no cause given'}`);
      return location;
    }
    if (Date.now() > deadline) throw new Error(`savepoint of job ${jobId} was still in progress ${timeoutMs / 1000}s after it was triggered`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Takes a savepoint and lets the job run on (POST /jobs/<id>/savepoints). Returns its path. */
export async function triggerSavepoint(restUrl: string, jobId: string, targetDirectory: string, timeoutMs = 120_000): Promise<string> {
  const { 'request-id': trigger } = await call<{ 'request-id': string }>(`${restUrl}/jobs/${jobId}/savepoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ 'target-directory': targetDirectory, 'cancel-job': false }),
  });
  return savepointResult(restUrl, jobId, trigger, timeoutMs);
}

/** Stop-with-savepoint without drain (POST /jobs/<id>/stop), what a suspend does. Returns the path. */
export async function stopWithSavepoint(restUrl: string, jobId: string, targetDirectory: string, timeoutMs = 120_000): Promise<string> {
  const { 'request-id': trigger } = await call<{ 'request-id': string }>(`${restUrl}/jobs/${jobId}/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ targetDirectory, drain: false }),
  });
  return savepointResult(restUrl, jobId, trigger, timeoutMs);
}

export interface CheckpointStats {
  counts: { completed: number; failed: number; restored: number };
  latest: {
    completed: { id: number; external_path: string; trigger_timestamp: number; latest_ack_timestamp: number } | null;
    restored: { id: number; external_path: string; is_savepoint: boolean; restore_timestamp: number } | null;
  };
}

export function checkpointStats(restUrl: string, jobId: string): Promise<CheckpointStats> {
  return call<CheckpointStats>(`${restUrl}/jobs/${jobId}/checkpoints`);
}

/** Waits until the job is in `state` (e.g. RUNNING after a restart); returns how long it took. */
export async function waitForJobState(restUrl: string, jobId: string, state: string, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  let last = 'no answer yet';
  while (Date.now() - started < timeoutMs) {
    const s = await jobState(restUrl, jobId).catch((err: Error) => err.message);
    if (s === state) return Date.now() - started;
    last = s;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`job ${jobId} was not ${state} within ${timeoutMs / 1000}s; last seen: ${last}`);
}
