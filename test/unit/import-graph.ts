// A small walk over the relative imports of a source tree, so a test can keep the layout honest:
// no import cycles, and imports that point inward only. It reads the text, not the types (the
// TypeScript 7 compiler has no API to ask), so it errs on the safe side: type-only imports and
// dynamic imports count as arrows too, because a cycle through them is still a tangle to read.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export type ImportGraph = Map<string, Set<string>>;

const SPECIFIER = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|import\s+['"](\.[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.m?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveSpecifier(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile());
}

/** Files under `root`/`dir` (paths relative to root, with /) and the files of that tree each one imports. */
export function importGraph(root: string, dir: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const top = path.join(root, dir);
  const rel = (p: string): string => path.relative(root, p).split(path.sep).join('/');
  for (const file of sourceFiles(top)) {
    const targets = new Set<string>();
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const target = resolveSpecifier(file, (m[1] ?? m[2] ?? m[3])!);
      if (target?.startsWith(top + path.sep)) targets.add(rel(target));
    }
    graph.set(rel(file), targets);
  }
  return graph;
}

/** Every import cycle, as the files of one strongly connected component (Tarjan), sorted. */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A layer (a path prefix) and the prefixes it must not import. */
export interface LayerRule {
  from: string;
  notTo: string[];
}

/** "a.ts -> b.ts" for every import that breaks a rule. */
export function outwardImports(graph: ImportGraph, rules: LayerRule[]): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    for (const rule of rules) {
      if (!file.startsWith(rule.from)) continue;
      for (const t of targets) if (rule.notTo.some((p) => t.startsWith(p))) found.push(`${file} -> ${t}`);
    }
  }
  return found.sort();
}
