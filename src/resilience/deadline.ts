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

/**
 * Calls `onDue` once `ms` have passed — but only after the I/O already waiting when the timer
 * came due has been read (setImmediate runs after the poll phase). On a busy process an overdue
 * timer runs before a socket's unread answer; judging then would call an answer that already
 * arrived late. Returns a cancel function.
 */
export function dueAfterPendingIo(ms: number, onDue: () => void): () => void {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(onDue);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
