// Which resources are served right now: the built-ins plus every served version of each
// Established CRD. Recomputed lazily whenever a CRD changes.
import { BUILTIN_TYPES, compareKubeVersions, crdTypes, isEstablished } from './resources.ts';
import type { Store } from './store.ts';
import type { ResourceType } from './types.ts';

export const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

export interface GroupInfo {
  name: string;
  /** Served versions, preferred first. */
  versions: string[];
}

export class Registry {
  private readonly store: Store;
  private cache: ResourceType[] | undefined;

  constructor(store: Store) {
    this.store = store;
    store.subscribe((ev) => {
      if (ev.storageKey === CRD_KEY) this.cache = undefined;
    });
  }

  invalidate(): void {
    this.cache = undefined;
  }

  types(): ResourceType[] {
    if (!this.cache) {
      // Stored objects are never changed in place, so the CRDs can be used without copies.
      const custom = this.store
        .peek(CRD_KEY)
        .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
        .filter(isEstablished)
        .flatMap(crdTypes);
      this.cache = [...BUILTIN_TYPES, ...custom];
    }
    return this.cache;
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types().find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  findKind(apiVersion: string, kind: string): ResourceType | undefined {
    const i = apiVersion.indexOf('/');
    const group = i < 0 ? '' : apiVersion.slice(0, i);
    const version = i < 0 ? apiVersion : apiVersion.slice(i + 1);
    return this.types().find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Any served type of a storage key (used to name objects in internal writes). */
  byStorageKey(storageKey: string): ResourceType | undefined {
    return this.types().find((t) => t.storageKey === storageKey);
  }

  /** Named API groups (not the core group), each with its versions in preference order. */
  groups(): GroupInfo[] {
    const byGroup = new Map<string, Set<string>>();
    for (const t of this.types()) {
      if (!t.group) continue;
      if (!byGroup.has(t.group)) byGroup.set(t.group, new Set());
      byGroup.get(t.group)!.add(t.version);
    }
    return [...byGroup].map(([name, vs]) => ({ name, versions: [...vs].sort(compareKubeVersions) }));
  }
}
