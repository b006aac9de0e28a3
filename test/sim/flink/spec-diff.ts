// The operator's spec diff (ReflectiveDiffBuilder + the @SpecDiff annotations of 1.15.0): which
// change a new FlinkDeployment spec is against the last reconciled one. Ignored: job.upgradeMode,
// initialSavepointPath, allowNonRestoredState, the savepoint/checkpoint trigger nonces and
// autoscalerResetNonce, a savepointRedeployNonce set to null, and flinkConfiguration keys under
// kubernetes.operator / job.autoscaler / parallelism.default. A changed savepointRedeployNonce is
// SAVEPOINT_REDEPLOY; everything else is UPGRADE (job.parallelism scales in place only in
// standalone mode, which the simulation does not run). The strongest change wins.
import { stableStringify } from '../controllers/names.ts';
import { flattenConf } from './config.ts';
import type { Spec } from './status.ts';

export type DiffType = 'IGNORE' | 'SCALE' | 'UPGRADE' | 'SAVEPOINT_REDEPLOY';

export interface SpecDiff {
  type: DiffType;
  /** `field : before -> after` entries, as DiffResult renders them. */
  changes: string[];
}

const ORDER: DiffType[] = ['IGNORE', 'SCALE', 'UPGRADE', 'SAVEPOINT_REDEPLOY'];
const IGNORED_JOB_FIELDS = new Set(['upgradeMode', 'initialSavepointPath', 'allowNonRestoredState', 'savepointTriggerNonce', 'checkpointTriggerNonce', 'autoscalerResetNonce']);
const IGNORED_CONF_PREFIXES = ['job.autoscaler', 'parallelism.default', 'kubernetes.operator'];
// JobSpec's Jackson defaults: a field left out of the resource compares as its default.
const JOB_DEFAULTS: Record<string, unknown> = { state: 'running', upgradeMode: 'stateless', args: [] };

function text(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  return typeof v === 'object' ? stableStringify(v) : String(v);
}

function same(a: unknown, b: unknown): boolean {
  return stableStringify(a ?? null) === stableStringify(b ?? null);
}

export function specDiff(before: Spec, after: Spec): SpecDiff {
  const types: DiffType[] = [];
  const changes: string[] = [];
  const add = (type: DiffType, field: string, a: unknown, b: unknown): void => {
    if (same(a, b)) return;
    types.push(type);
    if (type !== 'IGNORE') changes.push(`${field} : ${text(a)} -> ${text(b)}`);
  };
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === 'job') continue;
    if (key === 'flinkConfiguration') {
      const a = flattenConf(before.flinkConfiguration ?? {});
      const b = flattenConf(after.flinkConfiguration ?? {});
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) add(IGNORED_CONF_PREFIXES.some((p) => k.startsWith(p)) ? 'IGNORE' : 'UPGRADE', `flinkConfiguration.${k}`, a[k], b[k]);
    } else if (key === 'restartNonce') {
      if (after.restartNonce !== undefined && after.restartNonce !== null) add('UPGRADE', key, before[key], after[key]);
    } else add('UPGRADE', key, before[key], after[key]);
  }
  const ja = (before.job ?? undefined) as Spec | undefined;
  const jb = (after.job ?? undefined) as Spec | undefined;
  if (!ja || !jb) add('UPGRADE', 'job', ja, jb);
  else {
    for (const key of new Set([...Object.keys(ja), ...Object.keys(jb)])) {
      const a = ja[key] ?? JOB_DEFAULTS[key];
      const b = jb[key] ?? JOB_DEFAULTS[key];
      if (IGNORED_JOB_FIELDS.has(key)) add('IGNORE', `job.${key}`, a, b);
      else if (key === 'savepointRedeployNonce') {
        if (b !== undefined && b !== null) add('SAVEPOINT_REDEPLOY', `job.${key}`, a, b);
      } else add('UPGRADE', `job.${key}`, a, b);
    }
  }
  const type = types.reduce<DiffType>((m, t) => (ORDER.indexOf(t) > ORDER.indexOf(m) ? t : m), 'IGNORE');
  return { type, changes };
}

/** The SpecChanged event's message (AbstractFlinkResourceReconciler.MSG_SPEC_CHANGED). */
export function specChangedMessage(diff: SpecDiff): string {
  return `${diff.type} change(s) detected (Diff: FlinkDeploymentSpec[${diff.changes.join(', ')}]), starting reconciliation.`;
}
