// apiextensions-apiserver's naming controller + establishing controller: shortly after a
// CRD is created its names are accepted (NamesAccepted=True, status.acceptedNames) and it
// becomes Established=True, from which moment the API server serves its resources.
import type { KubeObject } from '../api-client.ts';
import type { ControllerContext } from './context.ts';
import { matchesAny } from '../faults.ts';
import { WorkQueue } from './informer.ts';
import { now } from './names.ts';

function acceptedNames(crd: KubeObject): Record<string, unknown> {
  const n = crd.spec?.names ?? {};
  const kind = n.kind as string;
  return {
    plural: n.plural,
    singular: n.singular ?? kind.toLowerCase(),
    kind,
    listKind: n.listKind ?? `${kind}List`,
    ...(n.shortNames ? { shortNames: n.shortNames } : {}),
    ...(n.categories ? { categories: n.categories } : {}),
  };
}

function isEstablishedFor(crd: KubeObject): boolean {
  const ok = (type: string): boolean => (crd.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
  return ok('Established') && ok('NamesAccepted') && JSON.stringify(crd.status?.acceptedNames) === JSON.stringify(acceptedNames(crd));
}

export function startCrds(ctx: ControllerContext): WorkQueue {
  const api = ctx.client('apiextensions-controller');
  const { crds } = ctx.informers;

  async function reconcile(name: string): Promise<void> {
    const crd = crds.get(undefined, name);
    if (!crd || crd.metadata.deletionTimestamp || isEstablishedFor(crd)) return;
    const at = now();
    const prev = (crd.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[];
    const since = (type: string): string => (prev.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime ?? at);
    const storage = ((crd.spec?.versions ?? []) as { name: string; storage?: boolean }[]).find((v) => v.storage)?.name;
    const stored = new Set<string>([...((crd.status?.storedVersions ?? []) as string[]), ...(storage ? [storage] : [])]);
    // The crdsNeverEstablished knob: names accepted, but held at Established=False (the state
    // the real naming controller leaves a CRD in until the establishing controller acts).
    const held = matchesAny(name, (await ctx.faults()).crdsNeverEstablished);
    if (held && crd.status?.conditions?.some((c: { type: string; reason?: string }) => c.type === 'Established' && c.reason === 'Installing')) {
      queue.add(name, 200);
      return;
    }
    const established = held
      ? { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted', lastTransitionTime: at }
      : { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: since('Established') };
    const updated = await api.mergePatch(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}/status`, {
      status: {
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: since('NamesAccepted') },
          established,
        ],
        acceptedNames: acceptedNames(crd),
        storedVersions: [...stored],
      },
    });
    crds.upsert(updated);
    // Checked again until the knob is cleared.
    if (held) queue.add(name, 200);
  }

  const queue = new WorkQueue('apiextensions-controller', reconcile);
  crds.on((type, crd) => {
    if (type !== 'DELETED' && !isEstablishedFor(crd)) queue.add(crd.metadata.name!, ctx.timing.crdEstablishMs);
  });
  for (const crd of crds.list()) if (!isEstablishedFor(crd)) queue.add(crd.metadata.name!);
  return queue;
}
