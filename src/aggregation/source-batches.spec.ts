import { describe, expect, it, vi } from 'vitest';

import type { CustomerConnector, FetchResult } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
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
