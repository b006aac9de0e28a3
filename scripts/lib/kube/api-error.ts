// The Kubernetes API's errors as the sandbox sees them, in a module of their own: code that only
// tells errors apart (waits, diagnostics, `kube.ts`) does not load @kubernetes/client-node,
// which `sandbox status` without a cluster never needs.
import type { ApiException } from '@kubernetes/client-node';
import { SandboxError } from '../errors.ts';

/** The API answered with an error status; `code` is the HTTP status, `reason` the Status reason. */
export class KubeApiError extends SandboxError {
  readonly code: number;
  readonly reason?: string;
  readonly status?: unknown;
  constructor(message: string, code: number, reason: string | undefined, status: unknown, cause: ApiException<unknown>, hint?: string) {
    super(message, { cause, hint });
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
    this.status = status;
  }
}

export function isApiError(err: unknown, code?: number): err is KubeApiError {
  return err instanceof KubeApiError && (code === undefined || err.code === code);
}

/** The first system error code (ECONNREFUSED, ...) found in an error's cause chain. */
export function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 8; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (cur instanceof AggregateError && cur.errors.length > 0) cur = cur.errors[0];
    else cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
