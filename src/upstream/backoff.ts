/** Jitter is added on top of a wait, never subtracted: a wait is never shorter than asked. */
const JITTER_RATIO = 0.25;
const MIN_JITTER_SPAN_MS = 50;

/** `ms` plus up to 25 % (at least a 50 ms span) of random extra, so replicas do not retry in lockstep. */
export function withJitter(ms: number, random: () => number): number {
  return ms + Math.floor(random() * Math.max(ms * JITTER_RATIO, MIN_JITTER_SPAN_MS));
}

/** The n-th retry's wait (0-based): base, 2×base, 4×base, … plus jitter. */
export function exponentialBackoff(baseMs: number, retry: number, random: () => number): number {
  return withJitter(baseMs * 2 ** retry, random);
}
