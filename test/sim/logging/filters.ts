// What fluentd does to a record on its way from fluent-bit to an output, by the logging
// operator's rendering of a Flow (kube-logging/logging-operator pkg/sdk/logging/model): the
// label router picks the flows whose `match` selects the record (in order, the first select or
// exclude that fits decides), then each flow's filters run. Modelled filters: `tag_normaliser`
// (the tag becomes `<namespace>.<pod>.<container>`) and `parser` with a `json` parse section
// (fluentd's filter_parser: `key_name` defaults to the container runtime's log key, `message`
// for containerd; the time_key becomes the event time and leaves the record unless
// keep_time_key; a line that is not a JSON object goes to @ERROR, which the operator's
// configuration discards). Other filters pass records through unchanged.
import type { KubeObject } from '../api-client.ts';

/** A log event inside fluent-bit and fluentd: tag, event time (epoch ms) and the record. */
export interface FluentEvent {
  tag: string;
  time: number;
  record: Record<string, unknown>;
}

/** The `kubernetes` map fluent-bit's kubernetes filter adds (fluent-bit plugins/filter_kubernetes/kube_meta.c). */
export interface KubernetesMeta {
  pod_name: string;
  namespace_name: string;
  pod_id?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  host?: string;
  container_name: string;
  docker_id?: string;
  container_hash?: string;
  container_image?: string;
}

interface MatchRule {
  labels?: Record<string, string>;
  hosts?: string[];
  container_names?: string[];
  namespaces?: string[];
}

/** The container runtime's log key (the logging operator's types.GetLogKey for containerd). */
const DEFAULT_KEY_NAME = 'message';

function fits(rule: MatchRule, k: KubernetesMeta): boolean {
  if (rule.namespaces?.length && !rule.namespaces.includes(k.namespace_name)) return false;
  if (rule.hosts?.length && !rule.hosts.includes(k.host ?? '')) return false;
  if (rule.container_names?.length && !rule.container_names.includes(k.container_name)) return false;
  return Object.entries(rule.labels ?? {}).every(([key, v]) => k.labels?.[key] === v);
}

/** Whether a Flow (its namespace) or ClusterFlow (any namespace) routes this record. */
export function flowSelects(flow: KubeObject, record: Record<string, unknown>): boolean {
  const k = record.kubernetes as KubernetesMeta | undefined;
  if (!k) return false;
  if (flow.kind === 'Flow' && k.namespace_name !== flow.metadata.namespace) return false;
  const rules = (flow.spec?.match ?? []) as { select?: MatchRule; exclude?: MatchRule }[];
  if (rules.length === 0) return true;
  for (const r of rules) {
    if (r.exclude && fits(r.exclude, k)) return false;
    if (r.select && fits(r.select, k)) return true;
  }
  return false;
}

/** fluentd's time parsing for a time_key value: numbers are seconds, strings are dates. */
function eventTime(v: unknown): number | undefined {
  if (typeof v === 'number') return v * 1000;
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** filter_parser with a json parse section; undefined when the record goes to @ERROR. */
function parse(spec: Record<string, any>, ev: FluentEvent): FluentEvent | undefined {
  const section = (spec.parse ?? spec.parsers?.[0] ?? {}) as Record<string, any>;
  if (section.type !== 'json') return ev;
  const keyName = (spec.key_name as string | undefined) || DEFAULT_KEY_NAME;
  const raw = ev.record[keyName];
  if (typeof raw !== 'string') return undefined;
  let values: unknown;
  try {
    values = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return undefined;
  const parsed = { ...(values as Record<string, unknown>) };
  let time = ev.time;
  const timeKey = section.time_key as string | undefined;
  if (timeKey && timeKey in parsed) {
    const t = eventTime(parsed[timeKey]);
    if (t === undefined) return undefined;
    if (!spec.reserve_time) time = t;
    if (!section.keep_time_key) delete parsed[timeKey];
  }
  let out: Record<string, unknown> = parsed;
  if (spec.inject_key_prefix) out = Object.fromEntries(Object.entries(out).map(([k, v]) => [`${spec.inject_key_prefix}${k}`, v]));
  if (spec.hash_value_field) out = { [spec.hash_value_field]: out };
  const rest = { ...ev.record };
  if (spec.remove_key_name_field) delete rest[keyName];
  return { tag: ev.tag, time, record: spec.reserve_data ? { ...rest, ...out } : out };
}

/** Runs a flow's filters over one event; undefined when it is dropped. */
export function applyFilters(flow: KubeObject, ev: FluentEvent): FluentEvent | undefined {
  let cur: FluentEvent | undefined = ev;
  for (const f of (flow.spec?.filters ?? []) as Record<string, Record<string, any>>[]) {
    if (!cur) return undefined;
    if (f.tag_normaliser) {
      const k = cur.record.kubernetes as KubernetesMeta | undefined;
      if (k) cur = { ...cur, tag: `${k.namespace_name}.${k.pod_name}.${k.container_name}` };
    } else if (f.parser) cur = parse(f.parser, cur);
  }
  return cur;
}

/** A fluentd time value (`1m`, `30s`, `1h`, `1d`, or plain seconds) in milliseconds. */
export function fluentdDurationMs(v: unknown, fallbackMs: number): number {
  if (typeof v === 'number') return v * 1000;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(String(v ?? ''));
  if (!m) return fallbackMs;
  return Number(m[1]) * ({ '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as Record<string, number>)[m[2]!]!;
}
