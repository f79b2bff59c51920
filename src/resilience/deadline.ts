/**
 * Deadlines travel with the AbortSignal a call already carries: the aggregation registers when
 * its request must be answered, and the resilience layer never waits or retries past it.
 */
const deadlines = new WeakMap<AbortSignal, number>();

export function setDeadline(signal: AbortSignal, at: number): AbortSignal {
  deadlines.set(signal, at);
  return signal;
}

export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal ? deadlines.get(signal) : undefined;
}

/** Waits `ms`, or less if the signal aborts (resolves false then). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
