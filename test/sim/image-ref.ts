// Image references as containerd/docker normalize them: `nginx` is
// `docker.io/library/nginx:latest`, `org/app:1` is `docker.io/org/app:1`.
import { createHash } from 'node:crypto';

export function normalizeImage(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (!suffix && colon <= slash) suffix = ':latest';
  else if (colon > slash) {
    suffix = name.slice(colon) + suffix;
    name = name.slice(0, colon);
  }
  const first = name.split('/')[0]!;
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + suffix;
}

/** Tag of a reference (`latest` when none and no digest). */
export function imageTag(ref: string): string | undefined {
  const n = normalizeImage(ref);
  if (n.includes('@')) return undefined;
  return n.slice(n.lastIndexOf(':') + 1);
}

/** A stable fake digest for a reference (registries would answer with the manifest's). */
export function fakeDigest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/** The repository part of a normalized reference, without tag or digest. */
export function imageRepository(ref: string): string {
  const n = normalizeImage(ref);
  const at = n.indexOf('@');
  const base = at >= 0 ? n.slice(0, at) : n;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
}
