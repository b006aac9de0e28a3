// One checker run over `lines` record lines, made 10,000 at a time (never all held), in a process
// of its own so that its peak memory (maxRSS) is the checker's alone. Prints one JSON line:
// {lines, linesPerSecond, maxRssMiB, retainedMiB}; retainedMiB is the heap still in use after a
// full collection with the checker alive (needs --expose-gc), which is what growth would show in.
// The rate counts the parse and check of each batch, not the making of its lines (which took
// longer than the checker itself). Run by bench/index.ts as `node bench/checker-memory.ts <lines>`.
import { checkLogBatches, shapes } from './checker.ts';

const BATCH = 10_000;

function* records(n: number, make: (i: number) => string): Generator<string[]> {
  for (let from = 0; from < n; from += BATCH) {
    const batch: string[] = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++) batch.push(make(i));
    yield batch;
  }
}

const lines = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
let retained = 0;
const rate = checkLogBatches(records(lines, shapes['raw SEQ']!), () => {
  gc();
  retained = process.memoryUsage().heapUsed;
});
console.log(JSON.stringify({ lines, linesPerSecond: Math.round(rate), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), retainedMiB: mib(retained) }));
