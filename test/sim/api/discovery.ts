// Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
// Served as plain (legacy) JSON; clients that ask for aggregated discovery fall back to it.
import type { Registry } from './registry.ts';
import { discoveryEntries } from './resources.ts';
import { noSuchResource } from './status.ts';
import type { Obj } from './types.ts';

export const VERSION_INFO: Obj = {
  major: '1',
  minor: '36',
  emulationMajor: '1',
  emulationMinor: '36',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '35',
  gitVersion: 'v1.36.1',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-05-12T00:00:00Z',
  goVersion: 'go1.25.9',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function groupDoc(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discovery(registry: Registry, path: string, serverAddress: string): Obj | undefined {
  if (path === '/version') return VERSION_INFO;
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (path === '/api/v1') {
    const types = registry.types().filter((t) => t.group === '' && t.version === 'v1');
    return { kind: 'APIResourceList', groupVersion: 'v1', resources: discoveryEntries(types) };
  }
  if (path === '/apis') {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((g) => groupDoc(g.name, g.versions)) };
  }
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  const group = registry.groups().find((g) => g.name === m[1]);
  if (!group) throw noSuchResource();
  if (!m[2]) return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group.name, group.versions) };
  if (!group.versions.includes(m[2])) throw noSuchResource();
  const types = registry.types().filter((t) => t.group === m[1] && t.version === m[2]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/${m[2]}`, resources: discoveryEntries(types) };
}
