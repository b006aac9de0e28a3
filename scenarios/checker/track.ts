// One sequence as the checker follows it: which numbers were seen (intervals), its high-water
// mark and that mark's recent past, the numbers a replay may repeat, and the replays observed.
// Everything here is bounded by gaps, replays and windows, never by how many records passed.
import { HwRing } from './hw-ring.ts';
import { IntervalSet } from './intervals.ts';

/** What one observation did to a track. */
export const ADVANCE = 0; // a new number above the mark
export const FILL = 1; // a new number below the mark (it arrived late)
export const DUP = 2; // a number seen before

/** How many intervals or replays a track lists; beyond that it only counts. */
export const LIST_LIMIT = 1000;

/** A stretch of numbers seen again, from the first repeat until the mark is passed. */
export interface Episode {
  from: number;
  /** The mark when it began: the replay is over once a number above it arrives. */
  to: number;
  after: number;
  duplicates: number;
  outside: number;
  /** The repeated numbers no window allowed (listing only). */
  outsideSet: IntervalSet;
  reset: boolean;
  resetExpected: boolean;
  /** A reset inside a replay window (nothing had been snapshotted yet): reported, not failed. */
  resetExcused: boolean;
}

export class Track {
  readonly seen = new IntervalSet();
  /** Numbers a replay may repeat: the windows the history's timeline opened. */
  readonly allowed = new IntervalSet();
  readonly dups = new IntervalSet();
  readonly ring = new HwRing();
  /** This track's ring, and those of tracks folded into it. */
  readonly rings: HwRing[] = [this.ring];
  hw = -Infinity;
  /** Time of the first observation (NaN when unknown). */
  firstT = Number.NaN;
  /** How often the mark moved: a tentative track's parent that moves again is a separate sequence. */
  advances = 0;
  duplicates = 0;
  listsTruncated = false;
  episode: Episode | undefined;
  readonly episodes: Episode[] = [];
  episodesDropped = 0;
  lastEpisodeLabel = -1;
  readonly prefixes: number[] = [];
  private lastPrefix = -1;
  /** The track just below, when this one began above its mark: a gap or a second sequence, decided at the end. */
  parent: Track | undefined;
  parentAdvancesAtBirth = 0;
  /** The label current when this track began (a gap's label if it turns out to be one). */
  bornUnder = -1;

  readonly id: string;
  /** The number a reset falls back to. */
  readonly origin: number;

  constructor(id: string, origin: number) {
    this.id = id;
    this.origin = origin;
  }

  observe(n: number, t: number, label: number): number {
    if (this.seen.add(n, label)) {
      if (n <= this.hw) return FILL;
      if (this.advances === 0) this.firstT = t;
      this.hw = n;
      this.advances++;
      this.ring.note(t, n);
      if (this.episode !== undefined && n > this.episode.to) this.episode = undefined;
      return ADVANCE;
    }
    this.duplicates++;
    if (this.dups.size < LIST_LIMIT || this.dups.has(n)) this.dups.add(n);
    else this.listsTruncated = true;
    return DUP;
  }

  /** The high-water mark at time `t` (-Infinity when t is older than what is remembered). */
  markAt(t: number): number {
    let mark = -Infinity;
    for (const ring of this.rings) mark = Math.max(mark, ring.at(t));
    return mark;
  }

  notePrefix(prefix: number): void {
    if (prefix === this.lastPrefix || prefix < 0) return;
    this.lastPrefix = prefix;
    if (!this.prefixes.includes(prefix) && this.prefixes.length < 64) this.prefixes.push(prefix);
  }

  /** The replay `n` belongs to: the current one, the last one again (a straggler), or a new one. */
  replayFor(n: number, label: number): Episode {
    if (this.episode) return this.episode;
    const last = this.episodes[this.episodes.length - 1];
    if (last && last.after === label && n >= last.from && n <= last.to) return (this.episode = last);
    this.lastEpisodeLabel = label;
    if (this.episodes.length >= LIST_LIMIT) {
      // Past the listing limit the last replay absorbs the rest, so that no count is lost.
      const tail = this.episodes[LIST_LIMIT - 1]!;
      tail.from = Math.min(tail.from, n);
      tail.to = Math.max(tail.to, this.hw);
      this.episodesDropped++;
      return (this.episode = tail);
    }
    const ep: Episode = { from: n, to: this.hw, after: label, duplicates: 0, outside: 0, outsideSet: new IntervalSet(), reset: false, resetExpected: false, resetExcused: false };
    this.episodes.push(ep);
    return (this.episode = ep);
  }
}
