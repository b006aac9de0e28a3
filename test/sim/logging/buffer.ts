// fluentd's file buffer for one output, as the logging operator configures it: chunks keyed by
// tag and time (`timekey`), each written `timekey_wait` after its time window closed, retried
// with a doubling wait until it is written (retry_forever). The buffer lives on fluentd's
// PersistentVolumeClaim, so it outlasts the pod: chunks not yet written are written by the next
// fluentd. At-least-once, as the real chain is: a chunk written shortly before fluentd stopped
// (its commit not yet on disk) is written again by the next one, so Elasticsearch holds those
// lines twice.
import type { FluentEvent } from './filters.ts';

export interface BufferTiming {
  /** The time window of a chunk (wall-clock ms). */
  timekeyMs: number;
  /** How long after its window closes a chunk is written. */
  waitMs: number;
  /** First retry after a failed write; doubles each time up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
}

interface Chunk {
  output: string;
  tag: string;
  window: number;
  events: FluentEvent[];
  failures: number;
  notBefore: number;
}

export class OutputBuffer {
  private readonly chunks = new Map<string, Chunk>();
  /** Chunks written within the last time window, with when: their commit may not have happened yet. */
  private recent: { chunk: Chunk; at: number }[] = [];

  add(output: string, ev: FluentEvent, timing: BufferTiming): void {
    const window = Math.floor(ev.time / timing.timekeyMs);
    const key = `${output}\n${ev.tag}\n${window}`;
    let c = this.chunks.get(key);
    if (!c) this.chunks.set(key, (c = { output, tag: ev.tag, window, events: [], failures: 0, notBefore: 0 }));
    c.events.push(ev);
  }

  /** Chunks due now (window closed plus the wait, and not backing off), oldest first. */
  due(now: number, timingOf: (output: string) => BufferTiming): Chunk[] {
    return [...this.chunks.values()]
      .filter((c) => {
        const t = timingOf(c.output);
        return now >= (c.window + 1) * t.timekeyMs + t.waitMs && now >= c.notBefore;
      })
      .sort((a, b) => a.window - b.window);
  }

  written(chunk: Chunk, now: number, timing: BufferTiming): void {
    for (const [k, c] of this.chunks) if (c === chunk) this.chunks.delete(k);
    this.recent = this.recent.filter((r) => now - r.at < timing.timekeyMs);
    this.recent.push({ chunk, at: now });
  }

  failed(chunk: Chunk, now: number, timing: BufferTiming): void {
    chunk.failures += 1;
    chunk.notBefore = now + Math.min(timing.retryMs * 2 ** (chunk.failures - 1), timing.maxRetryMs);
  }

  /**
   * fluentd stopped: what it wrote within the last window may still be on disk uncommitted, and
   * goes out again from the next fluentd.
   */
  stopped(now: number, timingOf: (output: string) => BufferTiming): void {
    for (const { chunk, at } of this.recent) {
      if (now - at >= timingOf(chunk.output).timekeyMs) continue;
      const key = `${chunk.output}\n${chunk.tag}\n${chunk.window}\nagain`;
      this.chunks.set(key, { ...chunk, failures: 0, notBefore: 0 });
    }
    this.recent = [];
  }

  get pending(): number {
    let n = 0;
    for (const c of this.chunks.values()) n += c.events.length;
    return n;
  }
}
