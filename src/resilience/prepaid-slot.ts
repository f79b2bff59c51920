import { runWith, workContext } from '../observability/work-context.js';

/**
 * Rate-limit slots taken before the calls that will use them are known: a batch takes its slots
 * first and only then closes its list of customers (see SourceBatches), so everyone who arrives
 * while it waits for them rides along. The first `count` calls that enter the system's policy
 * inside `withPrepaidSlot` use them instead of taking others; any later call there (the next
 * page, a retry) takes its own, waiting for it as long as the batch's deadline allows.
 */
export class PrepaidSlot {
  constructor(private left = 1) {}

  /** True for each of the first `count` calls that use it. */
  take(): boolean {
    if (this.left <= 0) return false;
    this.left--;
    return true;
  }
}

/** Runs `fn` (and the calls it starts) with `slot` available to its first call. */
export function withPrepaidSlot<T>(slot: PrepaidSlot, fn: () => Promise<T>): Promise<T> {
  return runWith({ prepaid: slot }, fn);
}

/**
 * Takes a slot prepaid for the work running now: 'taken' when there was one still unused, 'spent'
 * when the work had slots and has used them all (a batch: its further calls may wait to its
 * deadline), 'none' outside prepaid work.
 */
export function takePrepaidSlot(): 'taken' | 'spent' | 'none' {
  const slot = workContext().prepaid as PrepaidSlot | undefined;
  if (!slot) return 'none';
  return slot.take() ? 'taken' : 'spent';
}
