import DataLoader from 'dataloader';

/** What one vendor call answered: a value (or an error of that key alone) per key it knows; keys it left out are answered by `missing`. */
export type BatchAnswer<V> = ReadonlyMap<string, V | Error>;

export interface BatchLoaderOptions<V, P = undefined> {
  /** The most keys one call carries (the vendor's documented bounds decide it; see each connector's config). */
  maxBatch: number;
  /** Calls to the source at once from this process. Look-ups arriving while all are busy join the next call. */
  maxConcurrent: number;
  /** One vendor call for these distinct keys, with what `permit` gave for it. */
  run(keys: string[], permit: P | undefined): Promise<BatchAnswer<V>>;
  /**
   * What a call needs before it may go out (e.g. a rate-limit slot), awaited before its batch
   * closes: look-ups arriving meanwhile join it (up to maxBatch), so a call that has to wait for a
   * slot carries everyone who came while it waited, not only those there when it began to wait.
   * Whatever it resolves to is given to `run`; it must not reject.
   */
  permit?(): Promise<P>;
  /** The answer for a key the call did not return (e.g. "not found"). */
  missing(key: string): V;
  /**
   * The source would make a new call wait now (e.g. for a rate-limit slot): look-ups then join
   * the next batch instead of starting calls of their own. Never holds back the only call.
   */
  busy?(): boolean;
  /**
   * The process is short of CPU: a new call then waits for a call that is out, as with `busy`,
   * but for `holdMaxMs` at most — a call slowed by that very starvation must not hold everyone
   * who came after it past their deadline. Never holds back the only call.
   */
  shortOfCpu?(): boolean;
  /** The longest a batch is held by `shortOfCpu` (ms); without it, until a call ends. */
  holdMaxMs?: number;
  /** Told the size of every call made (customers per call). */
  onCall?(keys: number): void;
}

/**
 * Coalesces look-ups of one source across customers into as few vendor calls as the source's
 * concurrency allows, with no added wait when idle: a look-up that finds a free call slot goes
 * out at once (with whatever arrived in the same tick); a look-up that finds every slot taken,
 * or the source busy (a call waiting for a rate-limit slot), joins the batch that goes out when a
 * call ends. With a `permit` (a rate-limit slot), a batch closes only once its permit is there.
 * A batch held only because the process is short of CPU goes out after `holdMaxMs` even if no call
 * has ended. One failed call fails only the look-ups it carried.
 */
export class BatchLoader<V, P = undefined> {
  private readonly loader: DataLoader<string, V>;
  private running = 0;
  private readonly queued: Held[] = [];
  /** The permit of the batch being dispatched now (DataLoader calls the batch function synchronously from dispatch). */
  private dispatching: P | undefined;

  constructor(private readonly options: BatchLoaderOptions<V, P>) {
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
    const { maxConcurrent, busy, shortOfCpu, holdMaxMs } = this.options;
    const held: Held = { start: () => this.start(dispatch) };
    if (this.running === 0 || (this.running < maxConcurrent && !busy?.() && !shortOfCpu?.())) {
      this.running += 1;
      held.start();
      return;
    }
    this.queued.push(held);
    // held for want of CPU alone (a call slot is free and the source would not make it wait)
    if (holdMaxMs !== undefined && this.running < maxConcurrent && !busy?.()) {
      held.timer = setTimeout(() => this.release(held), holdMaxMs);
      held.timer.unref();
    }
  }

  /** A batch held for want of CPU that has waited long enough: it goes out now if a call slot is free, else when a call ends. */
  private release(held: Held): void {
    const at = this.queued.indexOf(held);
    if (at < 0 || this.running >= this.options.maxConcurrent) return;
    this.queued.splice(at, 1);
    this.running += 1;
    held.start();
  }

  /** Sends the batch once its permit is there; until then it stays open to new look-ups. */
  private start(dispatch: () => void): void {
    const permit = this.options.permit;
    if (!permit) {
      // a new batch is scheduled before its first key is added: let this tick's look-ups join it
      queueMicrotask(dispatch);
      return;
    }
    void permit().then((granted) => {
      this.dispatching = granted;
      try {
        dispatch();
      } finally {
        this.dispatching = undefined;
      }
    });
  }

  private async call(keys: readonly string[]): Promise<(V | Error)[]> {
    const permit = this.dispatching;
    this.dispatching = undefined;
    try {
      const distinct = [...new Set(keys)];
      this.options.onCall?.(distinct.length);
      const answer = await this.options.run(distinct, permit);
      return keys.map((key) => (answer.has(key) ? (answer.get(key) as V | Error) : this.options.missing(key)));
    } finally {
      const next = this.queued.shift();
      if (next) {
        clearTimeout(next.timer);
        next.start();
      } else {
        this.running -= 1;
      }
    }
  }
}

/** A batch waiting for a call slot, and the timer that ends a hold for want of CPU. */
interface Held {
  start(): void;
  timer?: NodeJS.Timeout;
}
