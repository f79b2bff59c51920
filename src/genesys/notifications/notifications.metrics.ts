import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { Metrics } from '../../observability/metrics.js';

/** What the queue subscription and the pre-fetch report, on the service's one registry. */
@Injectable()
export class NotificationMetrics {
  readonly events: Counter<'kind'>;
  readonly connects: Counter<'reason'>;
  readonly disconnectedSeconds: Counter;
  readonly missedEvents: Counter;
  readonly channels: Gauge;
  readonly topics: Gauge;
  readonly leaseHeld: Gauge;
  readonly leaseChanges: Counter<'to'>;
  readonly prefetches: Counter<'kind' | 'outcome'>;
  readonly panelHits: Counter;
  readonly tracked: Gauge;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.events = new Counter({ name: 'c360_notifications_events_total', help: 'Messages received on the Genesys notification channels: conversation (a queue conversation event), heartbeat, pong, socket_closing, other; not_holder = an event this replica dropped because it no longer held the lease', labelNames: ['kind'], registers });
    this.connects = new Counter({ name: 'c360_notifications_channel_connects_total', help: 'WebSocket connections of notification channels, by why: start, reconnect (after a drop or silence), renew (before the 24 h channel end), socket_closing (Genesys maintenance), topics (the queue list changed)', labelNames: ['reason'], registers });
    this.disconnectedSeconds = new Counter({ name: 'c360_notifications_disconnected_seconds_total', help: 'Time a channel that should have been connected was not (events meanwhile are lost: Genesys does not replay them), including a lease handover', registers });
    this.missedEvents = new Counter({ name: 'c360_notifications_missed_events_estimate_total', help: 'Estimate of queue conversation events missed while disconnected: the time not connected times the event rate seen while connected', registers });
    this.channels = new Gauge({ name: 'c360_notifications_channels', help: 'Notification channels this replica keeps open now (one per 1,000 topics)', registers });
    this.topics = new Gauge({ name: 'c360_notifications_topics', help: 'Queue topics subscribed now', registers });
    this.leaseHeld = new Gauge({ name: 'c360_notifications_lease_held', help: '1 on the replica holding the subscription lease, else 0', registers });
    this.leaseChanges = new Counter({ name: 'c360_notifications_lease_changes_total', help: 'This replica took (acquired) or gave up (released, lost) the subscription lease', labelNames: ['to'], registers });
    this.prefetches = new Counter({ name: 'c360_prefetch_total', help: 'Pre-fetches (kind=prefetch) and refresh-ahead runs (kind=refresh) by outcome: ready (every source answered), partial (some source gave no fresh answer: no spare budget, down; tried again), deferred (the phone look-up itself had no spare budget or failed; tried again), unknown_caller, withheld', labelNames: ['kind', 'outcome'], registers });
    this.panelHits = new Counter({ name: 'c360_prefetch_panel_hits_total', help: 'Side-panel look-ups by conversation that found the caller the pre-fetch had mapped (no Genesys call)', registers });
    this.tracked = new Gauge({ name: 'c360_prefetch_active_conversations', help: 'Active conversations whose caller is kept fresh (refresh-ahead)', registers });
  }
}
