import { UpstreamError } from './upstream-error.js';

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

/** The error of a call given up because its signal aborted (cancelled, or past its deadline). */
export function cancelled(source: string, cause?: unknown): UpstreamError {
  return new UpstreamError(source, 'timeout', 'cancelled or past the deadline', undefined, undefined, cause === undefined ? undefined : { cause });
}

/** Waits for `p`, but gives up (rejecting with a 'timeout' UpstreamError) when `signal` aborts; `p` itself keeps running. */
export function unlessAborted<T>(source: string, p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(cancelled(source));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled(source));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
