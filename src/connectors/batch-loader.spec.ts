import { describe, expect, it } from 'vitest';

import { BatchLoader } from './batch-loader.js';

/** A source whose calls the test answers by hand, recording the keys of each call. */
function manualSource(options: { maxBatch?: number; maxConcurrent?: number; busy?: () => boolean } = {}) {
  const calls: { keys: string[]; answer: (found: Record<string, string>) => void; fail: (err: Error) => void }[] = [];
  const sizes: number[] = [];
  const loader = new BatchLoader<string>({
    maxBatch: options.maxBatch ?? 100,
    maxConcurrent: options.maxConcurrent ?? 1,
    run: (keys) =>
      new Promise((resolve, reject) => {
        calls.push({ keys, answer: (found) => resolve(new Map(Object.entries(found))), fail: reject });
      }),
    missing: (key) => `none:${key}`,
    busy: options.busy,
    onCall: (n) => sizes.push(n),
  });
  return { loader, calls, sizes };
}

/** Lets queued microtasks (dispatches) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BatchLoader', () => {
  it('sends a lone look-up at once, as a call of one', async () => {
    const { loader, calls } = manualSource();
    const answer = loader.load('a');
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
    calls[0]!.answer({ a: 'A' });
    await expect(answer).resolves.toBe('A');
  });

  it('look-ups arriving while a call is in flight go out together in the next call', async () => {
    const { loader, calls, sizes } = manualSource();
    const first = loader.load('a');
    await settle();
    const later = ['b', 'c', 'd'].map((k) => loader.load(k));
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.answer({ a: 'A' });
    await first;
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.answer({ b: 'B', c: 'C', d: 'D' });
    await expect(Promise.all(later)).resolves.toEqual(['B', 'C', 'D']);
    expect(sizes).toEqual([1, 3]);
  });

  it('splits a batch that would exceed the most keys a call may carry', async () => {
    const { loader, calls } = manualSource({ maxBatch: 2 });
    void loader.load('a');
    await settle();
    for (const k of ['b', 'c', 'd', 'e', 'f']) void loader.load(k);
    calls[0]!.answer({});
    await settle();
    calls[1]!.answer({});
    await settle();
    calls[2]!.answer({});
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
  });

  it('answers a key the call left out with the missing value, and a key asked twice once per caller', async () => {
    const { loader, calls } = manualSource();
    const answers = Promise.all([loader.load('a'), loader.load('b'), loader.load('a')]);
    await settle();
    expect(calls[0]!.keys).toEqual(['a', 'b']);
    calls[0]!.answer({ a: 'A' });
    await expect(answers).resolves.toEqual(['A', 'none:b', 'A']);
  });

  it('a failed call fails only the look-ups it carried; the next call still goes out', async () => {
    const { loader, calls } = manualSource();
    const first = loader.load('a');
    await settle();
    const second = loader.load('b');
    calls[0]!.fail(new Error('vendor down'));
    await expect(first).rejects.toThrow('vendor down');
    await settle();
    expect(calls[1]!.keys).toEqual(['b']);
    calls[1]!.answer({ b: 'B' });
    await expect(second).resolves.toBe('B');
    expect(loader.pending).toEqual({ running: 0, queued: 0 });
  });

  it('runs up to maxConcurrent calls side by side before look-ups start to wait', async () => {
    const { loader, calls } = manualSource({ maxConcurrent: 2 });
    void loader.load('a');
    await settle();
    void loader.load('b');
    await settle();
    void loader.load('c');
    void loader.load('d');
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    expect(loader.pending).toEqual({ running: 2, queued: 1 });
    calls[1]!.answer({});
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b'], ['c', 'd']]);
  });

  it('while the source is busy (a call waits for a rate-limit slot) look-ups wait for a call to end, but the only call is never held back', async () => {
    let busy = true;
    const { loader, calls } = manualSource({ maxConcurrent: 8, busy: () => busy });
    void loader.load('a');
    await settle();
    void loader.load('b');
    void loader.load('c');
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
    busy = false;
    calls[0]!.answer({});
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c']]);
    void loader.load('d');
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('with a permit, a batch stays open until its permit comes: everyone who arrives meanwhile rides in that call, with the permit', async () => {
    const permits: Array<(slot: string) => void> = [];
    const calls: { keys: string[]; permit: string | undefined }[] = [];
    const loader = new BatchLoader<string, string>({
      maxBatch: 3,
      maxConcurrent: 1,
      permit: () => new Promise<string>((resolve) => permits.push(resolve)),
      run: async (keys, permit) => {
        calls.push({ keys, permit });
        return new Map(keys.map((k) => [k, k.toUpperCase()]));
      },
      missing: () => 'none',
    });
    const answers = ['a', 'b', 'c', 'd'].map((k) => loader.load(k));
    await settle();
    expect(calls, 'nothing goes out before its permit').toEqual([]);
    expect(permits).toHaveLength(1);
    permits[0]!('slot-1');
    await settle();
    // the first three filled a call; the fourth waits for the next call slot and then its own permit
    expect(calls).toEqual([{ keys: ['a', 'b', 'c'], permit: 'slot-1' }]);
    void loader.load('e');
    await settle();
    expect(permits).toHaveLength(2);
    permits[1]!('slot-2');
    await expect(Promise.all(answers)).resolves.toEqual(['A', 'B', 'C', 'D']);
    expect(calls[1]).toEqual({ keys: ['d', 'e'], permit: 'slot-2' });
  });

  it('refuses bounds below one', () => {
    expect(() => new BatchLoader({ maxBatch: 0, maxConcurrent: 1, run: async () => new Map(), missing: () => 0 })).toThrow(RangeError);
  });
});
