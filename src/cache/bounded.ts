import { dueAfterPendingIo } from '../upstream/timers.js';

export class CacheTimeout extends Error {
  constructor() {
    super('cache operation timed out');
  }
}

/**
 * Bounds a cache operation: Redis being slow must cost a miss, never the caller's deadline. An
 * answer already in the socket when the bound runs out still counts (see dueAfterPendingIo): on a
 * busy process calling that a timeout would make the replica lock fail open exactly when a
 * stampede needs it.
 */
export function bounded<T>(operation: Promise<T>, ms: number): Promise<T> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = dueAfterPendingIo(ms, () => reject(new CacheTimeout()));
  });
  operation.catch(() => undefined);
  return Promise.race([operation, timeout]).finally(() => cancel?.());
}
