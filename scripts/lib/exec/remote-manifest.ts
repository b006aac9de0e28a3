// Manifests published by upstream projects (ECK's crds.yaml/operator.yaml, ingress-nginx's
// kind provider). Fetched once per URL with retries, then kept in the user's cache so a
// re-run neither downloads again nor depends on the network.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pRetry, { AbortError } from 'p-retry';
import { SandboxError } from '../errors.ts';
import { parseManifests, type KubeObject } from '../kube/kube.ts';
import { cacheDir } from '../paths.ts';

export async function fetchManifest(url: string, signal?: AbortSignal): Promise<KubeObject[]> {
  const file = join(cacheDir(), 'manifests', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.yaml`);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    try {
      text = await pRetry(
        async () => {
          const res = await fetch(url, { signal });
          if (res.status >= 400 && res.status < 500) throw new AbortError(`HTTP ${res.status} from ${url}`);
          if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
          return res.text();
        },
        { retries: 3, minTimeout: 500, signal },
      );
    } catch (err) {
      throw new SandboxError(`cannot download ${url}`, { cause: err, hint: 'check network access, or set the URL in --config to a reachable mirror' });
    }
    await mkdir(join(cacheDir(), 'manifests'), { recursive: true });
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  }
  return parseManifests(text);
}
