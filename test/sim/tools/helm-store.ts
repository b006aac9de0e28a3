// Helm 3's release storage (the default "secret" driver): one Secret per revision named
// `sh.helm.release.v1.<release>.v<revision>`, type `helm.sh/release.v1`, labels
// owner=helm, name, status, version, and data.release = base64(gzip(release JSON)) (which
// the API then base64-encodes once more, exactly as with real helm).
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KubeObject, SimClient } from '../api-client.ts';
import type { Values } from './helm-values.ts';

export type ReleaseStatus = 'unknown' | 'deployed' | 'uninstalled' | 'superseded' | 'failed' | 'uninstalling' | 'pending-install' | 'pending-upgrade' | 'pending-rollback';

export interface Release {
  name: string;
  namespace: string;
  version: number;
  info: {
    first_deployed: string;
    last_deployed: string;
    deleted: string;
    description: string;
    status: ReleaseStatus;
    notes?: string;
  };
  chart: {
    metadata: { name: string; version: string; appVersion: string; description: string; apiVersion: 'v2'; type: 'application' };
    values: Values;
  };
  config: Values;
  manifest: string;
}

export function secretName(name: string, version: number): string {
  return `sh.helm.release.v1.${name}.v${version}`;
}

export function encodeRelease(rel: Release): string {
  return gzipSync(Buffer.from(JSON.stringify(rel))).toString('base64');
}

export function decodeRelease(secret: KubeObject): Release | undefined {
  const data = (secret.data as Record<string, string> | undefined)?.release;
  if (!data) return undefined;
  try {
    const inner = Buffer.from(Buffer.from(data, 'base64').toString('utf8'), 'base64');
    const raw = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner) : inner;
    return JSON.parse(raw.toString('utf8')) as Release;
  } catch {
    return undefined;
  }
}

/** All stored revisions of releases (optionally one release), oldest first. */
export async function listReleases(api: SimClient, namespace: string | undefined, name?: string): Promise<Release[]> {
  const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
  const list = await api.list(path, { labelSelector: name ? `owner=helm,name=${name}` : 'owner=helm' });
  return list.items
    .filter((s) => s.type === 'helm.sh/release.v1')
    .map(decodeRelease)
    .filter((r): r is Release => r !== undefined)
    .sort((a, b) => a.version - b.version);
}

function secretFor(rel: Release): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName(rel.name, rel.version),
      namespace: rel.namespace,
      labels: { owner: 'helm', name: rel.name, status: rel.info.status, version: String(rel.version) },
    },
    type: 'helm.sh/release.v1',
    data: { release: Buffer.from(encodeRelease(rel)).toString('base64') },
  };
}

export async function createRelease(api: SimClient, rel: Release): Promise<void> {
  await api.create(`/api/v1/namespaces/${rel.namespace}/secrets`, secretFor(rel));
}

export async function updateRelease(api: SimClient, rel: Release): Promise<void> {
  await api.replace(`/api/v1/namespaces/${rel.namespace}/secrets/${secretName(rel.name, rel.version)}`, secretFor(rel));
}

export async function deleteRelease(api: SimClient, rel: Release): Promise<void> {
  await api.delete(`/api/v1/namespaces/${rel.namespace}/secrets/${secretName(rel.name, rel.version)}`);
}
