// logs-in-elasticsearch: the blog's logging setup carries the job's logs to Elasticsearch. The
// job runs until a checkpoint completes; then the scenario reads the `fluentd` index through a
// port-forward until it holds the record lines up to the number the pod logs had reached, and
// the JobManager's lines. Elasticsearch is a second, lossy and duplicating channel
// (fluent-bit -> fluentd -> bulk writes, each at-least-once, with a buffer delay of timekey +
// timekey_wait): a number it lacks is a finding only if the pod logs (the recorder's history)
// have it; numbers seen twice are counted and reported, never failed.
import type { SandboxConfig } from '../scripts/lib/config.ts';
import { SandboxError, TimeoutError } from '../scripts/lib/errors.ts';
import { parseSequenceLine } from '../scripts/lib/flink/sequence-line.ts';
import type { Kube, KubeObject } from '../scripts/lib/kube/kube.ts';
import { Wait } from '../scripts/lib/wait/wait.ts';
import { elasticsearchService, openElasticsearch, type Elasticsearch } from './elasticsearch.ts';
import type { Claim, ClaimInput, Scenario, ScenarioContext } from './scenario.ts';

const INDEX = 'fluentd';
const LOGGING_API = 'logging.banzaicloud.io/v1beta1';
const PAGE = 1000;
/** ES answers at most this many hits per query (index.max_result_window). */
const WINDOW = 10_000;
// The logging operator's buffer defaults (timekey 10m, timekey_wait 1m).
const DEFAULT_TIMEKEY_MS = 600_000;
const DEFAULT_WAIT_MS = 60_000;
/** On top of two buffer periods: fluent-bit's file scan and flush, retries, ES's refresh. */
const MARGIN_MS = 60_000;

type Interval = [number, number];

/** "1..40, 44, 46..500": how the facts carry sets of numbers. */
export function formatIntervals(list: Interval[]): string {
  return list.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(', ');
}

export function parseIntervals(text: string | undefined): Interval[] {
  if (!text) return [];
  return text.split(',').map((part) => {
    const [a, b = a] = part.trim().split('..').map(Number);
    return [a!, b!] as Interval;
  });
}

function toIntervals(sorted: number[]): Interval[] {
  const out: Interval[] = [];
  for (const n of sorted) {
    const last = out.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else if (!last || n > last[1]) out.push([n, n]);
  }
  return out;
}

/** Numbers in [from, to] that none of the intervals hold. */
function missing(from: number, to: number, present: Interval[]): Interval[] {
  const out: Interval[] = [];
  let next = from;
  for (const [a, b] of [...present].sort((x, y) => x[0] - y[0])) {
    if (b < next) continue;
    if (a > to) break;
    if (a > next) out.push([next, Math.min(a - 1, to)]);
    next = Math.max(next, b + 1);
  }
  if (next <= to) out.push([next, to]);
  return out;
}

/** A fluentd duration (`1m`, `30s`, plain seconds) in ms. */
function durationMs(v: unknown, fallback: number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(String(v ?? ''));
  if (!m) return fallback;
  return Number(m[1]) * ({ '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as Record<string, number>)[m[2]!]!;
}

/** The pipeline `up --profile full` installs; a clear refusal without it. Returns its ClusterOutput. */
async function requirePipeline(kube: Kube, cfg: SandboxConfig): Promise<KubeObject> {
  const svc = elasticsearchService(cfg);
  const output = await kube.get({ apiVersion: LOGGING_API, kind: 'ClusterOutput', name: 'es-output', namespace: cfg.namespaces.logging });
  const flow = await kube.get({ apiVersion: LOGGING_API, kind: 'Flow', name: 'es-flow', namespace: cfg.namespaces.job });
  const service = await kube.get({ apiVersion: 'v1', kind: 'Service', name: svc.name, namespace: svc.namespace });
  const lacking = [
    ...(service ? [] : [`Service ${svc.namespace}/${svc.name} (Elasticsearch)`]),
    ...(output ? [] : [`ClusterOutput ${cfg.namespaces.logging}/es-output`]),
    ...(flow ? [] : [`Flow ${cfg.namespaces.job}/es-flow`]),
  ];
  if (lacking.length || !output) {
    throw new SandboxError(`the logging pipeline is not installed: no ${lacking.join(', no ')}`, {
      hint: 'run `sandbox up --profile full` (the minimal profile leaves out Elasticsearch and the logging pipeline)',
    });
  }
  return output;
}

interface Seen {
  records: number;
  numbers: Set<number>;
  malformed: number;
  jobManager: number;
  checkpoints: number;
  /** More record documents than one query can page through. */
  truncated: boolean;
}

async function read(es: Elasticsearch, pods: KubeObject[]): Promise<Seen> {
  const uids = (component: string): string[] => pods.filter((p) => p.metadata.labels?.component === component).map((p) => String(p.metadata.uid));
  const ofPods = (ids: string[]): object => ({ terms: { 'kubernetes.pod_id.keyword': ids } });
  const query = { bool: { filter: [{ match_phrase: { message: 'SEQ seq=' } }, ofPods(uids('taskmanager'))] } };
  const seen: Seen = { records: 0, numbers: new Set(), malformed: 0, jobManager: 0, checkpoints: 0, truncated: false };
  let total = Number.POSITIVE_INFINITY;
  for (let from = 0; from < total && from + PAGE <= WINDOW; from += PAGE) {
    const page = await es.search(INDEX, { query, sort: ['_doc'], from, size: PAGE, _source: ['message'] });
    total = page.total;
    for (const hit of page.hits) {
      const parsed = parseSequenceLine(String(hit._source?.message ?? ''));
      if (parsed && 'seq' in parsed) {
        seen.records += 1;
        seen.numbers.add(parsed.seq);
      } else seen.malformed += 1;
    }
    if (page.hits.length < PAGE) break;
  }
  seen.truncated = total >= WINDOW && seen.records + seen.malformed >= WINDOW;
  const jm = uids('jobmanager');
  seen.jobManager = await es.count(INDEX, { query: { bool: { filter: [ofPods(jm)] } } });
  seen.checkpoints = await es.count(INDEX, { query: { bool: { filter: [ofPods(jm), { match_phrase: { message: 'Completed checkpoint' } }] } } });
  return seen;
}

function highest(numbers: Set<number>): number {
  let top = 0;
  for (const n of numbers) if (n > top) top = n;
  return top;
}

async function act(ctx: ScenarioContext): Promise<void> {
  const output = await requirePipeline(ctx.kube, ctx.config);
  const buffer = (output.spec?.elasticsearch?.buffer ?? {}) as Record<string, unknown>;
  const delayMs = durationMs(buffer.timekey, DEFAULT_TIMEKEY_MS) + durationMs(buffer.timekey_wait, DEFAULT_WAIT_MS);
  const deadlineMs = 2 * delayMs + MARGIN_MS;
  const mark = ctx.highWater();
  const pods = await ctx.kube.list('v1', 'Pod', { namespace: ctx.job.namespace, labelSelector: `app=${ctx.job.name}` });
  ctx.fact('es mark', String(mark));
  ctx.say(`reading index ${INDEX} until it holds the records up to ${mark} and JobManager lines with a completed checkpoint (the buffer delays them up to ${delayMs / 1000}s; giving up after ${deadlineMs / 1000}s)`);
  const started = Date.now();
  let last: Seen | undefined;
  await using es = await openElasticsearch(ctx.kube, ctx.config, ctx.signal);
  try {
    await Wait.poll(
      async () => {
        last = await read(es, pods);
        const top = highest(last.numbers);
        // The setup waited for a completed checkpoint, so the JobManager has logged one.
        return {
          ok: top >= mark && last.jobManager > 0 && last.checkpoints > 0,
          seen: `${last.records} record lines up to ${top}, ${last.jobManager} JobManager lines (${last.checkpoints} completed checkpoints)`,
        };
      },
      `index ${INDEX} to hold the records up to ${mark} and JobManager lines with a completed checkpoint`,
      { timeoutMs: deadlineMs, signal: ctx.signal, intervalMs: 1000 },
    );
  } catch (err) {
    // Too late is a finding for the claims, not a reason to stop: they say what was there.
    if (!(err instanceof TimeoutError)) throw err;
    ctx.fact('es timed out', err.message);
  }
  const seen: Seen = last ?? { records: 0, numbers: new Set(), malformed: 0, jobManager: 0, checkpoints: 0, truncated: false };
  const sorted = [...seen.numbers].sort((a, b) => a - b);
  ctx.fact('es waited', ((Date.now() - started) / 1000).toFixed(1));
  ctx.fact('es records', String(seen.records));
  ctx.fact('es seen', formatIntervals(toIntervals(sorted)));
  ctx.fact('es duplicates', String(seen.records - seen.numbers.size));
  ctx.fact('es malformed', String(seen.malformed));
  ctx.fact('es jobmanager lines', String(seen.jobManager));
  ctx.fact('es checkpoint lines', String(seen.checkpoints));
  if (seen.truncated) ctx.fact('es truncated', `read the first ${WINDOW} record lines only`);
}

/** Claims read facts the act wrote; without them the scenario stopped before reading the index. */
const NOT_READ = { ok: false, detail: `not measured: the scenario stopped before it read the ${INDEX} index` };

/** The record lines are in the index, up to the number the pod logs had when the reading began. */
export function recordsArrive(): Claim {
  return {
    title: `the job's record lines arrive in the ${INDEX} index`,
    check({ facts }) {
      if (facts['es waited'] === undefined) return NOT_READ;
      const seen = parseIntervals(facts['es seen']);
      const mark = Number(facts['es mark'] ?? 0);
      const top = seen.at(-1)?.[1] ?? 0;
      const waited = `after ${facts['es waited']}s`;
      if (seen.length === 0) return { ok: false, detail: `no record line in ${INDEX} ${waited} (the pod logs had reached ${mark})` };
      const ok = top >= mark;
      return { ok, detail: `${facts['es records']} record lines, ${seen[0]![0]}..${top}${ok ? `, past ${mark} (the pod logs' mark) ${waited}` : `: the pod logs had reached ${mark}, still missing ${waited}`}` };
    },
  };
}

export function jobManagerArrives(): Claim {
  return {
    title: `the JobManager's logs arrive in the ${INDEX} index`,
    check({ facts }) {
      if (facts['es waited'] === undefined) return NOT_READ;
      const n = Number(facts['es jobmanager lines'] ?? 0);
      return { ok: n > 0, detail: n > 0 ? `${n} JobManager lines, ${facts['es checkpoint lines'] ?? 0} of them completed checkpoints` : `no JobManager line after ${facts['es waited']}s` };
    },
  };
}

/** Numbers missing in Elasticsearch that the pod logs have: from the pod logs' first number up to the highest Elasticsearch holds. */
export function esOnlyGaps(input: ClaimInput): Interval[] {
  const seen = parseIntervals(input.facts['es seen']);
  if (seen.length === 0) return [];
  const lowest = Math.min(...input.verdict.sequences.map((s) => s.lowest), seen[0]![0]);
  const lostInPods = input.verdict.sequences.flatMap((s) => [...s.lost, ...s.unseen]);
  const gaps = missing(lowest, seen.at(-1)![1], seen);
  // What the pod logs lack too is the job's loss (the other claims' business), not the pipeline's.
  return gaps.flatMap(([a, b]) => missing(a, b, lostInPods));
}

export function noGapBeyondPodLogs(): Claim {
  return {
    title: `the sequence in ${INDEX} has no gap the pod logs do not have (duplicates reported, not failed)`,
    check(input) {
      const { facts } = input;
      if (facts['es waited'] === undefined) return NOT_READ;
      if (!facts['es seen']) return { ok: false, detail: `nothing to compare: no record line in ${INDEX}` };
      const gaps = esOnlyGaps(input);
      const dups = Number(facts['es duplicates'] ?? 0);
      const dupText = `${dups} record lines seen twice or more (Elasticsearch is an at-least-once channel: reported, not failed)`;
      if (gaps.length === 0) return { ok: true, detail: `no gap in ${facts['es seen']}; ${dupText}` };
      const count = gaps.reduce((n, [a, b]) => n + b - a + 1, 0);
      return { ok: false, detail: `missing in ${INDEX} but in the pod logs: ${formatIntervals(gaps)} (${count} numbers); ${dupText}` };
    },
  };
}

export const logsInElasticsearch: Scenario = {
  name: 'logs-in-elasticsearch',
  summary: 'the job\'s record lines and JobManager logs reach Elasticsearch (index fluentd) with no gap the pod logs lack',
  job: 'hello-ha',
  needsProfile: 'full',
  async setup(ctx) {
    await requirePipeline(ctx.kube, ctx.config);
    // A completed checkpoint gives the JobManager something worth finding in the index.
    await ctx.waitForCheckpoint();
  },
  act,
  claims: [recordsArrive(), jobManagerArrives(), noGapBeyondPodLogs()],
};
