import { runWith, workContext } from '../observability/work-context.js';

/**
 * A rate-limit slot taken before the call that will use it is known: a batch takes its slot first
 * and only then closes its list of customers (see SourceBatches), so everyone who arrives while it
 * waits for the slot rides along. The first call that enters the system's policy inside
 * `withPrepaidSlot` uses the slot instead of taking another; any later call there (the next page,
 * a retry) takes its own.
 */
export class PrepaidSlot {
  private spent = false;

  /** True once, for the first call that uses it. */
  take(): boolean {
    if (this.spent) return false;
    this.spent = true;
    return true;
  }
}

/** Runs `fn` (and the calls it starts) with `slot` available to its first call. */
export function withPrepaidSlot<T>(slot: PrepaidSlot, fn: () => Promise<T>): Promise<T> {
  return runWith({ prepaid: slot }, fn);
}

/** Takes the slot prepaid for the work running now: true when there was one still unused. */
export function takePrepaidSlot(): boolean {
  return (workContext().prepaid as PrepaidSlot | undefined)?.take() ?? false;
}
