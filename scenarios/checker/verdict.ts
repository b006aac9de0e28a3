// The checker's answer: whether Flink's fault tolerance held, with the evidence. Plain data, so
// it serialises to JSON as it is and every renderer (text, JSON, later JUnit and HTML) reads it.
import type { Interval } from './intervals.ts';

/** Jepsen's three answers: unknown when the observations cannot decide (too short, nothing seen). */
export type Validity = true | false | 'unknown';

export type FindingKind =
  | 'lost'
  | 'malformed'
  | 'unexpected'
  | 'duplicates'
  | 'replay'
  | 'reset'
  | 'reset-missing'
  | 'stale-restore'
  | 'liveness'
  | 'unseen';

/** One thing the checker found; `fail` when it makes the verdict invalid. */
export interface Finding {
  kind: FindingKind;
  fail: boolean;
  /** The sequence it concerns (`SEQ`, or `Number from 50000`). */
  sequence?: string;
  intervals?: Interval[];
  count: number;
  /** The fault (or restart, or `start`) it follows. */
  after: string;
  message: string;
}

export interface SequenceReport {
  id: string;
  /** Where this sequence starts over when its state is lost. */
  origin: number;
  lowest: number;
  highest: number;
  /** Distinct numbers seen. */
  distinct: number;
  lost: Interval[];
  /** Missing, but recent enough to still be in flight when the observations ended. */
  unseen: Interval[];
  /** Numbers seen more than once. */
  duplicates: Interval[];
  /** The `K>` prefixes its lines carried, in order of first use (the blog's job). */
  prefixes?: number[];
  /** True when a list above was cut at the listing limit. */
  truncated?: boolean;
}

/** Numbers that may legitimately be seen again after a fault: from the restored snapshot up to the pre-fault mark. */
export interface ReplayWindow {
  sequence: string;
  from: number;
  to: number;
  after: string;
}

/** A stretch of the sequence seen again, as observed. */
export interface Replay {
  sequence: string;
  from: number;
  to: number;
  duplicates: number;
  /** Duplicates no replay window allows. */
  outside: number;
  reset: boolean;
  after: string;
}

export interface LivenessCheck {
  after: string;
  /** The mark to pass: the highest number before the fault (none when nothing was seen yet). */
  mark?: number;
  deadlineMs: number;
  status: 'passed' | 'late' | 'never' | 'undecided' | 'not-resumed';
  /** How long after the fault (or resume) the mark was passed. */
  tookMs?: number;
}

export interface Sample {
  source: string;
  text: string;
}

export interface Verdict {
  valid: Validity;
  /** One line: why. */
  summary: string;
  counts: {
    records: number;
    sequences: number;
    lost: number;
    unseen: number;
    duplicates: number;
    /** Duplicates inside replay windows, or after a declared reset. */
    replayed: number;
    resets: number;
    malformed: number;
    unexpected: number;
  };
  /** Whether a history gave faults and checkpoints; without one, duplicates are only reported. */
  history: boolean;
  strictDuplicates: boolean;
  sequences: SequenceReport[];
  replayWindows: ReplayWindow[];
  replays: Replay[];
  liveness: LivenessCheck[];
  findings: Finding[];
  malformedSamples: Sample[];
  unexpectedSamples: Sample[];
}
