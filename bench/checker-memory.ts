// One checker run over `lines` record lines, made one at a time (never held), in a process of
// its own so that its peak memory (maxRSS) is the checker's alone. Prints one JSON line:
// {lines, linesPerSecond, maxRssMiB, retainedMiB}; retainedMiB is the heap still in use after a
// full collection with the checker alive (needs --expose-gc), which is what growth would show in. The time includes making each line, so the rate is a lower
// bound of the checker's. Run by bench/index.ts as `node bench/checker-memory.ts <lines>`.
import { checkLogLines, shapes } from './checker.ts';

function* records(n: number, make: (i: number) => string): Generator<string> {
  for (let i = 0; i < n; i++) yield make(i);
}

const lines = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
let retained = 0;
const rate = checkLogLines(records(lines, shapes['raw SEQ']!), () => {
  gc();
  retained = process.memoryUsage().heapUsed;
});
console.log(JSON.stringify({ lines, linesPerSecond: Math.round(rate), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), retainedMiB: mib(retained) }));
