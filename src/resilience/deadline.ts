/**
 * Deadlines travel with the AbortSignal a call already carries: the aggregation registers when
 * its request must be answered, and the resilience layer never waits or retries past it.
 */
const deadlines = new WeakMap<AbortSignal, number>();

export function setDeadline(signal: AbortSignal, at: number | undefined): AbortSignal {
  if (at !== undefined) deadlines.set(signal, at);
  return signal;
}

export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal ? deadlines.get(signal) : undefined;
}
