import { setMaxListeners } from 'node:events';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';

import { BatchLoader } from '../connectors/batch-loader.js';
import { CONNECTORS, type CustomerConnector, type FetchResult, NOT_FOUND } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { asLive, type BackgroundWork, backgroundWork, inBackground } from '../resilience/background.js';
import { PolicyRegistry } from '../resilience/policy.registry.js';
import { Deadline } from '../upstream/deadline.js';
import { AggregationConfig } from './aggregation.config.js';

/**
 * Look-ups of one source, across customers, coalesced into batched calls (`fetchMany`): while the
 * source is busy — every call slot taken, or a call waiting for a rate-limit slot — new look-ups
 * wait and go out together in the next call; when it is idle a look-up goes out at once. A source
 * without `fetchMany` (or with a batch size of 1) is called once per customer, as before.
 *
 * A batched call is the batch's, not one caller's: it runs to the late-completion budget (its
 * results warm the cache) and waits for rate-limit slots no longer than the answer deadline of
 * the look-up that opened it.
 */
@Injectable()
export class SourceBatches implements OnApplicationShutdown {
  private readonly loaders = new Map<string, BatchLoader<FetchResult>>();
  /** Per source: the customers asked for by live look-ups and by background work (pre-fetch), until their batch goes out. */
  private readonly callers = new Map<string, { live: Set<string>; background: Map<string, BackgroundWork> }>();
  /** Every batch's deadline listens to it: as many listeners as batches in flight, so no listener cap. */
  private readonly shutdown = unboundedController();

  constructor(
    @Inject(CONNECTORS) connectors: CustomerConnector[],
    private readonly config: AggregationConfig,
    private readonly policies: PolicyRegistry,
    private readonly metrics: Metrics,
  ) {
    for (const connector of connectors) {
      const maxBatch = connector.batchMaxCustomers ?? 1;
      if (!connector.fetchMany || maxBatch <= 1) continue;
      const fetchMany = connector.fetchMany.bind(connector);
      const source = connector.source;
      // a call of one keeps the single-customer request (a read by key where the vendor has one)
      const run = async (ids: string[], signal: AbortSignal) => (ids.length === 1 ? new Map([[ids[0]!, await connector.fetch(ids[0]!, signal)]]) : fetchMany(ids, signal));
      const live = new Set<string>();
      const background = new Map<string, BackgroundWork>();
      this.callers.set(source, { live, background });
      this.loaders.set(
        source,
        new BatchLoader<FetchResult>({
          maxBatch,
          maxConcurrent: config.batchConcurrency,
          busy: () => this.policies.get(source).saturated,
          // a batch has the priority of its most urgent member: live when any look-up in it is live
          // (whoever happened to open it), background only when every one is
          run: (ids) => {
            const anyLive = ids.some((id) => live.has(id) || !background.has(id));
            const work = anyLive ? undefined : background.get(ids[0]!);
            for (const id of ids) {
              live.delete(id);
              background.delete(id);
            }
            const call = () => this.withBudget((signal) => run(ids, signal));
            return work ? inBackground(work, call) : asLive(call);
          },
          missing: () => NOT_FOUND,
          onCall: (n) => this.metrics.batchCustomers.observe({ source }, n),
        }),
      );
    }
  }

  /** This source's part of one customer's profile, batched with other customers' when the source is busy. */
  fetch(connector: CustomerConnector, customerId: string, signal: AbortSignal): Promise<FetchResult> {
    const loader = this.loaders.get(connector.source);
    if (!loader) return connector.fetch(customerId, signal);
    const callers = this.callers.get(connector.source);
    const work = backgroundWork();
    if (work) callers?.background.set(customerId, work);
    else callers?.live.add(customerId);
    return loader.load(customerId);
  }

  onApplicationShutdown(): void {
    this.shutdown.abort();
  }

  /** The batch's own deadline: answer time from now for waits, the late budget for the call itself. */
  private async withBudget<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const now = Date.now();
    const deadline = new Deadline(now + this.config.deadlineMs, { cancelAt: now + this.config.deadlineMs + this.config.lateCompletionMs, parent: this.shutdown.signal });
    try {
      return await call(deadline.signal);
    } finally {
      deadline.dispose();
    }
  }
}

function unboundedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
