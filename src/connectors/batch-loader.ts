import DataLoader from 'dataloader';

/** What one vendor call answered: a value (or an error of that key alone) per key it knows; keys it left out are answered by `missing`. */
export type BatchAnswer<V> = ReadonlyMap<string, V | Error>;

export interface BatchLoaderOptions<V> {
  /** The most keys one call carries (the vendor's documented bounds decide it; see each connector's config). */
  maxBatch: number;
  /** Calls to the source at once from this process. Look-ups arriving while all are busy join the next call. */
  maxConcurrent: number;
  /** One vendor call for these distinct keys. */
  run(keys: string[]): Promise<BatchAnswer<V>>;
  /** The answer for a key the call did not return (e.g. "not found"). */
  missing(key: string): V;
  /**
   * The source would make a new call wait now (e.g. for a rate-limit slot): look-ups then join
   * the next batch instead of starting calls of their own. Never holds back the only call.
   */
  busy?(): boolean;
  /** Told the size of every call made (customers per call). */
  onCall?(keys: number): void;
}

/**
 * Coalesces look-ups of one source across customers into as few vendor calls as the source's
 * concurrency allows, with no added wait when idle: a look-up that finds a free call slot goes
 * out at once (with whatever arrived in the same tick); a look-up that finds every slot taken,
 * or the source busy (a call waiting for a rate-limit slot), joins the batch that goes out when a
 * call ends. One failed call fails only the look-ups it carried.
 */
export class BatchLoader<V> {
  private readonly loader: DataLoader<string, V>;
  private running = 0;
  private readonly queued: (() => void)[] = [];

  constructor(private readonly options: BatchLoaderOptions<V>) {
    if (!(options.maxBatch >= 1 && options.maxConcurrent >= 1)) throw new RangeError('maxBatch and maxConcurrent must be at least 1');
    this.loader = new DataLoader<string, V>((keys) => this.call(keys), {
      cache: false,
      maxBatchSize: options.maxBatch,
      batchScheduleFn: (dispatch) => this.schedule(dispatch),
    });
  }

  load(key: string): Promise<V> {
    return this.loader.load(key);
  }

  /** Calls running now, and batches formed and waiting for a call slot. */
  get pending(): { running: number; queued: number } {
    return { running: this.running, queued: this.queued.length };
  }

  private schedule(dispatch: () => void): void {
    if (this.running === 0 || (this.running < this.options.maxConcurrent && !this.options.busy?.())) {
      this.running += 1;
      // a new batch is scheduled before its first key is added: let this tick's look-ups join it
      queueMicrotask(dispatch);
    } else {
      this.queued.push(dispatch);
    }
  }

  private async call(keys: readonly string[]): Promise<(V | Error)[]> {
    try {
      const distinct = [...new Set(keys)];
      this.options.onCall?.(distinct.length);
      const answer = await this.options.run(distinct);
      return keys.map((key) => (answer.has(key) ? (answer.get(key) as V | Error) : this.options.missing(key)));
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
