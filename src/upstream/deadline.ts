import { dueAfterPendingIo } from './timers.js';
/**
 * The one carrier of "by when": a Deadline is made once per answer (or per call that must end on
 * its own) and passed down explicitly. It holds the epoch ms by which the answer is due (`at`),
 * and makes what its users need on first use only: the AbortSignal that cancels the work (at `at`,
 * or later when the work may run on to warm the cache, or when a parent signal aborts), and the
 * promise the fan-out races against (`reached`). A cache hit makes neither.
 *
 * Where an interface carries only an AbortSignal (the connector seam, `@Resilient` methods), the
 * signal is the deadline's own and `Deadline.of(signal)` gives the deadline back, so waits for
 * rate-limit slots and retries never run past it.
 */
export interface DeadlineOptions {
  /** When the signal aborts, if not at `at` (epoch ms; a call may run on after the answer was given). */
  cancelAt?: number;
  /** The signal also aborts when this one does (shutdown, a sibling call that failed). */
  parent?: AbortSignal;
}

/** The deadline each signal was made for (only signals a Deadline made, or linked, are in it). */
const owners = new WeakMap<AbortSignal, Deadline>();

/**
 * What aborts with each parent signal. Every call's deadline hangs off one shutdown signal, so a
 * listener each on it would make adding and removing one cost as much as the listeners already
 * there (EventTarget looks through them for duplicates): thousands in a burst, quadratic. One
 * listener per parent aborts a set instead, where adding and removing cost nothing.
 */
const dependents = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` when `parent` aborts; returns the function that stops that. */
function onParentAbort(parent: AbortSignal, onAbort: () => void): () => void {
  let set = dependents.get(parent);
  if (!set) {
    const all = new Set<() => void>();
    set = all;
    dependents.set(parent, all);
    parent.addEventListener(
      'abort',
      () => {
        for (const abort of [...all]) abort();
        all.clear();
      },
      { once: true },
    );
  }
  const own = set;
  own.add(onAbort);
  return () => own.delete(onAbort);
}

export class Deadline {
  private controller: AbortController | undefined;
  private cutoff: NodeJS.Timeout | undefined;
  private detach: (() => void) | undefined;
  private due: Promise<void> | undefined;
  private cancelDue: (() => void) | undefined;

  constructor(
    /** Epoch ms by which the answer is due. */
    readonly at: number,
    private readonly options: DeadlineOptions = {},
  ) {}

  /** A deadline `ms` from now. */
  static after(ms: number, options?: DeadlineOptions): Deadline {
    return new Deadline(Date.now() + ms, options);
  }

  /** The deadline a signal was made for, if it was made by (or linked to) one. */
  static of(signal: AbortSignal | undefined): Deadline | undefined {
    return signal ? owners.get(signal) : undefined;
  }

  /** Ms left before `at` (never negative). */
  remainingMs(now: number = Date.now()): number {
    return Math.max(0, this.at - now);
  }

  /** Aborts at `cancelAt` (default `at`) or with the parent; made on first use. */
  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    owners.set(controller.signal, this);
    const parent = this.options.parent;
    if (parent?.aborted) {
      controller.abort();
      return controller.signal;
    }
    if (parent) this.detach = onParentAbort(parent, () => this.abort());
    const cancelAt = this.options.cancelAt ?? this.at;
    if (Number.isFinite(cancelAt)) {
      this.cutoff = setTimeout(() => this.abort(), Math.max(0, cancelAt - Date.now()));
      this.cutoff.unref();
    }
    return controller.signal;
  }

  /**
   * Resolves once `at` has passed — judged after the I/O already waiting then has been read (see
   * dueAfterPendingIo), so an answer already in a socket still counts as in time. One timer, made
   * on first use.
   */
  get reached(): Promise<void> {
    this.due ??= new Promise<void>((resolve) => {
      this.cancelDue = dueAfterPendingIo(this.remainingMs(), resolve);
    });
    return this.due;
  }

  /** Ends the timers and listeners this deadline made (its signal no longer aborts by itself). Call it once its work is over. */
  dispose(): void {
    clearTimeout(this.cutoff);
    this.detach?.();
    this.cancelDue?.();
    this.cutoff = this.detach = this.cancelDue = undefined;
  }

  /** Cancels the work; `reached` is left alone (it resolves at `at` whatever happened to the work). */
  private abort(): void {
    clearTimeout(this.cutoff);
    this.detach?.();
    this.cutoff = this.detach = undefined;
    this.controller?.abort();
  }
}

/** The deadline (epoch ms) a signal carries, if any: for layers that receive only the signal. */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return Deadline.of(signal)?.at;
}

/** A signal that aborts when either does, carrying the first one's deadline (e.g. calls that fail together). */
export function linkedSignal(signal: AbortSignal, other: AbortSignal): AbortSignal {
  const linked = AbortSignal.any([signal, other]);
  const deadline = Deadline.of(signal);
  if (deadline) owners.set(linked, deadline);
  return linked;
}
