// The simulation's one clock factor. Durations that come from a configuration (the Flink
// operator's reconcile interval and shutdown TTL, Flink's checkpoint interval and restart
// delays, the job's records per second) keep their real values in the objects and are turned
// into wall-clock time here, all by the same factor, so their ratios stay realistic: an operator
// that reconciles every 15 s still sees three checkpoints of a 5 s interval per pass, only 50
// times faster. The simulation's own work (pulls, container starts, task deployment) is already
// stated in wall-clock milliseconds and is not scaled.

/** Wall-clock milliseconds per simulated millisecond: 1 simulated second lasts 20 ms. */
export const SIM_TIME_SCALE = 0.02;

/** Wall-clock ms for a configured duration of `ms` simulated ms. */
export function simMs(ms: number): number {
  return ms * SIM_TIME_SCALE;
}

/** Simulated ms that `wallMs` of wall-clock time stand for. */
export function simElapsed(wallMs: number): number {
  return wallMs / SIM_TIME_SCALE;
}
