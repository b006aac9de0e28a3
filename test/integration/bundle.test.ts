// What the built CLI loads (scripts/build.mjs): client-node's generated models live only in the
// port-forward bundle, which only a port-forward loads, and node:http is never imported as an ES
// module (that reads its WebSocket getters, which load Node's own undici). Both are start-up cost
// every command that talks to the cluster would otherwise pay.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

const DIST = join(REPO_ROOT, 'dist');
const chunks = readdirSync(DIST).filter((f) => f.endsWith('.js'));
const text = (f: string): string => readFileSync(join(DIST, f), 'utf8');

it("client-node's generated models are only in the port-forward bundle, which only the port-forward module imports", () => {
  // esbuild names each bundled source file in the chunk (a comment, or the key of its module wrapper).
  expect(chunks.filter((f) => text(f).includes('node_modules/@kubernetes/client-node/dist/gen/models/'))).toEqual(['portforward-client.js']);
  const importers = chunks.filter((f) => text(f).includes('"./portforward-client.js"'));
  expect(importers).toHaveLength(1);
  expect(text(importers[0]!)).toContain('// scripts/lib/kube/portforward.ts');
  // ...and that module is loaded with import(), when a port-forward starts.
  const portForwardChunk = importers[0]!;
  expect(chunks.filter((f) => new RegExp(`from "\\./${portForwardChunk.replace('.', '\\.')}"`).test(text(f)))).toEqual([]);
});

it('no chunk imports node:http as an ES module', () => {
  expect(chunks.filter((f) => /^import\b[^;]*["']node:http["'];?$/m.test(text(f)))).toEqual([]);
});
