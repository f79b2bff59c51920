import { ConnectorError } from '../../connectors/connector.errors.js';

/** DI token: time and randomness for the Genesys Platform client (tests inject fakes; both optional). */
export const GENESYS_PLATFORM_CLOCK = Symbol('GENESYS_PLATFORM_CLOCK');

export interface GenesysPlatformClock {
  now?: () => number;
  /** In [0, 1), like Math.random; drives the jitter. */
  random?: () => number;
}

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

/** Waits for `p`, but gives up (rejecting with a 'timeout' ConnectorError) when `signal` aborts; `p` itself keeps running. */
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

export function cancelled(source: string, cause?: unknown): ConnectorError {
  return new ConnectorError(source, 'timeout', 'cancelled or past the deadline', undefined, undefined, cause === undefined ? undefined : { cause });
}
