import { setMaxListeners } from 'node:events';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';

import { BatchLoader } from '../connectors/batch-loader.js';
import { CONNECTORS, type CustomerConnector, type FetchResult, NOT_FOUND } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { asLive, type BackgroundWork, backgroundWork, inBackground } from '../resilience/background.js';
import { LoopLoad } from '../resilience/loop-load.js';
import { PolicyRegistry } from '../resilience/policy.registry.js';
import { PrepaidSlot, withPrepaidSlot } from '../resilience/prepaid-slot.js';
import type { SourcePolicy } from '../resilience/source-policy.js';
import { Deadline } from '../upstream/deadline.js';
import { AggregationConfig } from './aggregation.config.js';

/**
 * Short of CPU, a batch waits for the call that is out at most this share of the answer deadline
 * (200 ms of 800): a call slowed by the starvation itself then no longer holds everyone who came
 * after it past their deadline, and the calls still start at most one per hold while it lasts.
 */
const HOLD_SHARE_OF_DEADLINE = 0.25;

/**
 * Look-ups of one source, across customers, coalesced into batched calls (`fetchMany`): while the
 * source is busy — every call slot taken, or a call waiting for a rate-limit slot — new look-ups
 * wait and go out together in the next call; when it is idle a look-up goes out at once. A source
 * without `fetchMany` (or with a batch size of 1) is called once per customer, as before.
 *
 * A batch takes its rate-limit slot first and closes its list of customers only then, so a burst
 * waiting for the system's next second goes out as one call of everyone who came meanwhile, not as
 * many small calls that each wait for a slot of their own (5 calls a second serve 5 × 500 callers).
 * A batched call is the batch's, not one caller's: it waits for its slot no longer than the answer
 * deadline of the look-up that opened it, and runs to the late-completion budget (its results warm
 * the cache).
 *
 * Short of CPU (the event loop busy at BATCH_BUSY_LOOP_PERCENT or more), each source has one call
 * at a time in this process: a call's fixed cost (HTTP, parsing, slots, spans) is then what the
 * burst cannot afford, and the look-ups that come while it is out go together in the next one —
 * unless the call is out for longer than a quarter of the deadline: the next batch then goes out
 * beside it (a starved call must not make everyone behind it miss their deadline).
 */
@Injectable()
export class SourceBatches implements OnApplicationShutdown {
  private readonly loaders = new Map<string, BatchLoader<FetchResult, Permit>>();
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
    const loop = new LoopLoad(config.batchBusyLoopPercent);
    const holdMaxMs = Math.round(config.deadlineMs * HOLD_SHARE_OF_DEADLINE);
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
      const policy = () => this.policies.get(source);
      this.loaders.set(
        source,
        new BatchLoader<FetchResult, Permit>({
          maxBatch,
          maxConcurrent: config.batchConcurrency,
          busy: () => policy().saturated,
          shortOfCpu: () => {
            if (!loop.busy) return false;
            this.metrics.batchHeldShortOfCpu.inc({ source });
            return true;
          },
          holdMaxMs,
          // the slot is taken at the priority of those waiting when the batch opens: live when any
          // is, else as background work (a spare slot or none)
          permit: () => this.permit(policy(), live.size > 0 ? undefined : background.values().next().value, connector.callsPerBatch ?? 1),
          // a batch has the priority of its most urgent member: live when any look-up in it is live
          // (whoever happened to open it), background only when every one is
          run: (ids, permit) => {
            const anyLive = ids.some((id) => live.has(id) || !background.has(id));
            const work = anyLive ? undefined : background.get(ids[0]!);
            for (const id of ids) {
              live.delete(id);
              background.delete(id);
            }
            const call = () => this.withBudget(permit, (signal) => run(ids, signal), anyLive);
            const paid = permit?.slot ? () => withPrepaidSlot(permit.slot!, call) : call;
            return work ? inBackground(work, paid) : asLive(paid);
          },
          missing: () => NOT_FOUND,
          onCall: (n) => this.metrics.batchCustomers.observe({ source }, n),
        }),
      );
    }
  }

  /** This source's part of one customer's profile, batched with other customers' when the source is busy. */
  fetch(connector: CustomerConnector, customerId: string, signal: AbortSignal): Promise<FetchResult> {
    const source = connector.source;
    const loader = this.loaders.get(source);
    if (!loader) return connector.fetch(customerId, signal);
    const callers = this.callers.get(source);
    const work = backgroundWork();
    if (work) {
      callers?.background.set(customerId, work);
      if (work.lingerMs) return this.linger(source, loader, customerId, work.lingerMs);
      return loader.load(customerId);
    }
    callers?.live.add(customerId);
    const answer = loader.load(customerId);
    // background look-ups waiting to be batched go in this live look-up's call
    this.lingering.get(source)?.flush();
    return answer;
  }

  /**
   * A live look-up needs this customer's part of `source` now (it may have joined the call of
   * background work already under way for it in the cache): a background look-up of it still
   * waiting to be batched goes out at once, with everyone waiting with it, and counts as live from
   * now on (its batch takes a live slot, or seeks one when its spare slot was refused). Nothing when
   * no background look-up of the customer is pending, or when the caller is background work itself.
   */
  hurry(source: string, customerId: string): void {
    const callers = this.callers.get(source);
    if (!callers?.background.has(customerId) || backgroundWork() !== undefined) return;
    callers.live.add(customerId);
    this.lingering.get(source)?.flush();
  }

  /** Per source: background look-ups waiting to be batched (see BackgroundWork.lingerMs). */
  private readonly lingering = new Map<string, Lingering>();

  /** Holds a background look-up up to `ms` (the first one waiting sets the time), then loads every one waiting at once: one batch. */
  private linger(source: string, loader: BatchLoader<FetchResult, Permit>, customerId: string, ms: number): Promise<FetchResult> {
    let waiting = this.lingering.get(source);
    if (!waiting) {
      const held = new Map<string, Array<(answer: Promise<FetchResult>) => void>>();
      const flush = () => {
        clearTimeout(timer);
        if (this.lingering.get(source) === group) this.lingering.delete(source);
        for (const [id, resolvers] of held) {
          const answer = loader.load(id);
          for (const resolve of resolvers) resolve(answer);
        }
      };
      const timer = setTimeout(flush, ms);
      const group: Lingering = { held, flush };
      this.lingering.set(source, (waiting = group));
    }
    const resolvers = waiting.held.get(customerId) ?? [];
    waiting.held.set(customerId, resolvers);
    return new Promise<FetchResult>((resolve) => resolvers.push((answer) => resolve(answer)));
  }

  onApplicationShutdown(): void {
    for (const waiting of [...this.lingering.values()]) waiting.flush();
    this.shutdown.abort();
  }

  /** The batch's own deadline, from when it opened: answer time for waits, the late budget for the call itself. */
  private deadline(): Deadline {
    const now = Date.now();
    return new Deadline(now + this.config.deadlineMs, { cancelAt: now + this.config.deadlineMs + this.config.lateCompletionMs, parent: this.shutdown.signal });
  }

  /** The slots of the batch opening now (one per call it makes at once), taken within its deadline; never rejects (a refusal is kept for the call). */
  private async permit(policy: SourcePolicy, background: BackgroundWork | undefined, calls: number): Promise<Permit> {
    const deadline = this.deadline();
    try {
      const taken = await policy.reserveSlot(deadline.signal, background, calls);
      return { deadline, background: background !== undefined, ...(taken > 0 ? { slot: new PrepaidSlot(taken) } : {}) };
    } catch (err) {
      return { deadline, background: background !== undefined, refused: err };
    }
  }

  /**
   * Runs the batch's call under its deadline. When its slot was refused, the call fails the same
   * way — unless the slot was sought as background work and a live look-up has joined since: that
   * call then seeks a slot of its own, as a live one.
   */
  private async withBudget<T>(permit: Permit | undefined, call: (signal: AbortSignal) => Promise<T>, live: boolean): Promise<T> {
    const deadline = permit?.deadline ?? this.deadline();
    try {
      if (permit?.refused !== undefined && !(live && permit.background)) throw permit.refused;
      return await call(deadline.signal);
    } finally {
      deadline.dispose();
    }
  }
}

/** Background look-ups of one source waiting to be batched, and what sends them now. */
interface Lingering {
  held: Map<string, Array<(answer: Promise<FetchResult>) => void>>;
  flush(): void;
}

/** What a batch got before it closed: its deadline (from when it opened) and its slot, or why there is none. */
interface Permit {
  deadline: Deadline;
  /** Sought as background work (a spare slot or none). */
  background: boolean;
  slot?: PrepaidSlot;
  refused?: unknown;
}

function unboundedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
