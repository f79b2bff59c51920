export class CacheTimeout extends Error {
  constructor() {
    super('cache operation timed out');
  }
}

/**
 * Bounds a cache operation: Redis being slow must cost a miss, never the caller's deadline.
 *
 * When the timer fires, the verdict waits for the rest of that event-loop turn (setImmediate runs
 * after the poll phase): on a busy process an answer that has already arrived is often still
 * unread in the socket when the overdue timer runs first, and calling that a timeout would make
 * the replica lock fail open exactly when a stampede needs it.
 */
export function bounded<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      immediate = setImmediate(() => reject(new CacheTimeout()));
    }, ms);
  });
  operation.catch(() => undefined);
  return Promise.race([operation, timeout]).finally(() => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  });
}
