import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the work running now is part of: the request (its correlation id), whether it is background
 * work, the rate-limit slot prepaid for its first call. One AsyncLocalStorage for all of them: on
 * Node 20 every promise created copies the store of each AsyncLocalStorage in use, so each one more
 * is paid on every promise of every request. Each field has its own small API (correlation.ts,
 * background.ts, prepaid-slot.ts); a nested context is a copy of the outer one with one field changed.
 */
export interface WorkContext {
  readonly correlationId?: string;
  /** Set for background work (see resilience/background.ts); the type lives there. */
  readonly background?: unknown;
  /** A slot prepaid for the first call (see resilience/prepaid-slot.ts). */
  readonly prepaid?: unknown;
}

const storage = new AsyncLocalStorage<WorkContext>();

/** The context of the work running now (empty outside any). */
export function workContext(): WorkContext {
  return storage.getStore() ?? EMPTY;
}

/** Runs `fn` (and everything it starts) in `context` as it is, dropping what the caller's context held. */
export function runInContext<T>(context: WorkContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Runs `fn` (and everything it starts) in the caller's context with `change` applied. */
export function runWith<T>(change: Partial<WorkContext>, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...change }, fn);
}

const EMPTY: WorkContext = Object.freeze({});
