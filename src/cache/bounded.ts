export class CacheTimeout extends Error {
  constructor() {
    super('cache operation timed out');
  }
}

/** Bounds a cache operation: Redis being slow must cost a miss, never the caller's deadline. */
export function bounded<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheTimeout()), ms);
  });
  operation.catch(() => undefined);
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
