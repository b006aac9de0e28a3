// The layout of scripts/ holds: imports point inward (cli -> commands -> steps -> pipeline ->
// lib) and nothing imports in a circle. The walker itself is tested on a small tree first, so a
// walk that found nothing cannot pass by accident.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importCycles, importGraph, outwardImports, type LayerRule } from './import-graph.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const RULES: LayerRule[] = [
  { from: 'scripts/lib/', notTo: ['scripts/pipeline/', 'scripts/steps/', 'scripts/commands/', 'scripts/cli.ts'] },
  { from: 'scripts/pipeline/', notTo: ['scripts/steps/', 'scripts/commands/', 'scripts/cli.ts'] },
  { from: 'scripts/steps/', notTo: ['scripts/commands/', 'scripts/cli.ts'] },
];

describe('the import graph walker', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'import-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };

  it('finds a cycle through type-only, multi-line and dynamic imports, and an arrow out of the library', () => {
    write('scripts/lib/a.ts', "import type {\n  B,\n} from './b.ts';\nexport type A = B;\n");
    write('scripts/lib/b.ts', "export type B = 1;\nexport const load = () => import('./c.ts');\n");
    write('scripts/lib/c.ts', "export { type A } from './a.ts';\nimport '../steps/s.ts';\n");
    write('scripts/steps/s.ts', "import { x } from 'node:fs';\nexport const s = x;\n");
    const graph = importGraph(dir, 'scripts');
    expect(importCycles(graph)).toEqual([['scripts/lib/a.ts', 'scripts/lib/b.ts', 'scripts/lib/c.ts']]);
    expect(outwardImports(graph, RULES)).toEqual(['scripts/lib/c.ts -> scripts/steps/s.ts']);
  });
});

describe('scripts/', () => {
  const graph = importGraph(repoRoot, 'scripts');

  it('is walked (the layout folders exist and import each other)', () => {
    expect(graph.get('scripts/pipeline/engine.ts')).toContain('scripts/pipeline/step.ts');
    expect(graph.size).toBeGreaterThan(40);
  });

  it('has no import cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('imports inward only: the library never imports the pipeline, steps, commands or cli.ts; the pipeline never imports steps', () => {
    expect(outwardImports(graph, RULES)).toEqual([]);
  });
});
