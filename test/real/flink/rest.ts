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
