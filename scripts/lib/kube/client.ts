// HTTP to the API server: @kubernetes/client-node's KubeConfig does the auth, TLS and proxies
// (the headers and the undici dispatcher it makes for a request), and that dispatcher sends, with
// our error mapping and retries. Bodies stay plain JSON: client-node's model serializer drops
// fields it does not know and turns timestamps into Date objects, neither of which we want for
// apply or for diagnostics.
import { Readable } from 'node:stream';
import { ApiException, type KubeConfig, RequestContext, type HttpMethod } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { SandboxError } from '../errors.ts';
import { KubeApiError, networkCode } from './api-error.ts';
import { withRetries } from '../exec/http.ts';

// Kept where they were for the modules that import them from here.
export { isApiError, KubeApiError, networkCode } from './api-error.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** 'transient' (default): retry 5xx, 429 and dropped connections; 'network': only dropped connections. */
  retry?: 'transient' | 'network' | 'none';
  /** Per attempt; default 30 s. 0 = none (streams). */
  timeoutMs?: number;
  /** Names the call in error messages: "get Deployment a/b". */
  what?: string;
}

const TRANSIENT_NET = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/**
 * A 500 whose Status has no reason (or "Unknown") is an error the server did not classify,
 * and it repeats identically: server-side apply of a custom resource with an undeclared field
 * fails this way ("failed to create typed patch object ... field not declared in schema").
 */
function unclassified500(err: ApiException<unknown>): boolean {
  const body = err.body as { kind?: unknown; reason?: unknown } | undefined;
  return err.code === 500 && typeof body === 'object' && body !== null && body.kind === 'Status' && (!body.reason || body.reason === 'Unknown');
}

function isTransient(err: unknown, mode: RequestOptions['retry']): boolean {
  if (mode === 'none') return false;
  if (err instanceof ApiException) return mode === 'transient' && (err.code === 429 || (err.code >= 500 && !unclassified500(err)));
  const code = networkCode(err);
  return code !== undefined && TRANSIENT_NET.has(code);
}

function statusMessage(status: unknown, fallback: string): { message: string; reason?: string } {
  if (status && typeof status === 'object') {
    const s = status as { message?: unknown; reason?: unknown };
    return { message: typeof s.message === 'string' && s.message ? s.message : fallback, reason: typeof s.reason === 'string' ? s.reason : undefined };
  }
  return { message: typeof status === 'string' && status.trim() ? status.trim() : fallback };
}

export interface Transport {
  readonly server: string;
  readonly kc: KubeConfig;
  /** Parsed JSON body of a 2xx answer; throws KubeApiError or SandboxError otherwise. */
  json<T = any>(method: HttpMethod, path: string, opts?: RequestOptions): Promise<T>;
  /** The body of a 2xx answer as text. */
  text(method: HttpMethod, path: string, opts?: RequestOptions): Promise<string>;
  /** The body of a 2xx answer as a byte stream (watch, follow logs); abort with opts.signal. */
  stream(method: HttpMethod, path: string, opts?: RequestOptions): Promise<ReadableStream<Uint8Array>>;
}

export interface RetryPolicy {
  /** Fewer retries than the HTTP seam's RETRY_POLICY (tests). */
  retries?: number;
  /** A shorter first backoff delay than RETRY_POLICY's (tests). */
  minTimeoutMs?: number;
}

// Long on purpose: one closure over the server and the shared dispatcher; once() and send()
// inside are the parts, and the returned methods are one-liners over them.

/**
 * The dispatcher, limited to HTTP/1.1. kube-apiserver offers HTTP/2, and undici's HTTP/2
 * client destroys a stream that outlives the session's idle timeout with an error nobody
 * listens to, which ends the process ("InformationalError: socket idle timeout", seen on
 * `down --context` against a real API server, undici 8.12). HTTP/1.1 has no such path.
 */
export function http1Only(dispatcher: Dispatcher): Dispatcher {
  return dispatcher.compose((dispatch) => (opts, handler) => dispatch({ ...opts, allowH2: false } as typeof opts, handler));
}

export function createTransport(kc: KubeConfig, contextName: string, policy: RetryPolicy = {}): Transport {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SandboxError(`kube context ${contextName} has no cluster`, { hint: 'check the kubeconfig' });
  const server = cluster.server.replace(/\/+$/, '');
  let dispatcher: Dispatcher | undefined;

  async function once(method: HttpMethod, path: string, opts: RequestOptions, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData> {
    const url = new URL(server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method);
    ctx.setHeaderParam('Accept', 'application/json, */*');
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
    await kc.applySecurityAuthentication(ctx);
    // client-node makes a new dispatcher (its TLS and proxy settings) per request, none for plain
    // HTTP without a proxy; one shared dispatcher reuses connections. Its request() is undici's
    // own API: fetch() over the same dispatcher costs several times the CPU per request.
    dispatcher ??= http1Only(ctx.getDispatcher() ?? new Agent());
    const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method, headers: ctx.getHeaders(), body, signal });
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await res.body.text().catch(() => '');
    let status: unknown = text;
    try {
      status = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
    throw new ApiException(res.statusCode, `HTTP ${res.statusCode}`, status, headers);
  }

  async function send(method: HttpMethod, path: string, opts: RequestOptions = {}) {
    const what = opts.what ?? `${method} ${path}`;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    try {
      return await withRetries((signal) => once(method, path, opts, signal), {
        attemptTimeoutMs: timeoutMs,
        signal: opts.signal,
        retryable: (err) => isTransient(err, opts.retry ?? 'transient'),
        retries: policy.retries,
        minTimeoutMs: policy.minTimeoutMs,
      });
    } catch (err) {
      throw toSandboxError(err, what, server, opts.signal);
    }
  }

  return {
    server,
    kc,
    async json(method, path, opts) {
      const res = await send(method, path, opts);
      const text = await res.body.text();
      return (text ? JSON.parse(text) : undefined) as never;
    },
    async text(method, path, opts) {
      return (await send(method, path, opts)).body.text();
    },
    async stream(method, path, opts) {
      const res = await send(method, path, { timeoutMs: 0, ...opts });
      return Readable.toWeb(res.body) as ReadableStream<Uint8Array>;
    },
  };
}

function toSandboxError(err: unknown, what: string, server: string, signal?: AbortSignal): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
  if (err instanceof SandboxError) return err;
  if (err instanceof ApiException) {
    const { message, reason } = statusMessage(err.body, `HTTP ${err.code}`);
    const hint =
      err.code === 401 || err.code === 403
        ? 'the kube context lacks the rights for this; check the kubeconfig user'
        : err.code >= 500
          ? 'the API server kept failing; check it is healthy (`sandbox status`)'
          : undefined;
    // client-node's own message repeats the whole body and every response header on several
    // lines; the Status message above says it, so the cause keeps only the HTTP code.
    err.message = `HTTP ${err.code}${reason ? ` ${reason}` : ''}`;
    return new KubeApiError(`${what}: ${message}`, err.code, reason, err.body, err, hint);
  }
  if (isAbort(err)) {
    return new SandboxError(`${what}: no answer from the Kubernetes API at ${server}`, {
      cause: err,
      hint: 'the API server is slow or hanging; check the cluster (`sandbox status`)',
    });
  }
  const code = networkCode(err);
  if (code) {
    const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : code;
    return new SandboxError(`${what}: cannot reach the Kubernetes API at ${server} (${why})`, {
      cause: err,
      hint: 'is the cluster running? `sandbox up` creates it; `--context` picks another one',
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
