import { describe, expect, it, vi } from 'vitest';

import type { CustomerConnector, FetchResult } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { type BackgroundWork, inBackground } from '../resilience/background.js';
import type { PolicyRegistry } from '../resilience/policy.registry.js';
import { AggregationConfig } from './aggregation.config.js';
import { SourceBatches } from './source-batches.js';

/**
 * When a new batched call may start, built with `new` and fakes: a connector whose calls stay out
 * until the test answers them, and a policy that never makes a call wait (no rate limit, a free
 * bulkhead), so only BATCH_CONCURRENCY and the process's CPU decide.
 */

/** A batching connector whose calls are answered by the test. */
class HeldConnector implements CustomerConnector {
  readonly source = 'crm';
  readonly enabled = true;
  readonly batchMaxCustomers = 100;
  /** The customers of each call, in the order the calls went out. */
  readonly calls: string[][] = [];
  private readonly answers: Array<() => void> = [];

  fetch(customerId: string): Promise<FetchResult> {
    return this.hold([customerId]).then((m) => m.get(customerId) as FetchResult);
  }

  fetchMany(customerIds: readonly string[]): Promise<Map<string, FetchResult | Error>> {
    return this.hold([...customerIds]);
  }

  /** Answers the oldest call still out. */
  answerNext(): void {
    this.answers.shift()?.();
  }

  private hold(ids: string[]): Promise<Map<string, FetchResult | Error>> {
    this.calls.push(ids);
    return new Promise((resolve) => this.answers.push(() => resolve(new Map(ids.map((id) => [id, { found: true, data: { accountName: id } }])))));
  }
}

const accountName = (r: FetchResult) => (r.found ? r.data.accountName : undefined);

const neverWaits = { get: () => ({ saturated: false, reserveSlot: () => Promise.resolve(0) }) } as unknown as PolicyRegistry;

/** Lets every pending promise job and one I/O turn run: what arrives "later" than the look-ups before. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Each customer looked up in a turn of its own (after the calls of the ones before have gone out, or been held). */
async function oneTurnEach(lookUp: (id: string) => Promise<FetchResult>, ids: string[]): Promise<Array<Promise<FetchResult>>> {
  const answers: Array<Promise<FetchResult>> = [];
  for (const id of ids) {
    answers.push(lookUp(id));
    await nextTurn();
  }
  return answers;
}

function batches(busyLoopPercent: number) {
  const connector = new HeldConnector();
  const config = Object.assign(new AggregationConfig(), { batchConcurrency: 4, batchBusyLoopPercent: busyLoopPercent });
  const metrics = new Metrics();
  const sourceBatches = new SourceBatches([connector], config, neverWaits, metrics);
  const signal = new AbortController().signal;
  const lookUp = (id: string): Promise<FetchResult> => sourceBatches.fetch(connector, id, signal);
  /** Batches that waited for the call in flight because the process was short of CPU. */
  const heldShortOfCpu = async () => (await metrics.batchHeldShortOfCpu.get()).values.find((v) => v.labels.source === 'crm')?.value ?? 0;
  return { connector, lookUp, heldShortOfCpu };
}

describe('SourceBatches: calls at once per source', () => {
  it('with CPU to spare, a look-up that finds a call out starts one of its own (up to BATCH_CONCURRENCY)', async () => {
    const { connector, lookUp, heldShortOfCpu } = batches(100);
    const answers = await oneTurnEach(lookUp, ['a', 'b', 'c']);

    expect(connector.calls).toEqual([['a'], ['b'], ['c']]);
    expect(await heldShortOfCpu()).toBe(0);
    for (let i = 0; i < 3; i++) connector.answerNext();
    expect((await Promise.all(answers)).map(accountName)).toEqual(['a', 'b', 'c']);
  });

  it('short of CPU, a source has one call out at a time: those who come meanwhile go together in the next', async () => {
    const { connector, lookUp, heldShortOfCpu } = batches(0);
    const answers = await oneTurnEach(lookUp, ['a', 'b', 'c']);
    // the first went out at once, alone (the only call is never held back); b's batch waited, and c joined it
    expect(connector.calls).toEqual([['a']]);
    expect(await heldShortOfCpu()).toBe(1);

    connector.answerNext();
    await nextTurn();
    expect(connector.calls).toEqual([['a'], ['b', 'c']]);
    connector.answerNext();
    expect((await Promise.all(answers)).map(accountName)).toEqual(['a', 'b', 'c']);
  });

  it('short of CPU, a batch held behind a call that stays out goes out beside it once it has waited a quarter of the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connector, lookUp } = batches(0); // the default deadline, 800 ms: held 200 ms at most
      const answers = await oneTurnEach(lookUp, ['a', 'b', 'c']);
      expect(connector.calls).toEqual([['a']]);

      await vi.advanceTimersByTimeAsync(199);
      expect(connector.calls).toEqual([['a']]);
      await vi.advanceTimersByTimeAsync(1);
      // a's call is still out (starved, say): b and c do not wait for it any longer
      expect(connector.calls).toEqual([['a'], ['b', 'c']]);

      connector.answerNext();
      connector.answerNext();
      expect((await Promise.all(answers)).map(accountName)).toEqual(['a', 'b', 'c']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('SourceBatches: background look-ups that may wait to be batched (BackgroundWork.lingerMs)', () => {
  const LINGER: BackgroundWork = { reserveFraction: 0.3, refreshAheadMs: 1000, lingerMs: 250 };
  const inTheBackground = (lookUp: (id: string) => Promise<FetchResult>, work: BackgroundWork) => (id: string) => inBackground(work, () => lookUp(id));

  it('wait from the first one for lingerMs, then go out together in one call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connector, lookUp } = batches(100);
      const answers = await oneTurnEach(inTheBackground(lookUp, LINGER), ['a', 'b', 'c']);
      await vi.advanceTimersByTimeAsync(249);
      expect(connector.calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(connector.calls).toEqual([['a', 'b', 'c']]);
      connector.answerNext();
      expect((await Promise.all(answers)).map(accountName)).toEqual(['a', 'b', 'c']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a live look-up of the system meanwhile takes every one waiting along in its call, at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connector, lookUp } = batches(100);
      const waiting = await oneTurnEach(inTheBackground(lookUp, LINGER), ['a', 'b', 'a']);
      const live = lookUp('x');
      await nextTurn();
      expect(connector.calls).toEqual([['x', 'a', 'b']]);
      connector.answerNext();
      expect((await Promise.all([live, ...waiting])).map(accountName)).toEqual(['x', 'a', 'b', 'a']);
      await vi.advanceTimersByTimeAsync(250);
      expect(connector.calls).toHaveLength(1); // nothing was left to go out at the end of the linger
    } finally {
      vi.useRealTimers();
    }
  });

  it('background work without lingerMs (the pre-fetch) goes out at once, as a live look-up does', async () => {
    const { connector, lookUp } = batches(100);
    const answers = await oneTurnEach(inTheBackground(lookUp, { reserveFraction: 0.3, refreshAheadMs: 1000 }), ['a', 'b']);
    expect(connector.calls).toEqual([['a'], ['b']]);
    connector.answerNext();
    connector.answerNext();
    expect((await Promise.all(answers)).map(accountName)).toEqual(['a', 'b']);
  });
});

describe('SourceBatches.hurry: a live look-up needs a customer a background look-up is waiting for', () => {
  const LINGER: BackgroundWork = { reserveFraction: 0.3, refreshAheadMs: 1000, lingerMs: 250 };

  /** A policy that grants every slot at once and records whether each was sought as background work. */
  function recording() {
    const sought: boolean[] = [];
    const policies = { get: () => ({ saturated: false, reserveSlot: (_signal: AbortSignal, background?: BackgroundWork) => (sought.push(background !== undefined), Promise.resolve(0)) }) } as unknown as PolicyRegistry;
    const connector = new HeldConnector();
    const sourceBatches = new SourceBatches([connector], Object.assign(new AggregationConfig(), { batchBusyLoopPercent: 100 }), policies, new Metrics());
    const signal = new AbortController().signal;
    return { connector, sourceBatches, sought, inBackground: (id: string) => inBackground(LINGER, () => sourceBatches.fetch(connector, id, signal)) };
  }

  it('sends it at once, with everyone waiting with it, as a live call (a live slot)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connector, sourceBatches, sought, inBackground: lookUp } = recording();
      const waiting = await oneTurnEach(lookUp, ['a', 'b']);
      expect(connector.calls).toEqual([]);
      sourceBatches.hurry('crm', 'b');
      await nextTurn();
      expect(connector.calls).toEqual([['a', 'b']]);
      expect(sought).toEqual([false]);
      connector.answerNext();
      expect((await Promise.all(waiting)).map(accountName)).toEqual(['a', 'b']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does nothing for a customer no background look-up waits for, nor when called by background work', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { connector, sourceBatches, sought, inBackground: lookUp } = recording();
      const waiting = await oneTurnEach(lookUp, ['a']);
      sourceBatches.hurry('crm', 'z');
      sourceBatches.hurry('other', 'a');
      await inBackground(LINGER, () => Promise.resolve(sourceBatches.hurry('crm', 'a')));
      await nextTurn();
      expect(connector.calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(250);
      expect(connector.calls).toEqual([['a']]);
      expect(sought).toEqual([true]); // background work alone: a spare slot
      connector.answerNext();
      await Promise.all(waiting);
    } finally {
      vi.useRealTimers();
    }
  });
});
