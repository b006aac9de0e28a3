// fluent-bit's tail input on one container log file (one attempt of one container: what
// /var/log/containers/<pod>_<ns>_<container>-<id>.log is on a node), read in the simulation
// through the pods/log API with the kubelet's timestamps. A position is the time of the last
// line read and how many lines carried that time, so a reader can resume exactly (sinceTime,
// then skip what it had), as fluent-bit resumes from the offset in its tail database.
import { ACTOR_HEADER } from '../faults.ts';

export interface Position {
  /** Kubelet time of the last line read (epoch ms). */
  time: number;
  /** Lines read that carry exactly that time. */
  count: number;
}

export interface TailTarget {
  simUrl: string;
  namespace: string;
  pod: string;
  container: string;
  /** The terminated attempt before the current one (`previous=true`): read to its end, not followed. */
  previous?: boolean;
}

/** Epoch ms of a kubelet timestamp (RFC 3339 with up to nanoseconds). */
function epochMs(stamp: string): number {
  return Date.parse(stamp.replace(/\.(\d{1,3})\d*Z$/, (_m, ms: string) => `.${ms.padEnd(3, '0')}Z`));
}

/**
 * Reads lines after `from` until the stream ends (the attempt ended, the container restarted,
 * the pod went away, the connection broke, or `signal`). Returns the position reached; false as
 * `started` when the log could not be opened (e.g. the container is still waiting to start).
 */
export async function tailLog(t: TailTarget, from: Position | undefined, onLine: (text: string, time: number, at: Position) => void, signal: AbortSignal): Promise<{ started: boolean; at: Position | undefined }> {
  const q = new URLSearchParams({ container: t.container, timestamps: 'true' });
  if (t.previous) q.set('previous', 'true');
  else q.set('follow', 'true');
  if (from) q.set('sinceTime', new Date(from.time).toISOString());
  let at = from;
  let skip = from?.count ?? 0;
  let res: Response;
  try {
    res = await fetch(`${t.simUrl}/api/v1/namespaces/${t.namespace}/pods/${t.pod}/log?${q}`, { headers: { [ACTOR_HEADER]: 'fluent-bit' }, signal });
  } catch {
    return { started: false, at };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return { started: false, at };
  }
  const decoder = new TextDecoder();
  let buffered = '';
  const take = (line: string): void => {
    const space = line.indexOf(' ');
    if (space < 0) return;
    const time = epochMs(line.slice(0, space));
    if (from && time === from.time && skip > 0) {
      skip--;
      return;
    }
    at = at && at.time === time ? { time, count: at.count + 1 } : { time, count: 1 };
    onLine(line.slice(space + 1), time, at);
  };
  try {
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        take(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
  } catch {
    // A broken connection or the reader stopping: what was read so far counts.
  }
  return { started: true, at };
}
