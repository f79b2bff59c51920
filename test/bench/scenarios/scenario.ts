/** What every scenario gets and gives back, and the settings they share. */
import { SANDBOX_INBOUND } from '../../sandbox/shared/credentials.js';
import type { CallStats } from '../../sandbox/shared/sim-server.js';
import type { BenchOptions, ScenarioName } from '../args.js';
import type { Call } from '../load.js';
import type { Sample } from '../load.js';
import type { Rig } from '../rig.js';
import type { CrmName } from '../sim-protocol.js';
import type { Tally } from '../stats.js';
import { count, emptyTally, type LatencySummary,summarize } from '../stats.js';
import type { LatencyBar, RateChart } from '../svg.js';
import { num, type Row } from '../table.js';

export interface Context {
  rig: Rig;
  options: BenchOptions;
  /** Customer numbers the simulators hold, in seed order (the first 60 are the demo customers). */
  customerIds: readonly string[];
  log: (message: string) => void;
}

export interface ScenarioResult {
  name: ScenarioName;
  rows: Row[];
  latency: LatencyBar[];
  storm?: RateChart[];
  notes: string[];
  /** Everything measured, for results.json. */
  raw: Record<string, unknown>;
}

/** CRM rate limits high enough never to shape a run that is not about them. */
export const GENEROUS_LIMITS: Record<string, string> = {
  SALESFORCE_RATE_LIMIT_PER_SEC: '10000',
  SAP_RATE_LIMIT_PER_SEC: '10000',
  SERVICENOW_RATE_LIMIT_PER_SEC: '10000',
};

/** The production defaults (README "Resilience"), used by the storm. */
export const DEFAULT_LIMITS: Readonly<Record<CrmName, number>> = { salesforce: 5, sap: 20, servicenow: 10 };

/** The aggregation deadline the service runs with (its default). */
export const DEADLINE_MS = 800;

/** Fixed simulator latencies (no jitter) for runs that call the CRMs: the slowest, SAP, bounds an answer. */
export const FIXED_LATENCY: Readonly<Record<CrmName, number>> = { salesforce: 20, sap: 50, servicenow: 35 };

/** One service process whose cache entries outlive any run (the cache-hit, cold, slow-SAP and soak scenarios). */
export const SINGLE_REPLICA_ENV: Record<string, string> = { ...GENEROUS_LIMITS, CACHE_FRESH_TTL_MS: '3600000' };

/**
 * The 3-replica scenarios that are not about rate limits (stampede, shift change, drills): limits
 * lifted; a short freshness so the drills' look-ups keep calling the CRMs with a stale copy to fall
 * back on; a 5 s shutdown grace, after 1 s of still accepting once readiness is 503 (what the
 * chart's preStop sleep does in Kubernetes, here for the bench's readiness-following balancer,
 * which probes every 250 ms); the Genesys token refreshed in the background 3 s after issue (the
 * simulator's tokens live 600 s).
 */
export const GENESYS_TOKEN_LIFETIME_S = 600;
export const MULTI_REPLICA_ENV: Record<string, string> = {
  ...GENEROUS_LIMITS,
  CACHE_FRESH_TTL_MS: '5000',
  SHUTDOWN_GRACE_MS: '5000',
  SHUTDOWN_DELAY_MS: '1000',
  GENESYS_TOKEN_REFRESH_BEFORE_MS: String((GENESYS_TOKEN_LIFETIME_S - 3) * 1000),
};

export const HOT_CUSTOMER = '0010100001';
export const HOT_PHONE = '+14155550100';

export const CRM_TITLES: Readonly<Record<CrmName, string>> = { salesforce: 'Salesforce', sap: 'SAP S/4HANA', servicenow: 'ServiceNow' };

/** A simulator's routes that are not look-ups (the vendor's log-in). */
export const NOT_LOOKUPS: ReadonlySet<string> = new Set(['token']);

/** A CRM's look-up calls in `stats` (since its counters were reset): how many, the customers they carried, and both as a cell. */
export function customersPerCall(crm: CrmName, stats: CallStats): { calls: number; keys: number; text: string } {
  const lookups = Object.entries(stats.batches).filter(([route]) => !NOT_LOOKUPS.has(route));
  const calls = lookups.reduce((a, [, b]) => a + b.calls, 0);
  const keys = lookups.reduce((a, [, b]) => a + b.keys, 0);
  return { calls, keys, text: `${CRM_TITLES[crm]} ${num(keys / Math.max(1, calls), 1)} (${calls} calls)` };
}

/** A timed phase: --duration wins, else the scenario's full or quick default. */
export function seconds(ctx: Context, full: number, quick: number): number {
  return ctx.options.durationS ?? (ctx.options.quick ? quick : full);
}

/** Customers present in every system, for look-ups that must be cold (the generated ones after the 60 demo customers). */
export function coldPool(ctx: Context): readonly string[] {
  return ctx.customerIds.slice(60);
}

export function actionCall(token: string, body: Record<string, string>, kind = 'lookup'): Call {
  return {
    method: 'POST',
    path: '/genesys/v1/customer-lookup',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    kind,
  };
}

export function apiKeyHeaders(): Record<string, string> {
  return { 'content-type': 'application/json', 'x-api-key': SANDBOX_INBOUND.apiKey };
}

export function tallyOf(samples: readonly Sample[], kind?: string): Tally {
  const tally = emptyTally();
  for (const s of samples) if (kind === undefined || s.kind === kind) count(tally, s.outcome, s.status);
  return tally;
}

/** Latency of the answered (200) requests. */
export function answeredLatency(samples: readonly Sample[], kind?: string): LatencySummary {
  return summarize(samples.filter((s) => (kind === undefined || s.kind === kind) && s.status === '200').map((s) => s.latencyMs));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** "1,000 sent · 1,000 × 200 (ok 990, degraded 10) · 0 failed" */
export function tallyText(t: Tally): string {
  const failed = t.failed === 0 ? '0 failed' : `${t.failed} failed (${Object.entries(t.byStatus).filter(([k]) => k !== '200').map(([k, v]) => `${k} ×${v}`).join(', ')})`;
  return `${t.sent.toLocaleString('en-US')} sent · ${t.answered.toLocaleString('en-US')} × 200 (ok ${t.ok}, degraded ${t.degraded}${t.notFound ? `, not found ${t.notFound}` : ''}) · ${failed}`;
}

/**
 * A counter summed over the replicas' `/metrics`, by its labels joined with a space (`line`
 * matches one sample: the labels' values as groups, the count last).
 */
async function scrapedTotals(urls: readonly string[], token: string, line: RegExp): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    for (const m of text.matchAll(line)) {
      const key = m.slice(1, -1).join(' ');
      totals.set(key, (totals.get(key) ?? 0) + Number(m[m.length - 1]));
    }
  }
  return totals;
}

/** Each replica's `c360_source_results_total`, summed: "sap timeout" → answers that marked SAP so. */
export function sourceStatuses(urls: readonly string[], token: string): Promise<Map<string, number>> {
  return scrapedTotals(urls, token, /^c360_source_results_total\{source="([^"]+)",status="([^"]+)"\} (\d+)$/gm);
}

/** A counter labelled by source only (e.g. c360_rate_limit_late_slots_total), summed over the replicas: source → count. */
export function counterBySource(urls: readonly string[], token: string, metric: string): Promise<Map<string, number>> {
  return scrapedTotals(urls, token, new RegExp(`^${metric}\\{source="([^"]+)"\\} (\\d+)$`, 'gm'));
}

/** What a burst added to the statuses: "sap: timeout 900, rate_limited 50" for every source not only ok. */
export function statusesText(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): string {
  const bySource = new Map<string, string[]>();
  for (const [key, value] of after) {
    const [source, status] = key.split(' ') as [string, string];
    const added = value - (before.get(key) ?? 0);
    if (added <= 0 || status === 'ok' || status === 'not_found') continue;
    bySource.set(source, [...(bySource.get(source) ?? []), `${status} ${added}`]);
  }
  return [...bySource].map(([source, parts]) => `${source}: ${parts.join(', ')}`).join('; ');
}
