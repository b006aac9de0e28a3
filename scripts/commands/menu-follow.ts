// "Follow the sequence live": the scenarios' recorder follows the job's pods' logs, a Checker takes
// every event, and one line, redrawn twice a second, shows records per second, the last number,
// and the gaps and duplicates so far. q or Ctrl-C goes back to the menu.
import { clearLine, cursorTo } from 'node:readline';
import { Checker, type CheckerProgress } from '../../scenarios/checker/index.ts';
import { startRecorder } from '../../scenarios/recorder.ts';
import { jobHandle, jobOrOffer, stateText } from './menu-job.ts';
import type { GlobalOptions } from './options.ts';

const REDRAW_MS = 500;
/** Records per second over the last few seconds of the records' own times, so a backlog read at once counts right. */
const RATE_WINDOW_S = 5;

/** Records per whole second of their log times, kept for the last RATE_WINDOW_S seconds only. */
export class RateMeter {
  private readonly perSecond = new Map<number, number>();
  private first = Number.NaN;
  private newest = Number.NaN;

  add(t: number): void {
    const sec = Math.floor(t / 1000);
    if (!(sec >= this.first)) this.first = sec;
    if (!(sec <= this.newest)) {
      this.newest = sec;
      for (const k of this.perSecond.keys()) if (k <= sec - RATE_WINDOW_S - 1) this.perSecond.delete(k);
    }
    if (sec > this.newest - RATE_WINDOW_S - 1) this.perSecond.set(sec, (this.perSecond.get(sec) ?? 0) + 1);
  }

  /** Over the whole seconds before the newest (which is still filling); undefined until there is one. */
  perSec(): number | undefined {
    const span = Math.min(RATE_WINDOW_S, this.newest - this.first);
    if (!(span > 0)) return undefined;
    let sum = 0;
    for (let sec = this.newest - span; sec < this.newest; sec++) sum += this.perSecond.get(sec) ?? 0;
    return sum / span;
  }
}

export function progressLine(p: CheckerProgress, rate: number | undefined): string {
  if (p.records === 0 && p.bad === 0) return 'waiting for the first record…';
  const parts = [`last ${p.highest}`, `${rate === undefined ? '-' : rate.toFixed(1)} records/s`, `${p.records} records`, `gaps ${p.missing}`, `duplicates ${p.duplicates}`];
  if (p.bad) parts.push(`bad lines ${p.bad}`);
  return parts.join(' · ');
}

/** Resolves on q or Ctrl-C typed (the terminal is raw meanwhile) or on the interrupt signal. */
function untilStopped(signal: AbortSignal): { done: Promise<void>; dispose: () => void } {
  const stdin = process.stdin;
  let onKey: ((data: Buffer) => void) | undefined;
  const done = new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
    if (!stdin.isTTY) return;
    onKey = (data) => {
      const text = data.toString('utf8');
      if (text.includes('q') || text.includes('Q') || text.includes('\x03')) resolve();
    };
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  });
  const dispose = (): void => {
    if (!onKey) return;
    stdin.off('data', onKey);
    stdin.setRawMode(false);
    stdin.pause();
  };
  return { done, dispose };
}

export async function followSequence(opts: GlobalOptions): Promise<void> {
  const h = await jobHandle(opts);
  const fd = await jobOrOffer(h, opts);
  if (!fd) return;
  const checker = new Checker({ settleMs: h.cfg.scenarios.settleSeconds * 1000, livenessDeadlineMs: h.cfg.scenarios.livenessSeconds * 1000 });
  const rate = new RateMeter();
  const out = process.stdout;
  out.write(`following ${h.ref.name}'s sequence in its pods' logs (${stateText(fd)}); q or Ctrl-C: back to the menu\n`);
  const recorder = await startRecorder({
    kube: h.kube,
    namespace: h.ref.namespace!,
    deployment: h.ref.name,
    sink: (e) => {
      checker.event(e);
      if (e.kind === 'record') rate.add(e.t);
    },
  });
  const draw = (): void => {
    clearLine(out, 0);
    cursorTo(out, 0);
    out.write(progressLine(checker.progress(), rate.perSec()));
  };
  const stop = untilStopped(h.signal);
  draw();
  const timer = setInterval(draw, REDRAW_MS);
  try {
    await stop.done;
  } finally {
    clearInterval(timer);
    stop.dispose();
    await recorder.stop();
    draw();
    out.write('\nstopped following\n');
  }
}
