// Manifests published by upstream projects (ECK's crds.yaml/operator.yaml, ingress-nginx's
// kind provider). Fetched once per URL through the HTTP seam (its retries, a minute per
// attempt), then kept in the user's cache so a re-run neither downloads again nor depends on
// the network.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxError } from '../errors.ts';
import { parseManifests, type KubeObject } from '../kube/kube.ts';
import { cacheDir } from '../paths.ts';
import { httpGet, withRetries } from './http.ts';

const ATTEMPT_TIMEOUT_MS = 60_000;

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
      text = await withRetries(async (attempt) => (await httpGet(url, attempt)).text(), { attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, signal });
    } catch (err) {
      throw new SandboxError(`cannot download ${url}`, { cause: err, hint: 'check network access, or set the URL in --config to a reachable mirror' });
    }
    await mkdir(join(cacheDir(), 'manifests'), { recursive: true });
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  }
  return parseManifests(text);
}
