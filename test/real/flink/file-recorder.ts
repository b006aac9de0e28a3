// The recorder for processes instead of pods: follows the stdout files of the local JobManagers
// and TaskManagers (what a pod's log holds: the console appender's JSON lines) and hands the SAME
// history events to the sink as scenarios/recorder.ts does for pods, with the product's own line
// parsers. A line's time is the `@timestamp` its JSON carries (a pod's kubelet timestamp plays
// that part in the sandbox); the source is the file's name, as a pod's is its pod and container,
// so a new process shows as a new source (HistoryLog's restart mark).
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { jobManagerParser, parseTaskManagerLine, type RecordedEntry } from '../../../scenarios/recorder.ts';

export interface FollowedFile {
  file: string;
  role: 'jobmanager' | 'taskmanager';
}

interface Cursor {
  file: string;
  source: string;
  offset: number;
  partial: string;
  parse: (line: string, t: number) => RecordedEntry | undefined;
}

/** The time a console line was logged: ECS JSON's `@timestamp`; now for anything else. */
export function lineTime(line: string): number {
  const m = /"@timestamp"\s*:\s*"([^"]+)"/.exec(line);
  const t = m ? Date.parse(m[1]!) : Number.NaN;
  return Number.isNaN(t) ? Date.now() : t;
}

export interface FileRecorder {
  follow(f: FollowedFile): void;
  /** Reads every followed file to its current end now, handing on what it finds. */
  drain(): Promise<void>;
  /** Reads what is left and stops following. */
  stop(): Promise<void>;
}

export function startFileRecorder(sink: (entry: RecordedEntry) => void, pollMs = 200): FileRecorder {
  const cursors: Cursor[] = [];
  let busy: Promise<void> = Promise.resolve();
  let failure: unknown;

  const readCursor = async (c: Cursor): Promise<void> => {
    const size = await stat(c.file).then((s) => s.size, () => 0);
    if (size <= c.offset) return;
    const handle = await open(c.file, 'r');
    try {
      const buffer = Buffer.alloc(size - c.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, c.offset);
      c.offset += bytesRead;
      const lines = (c.partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      // The last piece has no newline yet: a line still being written.
      c.partial = lines.pop() ?? '';
      for (const line of lines) {
        const entry = c.parse(line, lineTime(line));
        if (entry) sink(entry);
      }
    } finally {
      await handle.close();
    }
  };
  // One pass at a time, so entries reach the sink in file order. A failed read is kept and
  // thrown by drain() and stop(), never lost in the timer.
  const pass = async (): Promise<void> => {
    busy = busy.then(async () => {
      for (const c of cursors) await readCursor(c);
    }).catch((err: unknown) => {
      failure ??= err;
    });
    await busy;
    if (failure !== undefined) throw failure;
  };
  const timer = setInterval(() => void pass().catch(() => undefined), pollMs);

  return {
    follow({ file, role }) {
      if (cursors.some((c) => c.file === file)) return;
      const source = basename(file);
      // One JobManager parser per process, as the pod recorder keeps one per container.
      const jm = role === 'jobmanager' ? jobManagerParser() : undefined;
      cursors.push({
        file,
        source,
        offset: 0,
        partial: '',
        parse: (line, t) => (jm ? jm(line, t) : parseTaskManagerLine(line, t, source)),
      });
    },
    drain: pass,
    async stop() {
      clearInterval(timer);
      await pass();
    },
  };
}
