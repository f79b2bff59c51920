import { setMaxListeners } from 'node:events';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';

import { BatchLoader } from '../connectors/batch-loader.js';
import { CONNECTORS, type CustomerConnector, type FetchResult, NOT_FOUND } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
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
      // a call of one keeps the single-customer request (a read by key where the vendor has one)
      const run = async (ids: string[], signal: AbortSignal) => (ids.length === 1 ? new Map([[ids[0]!, await connector.fetch(ids[0]!, signal)]]) : fetchMany(ids, signal));
      const source = connector.source;
      this.loaders.set(
        source,
        new BatchLoader<FetchResult>({
          maxBatch,
          maxConcurrent: config.batchConcurrency,
          busy: () => this.policies.get(source).saturated,
          run: (ids) => this.withBudget((signal) => run(ids, signal)),
          missing: () => NOT_FOUND,
          onCall: (n) => this.metrics.batchCustomers.observe({ source }, n),
        }),
      );
    }
  }

  /** This source's part of one customer's profile, batched with other customers' when the source is busy. */
  fetch(connector: CustomerConnector, customerId: string, signal: AbortSignal): Promise<FetchResult> {
    const loader = this.loaders.get(connector.source);
    return loader ? loader.load(customerId) : connector.fetch(customerId, signal);
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
