// How many tool processes (helm, docker, kind) run at once, and which goes first. The steps of a
// wave start together, and on a machine with few cores their installs share the CPU: the one on
// the longest chain of steps (eck-operator, before Elasticsearch and the log pipeline) then ends
// as late as the one nothing waits for (the job image). So tool processes take a slot, one per
// core (two at least), and a waiting one with the higher priority starts first.
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';

/** Tool processes at once: one per core, two at least. */
export const TOOL_SLOTS = Math.max(2, availableParallelism());

export interface Slots {
  /** Runs `task` once a slot is free; waiting tasks start by priority (higher first), then in order. */
  run<T>(priority: number, task: () => Promise<T>): Promise<T>;
}

export function createSlots(concurrency: number): Slots {
  const queue = new PQueue({ concurrency });
  return {
    run: <T>(priority: number, task: () => Promise<T>) => queue.add(task, { priority }) as Promise<T>,
  };
}

/** The slots every tool process of this CLI takes. */
export const toolSlots: Slots = createSlots(TOOL_SLOTS);
