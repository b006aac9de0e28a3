// Server-side apply conflicts, read from the API server's 409. The sandbox applies without
// `force`, as `kubectl apply --server-side` does: a field that another manager set to another
// value is reported, not silently taken back. Its own earlier merge patches (suspend, resume)
// are recorded as the sandbox's Update entry, which the server also reports as a conflict
// ("sandbox" using v1beta1); those fields are the sandbox's already, so they are forced.
import { KubeApiError } from './api-error.ts';

export const FIELD_MANAGER = 'sandbox';

export interface FieldConflict {
  /** The manager holding the field, e.g. "helm" or "kubectl-edit". */
  manager: string;
  /** The field as the server prints it, e.g. ".spec.replicas". */
  field: string;
}

interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The conflicts a 409 from a server-side apply lists; empty for any other error. */
export function fieldConflicts(err: unknown): FieldConflict[] {
  if (!(err instanceof KubeApiError) || err.code !== 409 || err.reason !== 'Conflict') return [];
  const causes = ((err.status as { details?: { causes?: StatusCause[] } } | undefined)?.details?.causes ?? []) as StatusCause[];
  return causes
    .filter((c) => c.reason === 'FieldManagerConflict')
    .map((c) => ({ manager: /conflict with "([^"]*)"/.exec(c.message ?? '')?.[1] ?? 'an unknown manager', field: c.field ?? '(unnamed field)' }));
}

/** True when every conflicting field is held by the sandbox itself (its own merge patches). */
export function onlyOwnConflicts(conflicts: FieldConflict[]): boolean {
  return conflicts.length > 0 && conflicts.every((c) => c.manager === FIELD_MANAGER);
}

/** Fields of one object that other managers hold with other values than the sandbox applies. */
export class ApplyConflictError extends KubeApiError {
  readonly conflicts: FieldConflict[];
  /** `object` names it as describeRef does: "Deployment minio/minio". */
  constructor(object: string, conflicts: FieldConflict[], cause: KubeApiError) {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
    const parts = [...byManager].map(([manager, fields]) => `"${manager}" holds ${fields.join(', ')}`);
    const managers = [...byManager.keys()].map((m) => `"${m}"`).join(' and ');
    super(
      `apply ${object}: fields the sandbox sets were changed by another manager: ${parts.join('; ')}`,
      409,
      'Conflict',
      cause.status,
      cause.cause as ConstructorParameters<typeof KubeApiError>[4],
      `the sandbox left them as they are. If ${managers} should own them, leave the object to it; ` +
        'to put back what the sandbox declares, run `sandbox up --force` (it takes these fields over)',
    );
    this.name = 'ApplyConflictError';
    this.conflicts = conflicts;
  }
}
