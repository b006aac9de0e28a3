// Reading Flink configuration the way Flink does: nested YAML flattened to dotted keys,
// durations ("5000" = ms, "5 s", "1 min"), memory sizes ("1024m" = MiB, "2g", or Kubernetes
// "2Gi"), and what the simulated job needs from it (rate from the program args, slots,
// checkpointing, HA, restart strategy, log layout, the clocks of failure detection and leader
// election).
import { parse as parseYaml } from 'yaml';

export type FlinkConf = Record<string, string>;

/** Nested maps become dotted keys (Flink 1.19+ config.yaml allows both forms). */
export function flattenConf(value: unknown, prefix = '', out: FlinkConf = {}): FlinkConf {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConf(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix && value !== undefined && value !== null) {
    out[prefix] = Array.isArray(value) ? value.map(String).join(';') : String(value);
  }
  return out;
}

export function parseConfYaml(text: string | undefined): FlinkConf {
  if (!text) return {};
  return flattenConf(parseYaml(text) as unknown);
}

const DURATION_UNITS: [RegExp, number][] = [
  [/^(ns|nano|nanos|nanosecond|nanoseconds)$/, 1e-6],
  [/^(µs|us|micro|micros|microsecond|microseconds)$/, 1e-3],
  [/^(ms|milli|millis|millisecond|milliseconds)$/, 1],
  [/^(s|sec|secs|second|seconds)$/, 1000],
  [/^(m|min|mins|minute|minutes)$/, 60_000],
  [/^(h|hour|hours)$/, 3_600_000],
  [/^(d|day|days)$/, 86_400_000],
];

/** Flink's TimeUtils.parseDuration: a bare number is milliseconds. */
export function parseDurationMs(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  if (!unit) return Number(m[1]);
  const hit = DURATION_UNITS.find(([re]) => re.test(unit));
  return hit ? Number(m[1]) * hit[1] : undefined;
}

/** MiB of a Flink MemorySize ("1024m", "2 gb") or a Kubernetes quantity ("2Gi", "1024Mi"). */
export function parseMemoryMiB(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const k8s: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, K: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576 };
  if (unit in k8s) return n * k8s[unit]!;
  const u = unit.toLowerCase();
  if (u === '' || u === 'b' || u === 'bytes') return n / 1048576;
  if (/^(k|kb|kibibytes)$/.test(u)) return n / 1024;
  if (/^(m|mb|mebibytes)$/.test(u)) return n;
  if (/^(g|gb|gibibytes)$/.test(u)) return n * 1024;
  if (/^(t|tb|tebibytes)$/.test(u)) return n * 1024 * 1024;
  return undefined;
}

/** `--rate <n>` of the hello-world job (HelloJob.parseRate), default 5 records per second. */
export function rateFromArgs(args: readonly string[]): number {
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '--rate') {
      const r = Number(args[i + 1]);
      if (r > 0) return r;
    }
  }
  return 5;
}

/** Program args as the operator passes them (`$internal.application.program-args`, `;`-joined). */
export function programArgs(conf: FlinkConf): string[] {
  const raw = conf['$internal.application.program-args'];
  return raw ? raw.split(';') : [];
}

export function haEnabled(conf: FlinkConf): boolean {
  const t = (conf['high-availability.type'] ?? conf['high-availability'] ?? 'none').toLowerCase();
  return t !== 'none' && t !== 'false' && t !== '';
}

export function checkpointIntervalMs(conf: FlinkConf): number | undefined {
  return parseDurationMs(conf['execution.checkpointing.interval'] ?? conf['execution.checkpointing.checkpoints-after-tasks-finish.interval']);
}

export function slotsPerTaskManager(conf: FlinkConf): number {
  return Math.max(1, Number(conf['taskmanager.numberOfTaskSlots'] ?? 1) || 1);
}

export type RestartStrategy = { kind: 'none' } | { kind: 'delay'; delayMs: number; attempts: number };

/**
 * Flink 1.20's defaults: exponential-delay (1 s initial backoff, unbounded) when checkpointing
 * is on and nothing is configured, no restarts when checkpointing is off.
 */
export function restartStrategy(conf: FlinkConf): RestartStrategy {
  const type = (conf['restart-strategy.type'] ?? conf['restart-strategy'] ?? '').toLowerCase();
  if (['none', 'off', 'disable', 'no_restart', 'norestart'].includes(type)) return { kind: 'none' };
  if (type === 'fixed-delay' || type === 'fixeddelay') {
    return { kind: 'delay', delayMs: parseDurationMs(conf['restart-strategy.fixed-delay.delay']) ?? 1000, attempts: Number(conf['restart-strategy.fixed-delay.attempts'] ?? 1) };
  }
  if (type === 'failure-rate' || type === 'failurerate') return { kind: 'delay', delayMs: parseDurationMs(conf['restart-strategy.failure-rate.delay']) ?? 1000, attempts: Infinity };
  if (type === 'exponential-delay' || type === 'exponentialdelay') {
    return { kind: 'delay', delayMs: parseDurationMs(conf['restart-strategy.exponential-delay.initial-backoff']) ?? 1000, attempts: Number(conf['restart-strategy.exponential-delay.attempts-before-reset-backoff'] ?? Infinity) };
  }
  return checkpointIntervalMs(conf) ? { kind: 'delay', delayMs: 1000, attempts: Infinity } : { kind: 'none' };
}

/** How fast Flink notices a lost process and hands leadership over (Flink time, ms). */
export interface FlinkClocks {
  /** `heartbeat.interval`: how often the JobManager and ResourceManager ask every TaskManager (10 s). */
  heartbeatIntervalMs: number;
  /** `heartbeat.timeout`: how long without an answer before it is given up (50 s). */
  heartbeatTimeoutMs: number;
  /** `pekko.ask.timeout`: an RPC nobody answers fails after this long (10 s). */
  askTimeoutMs: number;
  /** `high-availability.kubernetes.leader-election.lease-duration`: a leader lock not renewed for this long may be taken (15 s). */
  leaseDurationMs: number;
  /** `high-availability.kubernetes.leader-election.retry-period`: how often the leader renews and a candidate tries (5 s). */
  leaseRetryMs: number;
}

/** Flink 1.20's defaults (HeartbeatManagerOptions, RpcOptions, KubernetesHighAvailabilityOptions) unless configured. */
export function flinkClocks(conf: FlinkConf): FlinkClocks {
  const ms = (key: string, fallback: number, legacy?: string): number => parseDurationMs(conf[key] ?? (legacy ? conf[legacy] : undefined)) ?? fallback;
  return {
    heartbeatIntervalMs: ms('heartbeat.interval', 10_000),
    heartbeatTimeoutMs: ms('heartbeat.timeout', 50_000),
    askTimeoutMs: ms('pekko.ask.timeout', 10_000, 'akka.ask.timeout'),
    leaseDurationMs: ms('high-availability.kubernetes.leader-election.lease-duration', 15_000),
    leaseRetryMs: ms('high-availability.kubernetes.leader-election.retry-period', 5_000),
  };
}

/** The Flink version in an image tag like `flink:1.20.4-java17`, if it names one exactly. */
export function flinkVersionOfImage(image: string): string | undefined {
  const m = /(?:^|\/)flink:(\d+\.\d+\.\d+)(?:-|$)/.exec(image);
  return m?.[1];
}
