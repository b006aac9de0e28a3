// The one HTTP seam. What the CLI fetches outside the Kubernetes API (tools, checksum files,
// upstream manifests) goes through httpGet, readiness probes through httpProbe, and every retry,
// the Kubernetes client's included, through withRetries: ONE policy (RETRY_POLICY) and a time
// limit for each attempt, so a server that accepts and then hangs costs one attempt, not the run.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import pRetry, { AbortError } from 'p-retry';

/**
 * Up to 6 retries, the first after 50 ms, doubling up to 2 s: seven attempts within about 3 s,
 * so a burst of API server errors or a dropped connection is ridden out and an unreachable host
 * fails within seconds. Longer outages are the waits' business: they keep re-listing until their
 * deadline. No jitter: one CLI is no thundering herd, and a fixed schedule keeps the bound.
 */
export const RETRY_POLICY = { retries: 6, minTimeoutMs: 50, maxTimeoutMs: 2000 } as const;

/** One failed attempt; `retryable` says whether another attempt could help. */
export class AttemptError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AttemptError';
    this.retryable = retryable;
  }
}

export interface RetryOptions {
  /** Limit for one attempt, in ms; 0 for none (a watch stream stays open on purpose). */
  attemptTimeoutMs: number;
  /** The caller's: once aborted, no further attempt. */
  signal?: AbortSignal;
  /**
   * Whether another attempt could help; `timedOut` when the attempt hit its own time limit.
   * Default: an attempt that timed out, or an AttemptError that says so.
   */
  retryable?: (err: unknown, timedOut: boolean) => boolean;
  /** Fewer retries or a shorter first delay than RETRY_POLICY: for tests, which cannot wait seconds. */
  retries?: number;
  minTimeoutMs?: number;
  onRetry?: (err: Error, attemptNumber: number, retriesLeft: number) => void;
}

const retryableAttempt = (err: unknown, timedOut: boolean): boolean => timedOut || (err instanceof AttemptError && err.retryable);

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, the caller aborts or the policy's
 * retries are spent; rejects with the last attempt's own error. Each attempt gets a signal that
 * also fires when its time limit passes (then `signal.aborted` while the caller's is not).
 */
export async function withRetries<T>(attempt: (signal: AbortSignal | undefined) => Promise<T>, opts: RetryOptions): Promise<T> {
  return pRetry(
    async () => {
      const limit = opts.attemptTimeoutMs > 0 ? AbortSignal.timeout(opts.attemptTimeoutMs) : undefined;
      const signal = limit && opts.signal ? AbortSignal.any([opts.signal, limit]) : (limit ?? opts.signal);
      try {
        return await attempt(signal);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        const timedOut = limit?.aborted === true && !opts.signal?.aborted;
        // p-retry hands the error inside an AbortError back as it is, and tries no more.
        if (opts.signal?.aborted || !(opts.retryable ?? retryableAttempt)(err, timedOut)) throw new AbortError(error);
        throw error;
      }
    },
    {
      retries: opts.retries ?? RETRY_POLICY.retries,
      minTimeout: opts.minTimeoutMs ?? RETRY_POLICY.minTimeoutMs,
      maxTimeout: RETRY_POLICY.maxTimeoutMs,
      factor: 2,
      signal: opts.signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) opts.onRetry?.(error, attemptNumber, retriesLeft);
      },
    },
  );
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A network failure in words, and whether it is the passing kind. */
export function describeNetworkError(err: unknown, url: string): { text: string; retryable: boolean } {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as { code?: string } | undefined)?.code;
  const host = hostOf(url);
  switch (code) {
    case 'ECONNREFUSED':
      return { text: `connection refused by ${host} (the server is down or unreachable)`, retryable: true };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { text: `host ${host} not found (no network or DNS?)`, retryable: true };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { text: `connection to ${host} was reset`, retryable: true };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { text: `${host} did not answer in time`, retryable: true };
    default: {
      const msg = cause instanceof Error ? cause.message : String(cause);
      return { text: msg || 'network error', retryable: true };
    }
  }
}

/** One GET (redirects followed); HTTP and network failures become AttemptErrors. */
export async function httpGet(url: string, signal: AbortSignal | undefined, fetchImpl: typeof fetch = fetch): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(url, { signal, redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw err;
    const { text, retryable } = describeNetworkError(err, url);
    throw new AttemptError(text, retryable, err);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    // 5xx, 429 and 408 are the server's passing trouble; any other status will not change.
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    throw new AttemptError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, retryable);
  }
  return res;
}

export type ProbeResult = { status: number } | { error: string };

/**
 * One GET as a readiness probe: answered (any status) or not. node:http(s) rather than fetch,
 * because `insecure` must accept the self-signed certificates ECK and cert-manager issue.
 */
export function httpProbe(url: string, opts: { insecure?: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', rejectUnauthorized: !opts.insecure, timeout: opts.timeoutMs, signal: opts.signal }, (res) => {
      res.resume(); // the body does not matter, only that it was answered
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs}ms`)));
    req.on('error', (err) => {
      const code = (err as { code?: string }).code;
      resolve({ error: code === 'ECONNREFUSED' ? 'connection refused' : code && code !== 'ABORT_ERR' ? `${code}: ${err.message}` : err.message });
    });
    req.end();
  });
}
