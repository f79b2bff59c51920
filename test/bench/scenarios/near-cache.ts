/**
 * 9. Near cache: (a) the Redis drill with production limits and a warm cache — 3 replicas, steady
 * look-ups over 50 warm customers, Redis killed for 10 s and restarted empty: failed requests,
 * share of degraded answers, CRM calls per second against each limit; (b) memory — one replica with
 * a small NEAR_CACHE_MAX_ENTRIES looked up for many distinct customers: the near cache's size (its
 * own gauges on /metrics) stays within the bound.
 */
import { Balancer, runPaced, runPool, Target, type Sample } from '../load.js';
import { BENCH_METRICS_TOKEN, type Replica } from '../rig.js';
import { CRM_NAMES } from '../sim-protocol.js';
import { busiestSecond, metricValue } from '../stats.js';
import { ms, num, percent, type Row } from '../table.js';
import type { LatencyBar } from '../svg.js';
import { actionCall, answeredLatency, coldPool, CRM_TITLES, DEFAULT_LIMITS, FIXED_LATENCY, GENEROUS_LIMITS, MULTI_REPLICA_ENV, SINGLE_REPLICA_ENV, sleep, tallyOf, tallyText, type Context, type ScenarioResult } from './scenario.js';

const SCENARIO = '9. Near cache';
const WARM_CUSTOMERS = 50;
const RATE = 60;
const OUTAGE_S = 10;
/** The production defaults: limits and freshness (30 s), so a warm cache stays fresh through the outage unless it was about to expire. */
const PRODUCTION_ENV: Record<string, string> = {
  ...MULTI_REPLICA_ENV,
  CACHE_FRESH_TTL_MS: '30000',
  SALESFORCE_RATE_LIMIT_PER_SEC: String(DEFAULT_LIMITS.salesforce),
  SAP_RATE_LIMIT_PER_SEC: String(DEFAULT_LIMITS.sap),
  SERVICENOW_RATE_LIMIT_PER_SEC: String(DEFAULT_LIMITS.servicenow),
};
/** The soak's bound: small, so that it is reached many times over. */
const SOAK_MAX_ENTRIES = 500;

/** Looks every customer up on replica 0 until each answer is whole (production limits: a few rounds), then once on the others. */
async function warm(ctx: Context, replicas: Replica[], token: string, customers: readonly string[]): Promise<number> {
  let pending = [...customers];
  for (let round = 0; round < 15 && pending.length > 0; round++) {
    const target = new Target(replicas[0].url, 0);
    // each call's kind is its customer, to tell which answers were whole
    const samples = await runPool({ concurrency: pending.length, count: pending.length, next: (i) => ({ target, call: actionCall(token, { customerId: pending[i] }, pending[i]) }) });
    target.destroy();
    const whole = new Set(samples.filter((s) => s.outcome === 'ok').map((s) => s.kind));
    pending = pending.filter((id) => !whole.has(id));
    await sleep(1100); // late writes land, and the next round gets fresh rate-limit windows
  }
  for (const [index, replica] of replicas.entries()) {
    if (index === 0) continue;
    const target = new Target(replica.url, index);
    await runPool({ concurrency: 10, count: customers.length, next: (i) => ({ target, call: actionCall(token, { customerId: customers[i] }) }) });
    target.destroy();
  }
  return customers.length - pending.length;
}

async function redisDrill(ctx: Context, freshMs: number): Promise<{ rows: Row[]; latency: LatencyBar[]; raw: Record<string, unknown> }> {
  const replicas = await ctx.rig.startReplicas(3, { ...PRODUCTION_ENV, CACHE_FRESH_TTL_MS: String(freshMs) });
  await ctx.rig.reset();
  await ctx.rig.sims.setLatencies(FIXED_LATENCY);
  const token = await ctx.rig.token(replicas[0]);
  const customers = coldPool(ctx).slice(0, WARM_CUSTOMERS);
  const whole = await warm(ctx, replicas, token, customers);
  await ctx.rig.sims.resetCalls();
  // long enough before the kill for every customer to be refreshed once (the steady state shows)
  const before = ctx.options.quick ? Math.max(3, Math.min(10, freshMs / 1000 + 3)) : 10;
  const durationS = before + OUTAGE_S + (ctx.options.quick ? 5 : 10);
  const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
  balancer.start();
  const events: Array<{ atMs: number; what: string }> = [];
  const steps = [
    { atS: before, what: 'Redis killed (SIGKILL)', run: () => ctx.rig.redis.kill(), fired: false },
    { atS: before + OUTAGE_S, what: 'Redis restarted (empty)', run: () => ctx.rig.redis.resume(), fired: false },
  ];
  const fired: Array<Promise<void>> = [];
  ctx.log(`  Redis drill with production limits: ${durationS} s at ${RATE} req/s over ${customers.length} warm customers (${whole} whole after warming), Redis away ${OUTAGE_S} s`);
  const startedAt = Date.now();
  let samples: Sample[];
  try {
    samples = await runPaced({
      ratePerSec: RATE,
      durationMs: durationS * 1000,
      onTick: (elapsedMs) => {
        for (const step of steps) {
          if (!step.fired && elapsedMs >= step.atS * 1000) {
            step.fired = true;
            events.push({ atMs: Math.round(elapsedMs), what: step.what });
            fired.push(step.run().catch((err: unknown) => ctx.log(`  ${step.what} failed: ${String(err)}`)));
          }
        }
      },
      next: (i) => {
        const target = balancer.pick();
        return target ? { target, call: actionCall(token, { customerId: customers[i % customers.length] }) } : undefined;
      },
    });
    await Promise.all(fired);
  } finally {
    balancer.stop();
    for (const t of balancer.targets) t.destroy();
    if (!ctx.rig.redis.running) await ctx.rig.redis.resume();
  }
  const elapsedS = (Date.now() - startedAt) / 1000;
  const tally = tallyOf(samples);
  const summary = answeredLatency(samples);
  const degradedShare = tally.degraded / Math.max(1, tally.sent);
  const perCrm: string[] = [];
  let over = 0;
  const crmRaw: Record<string, unknown> = {};
  for (const crm of CRM_NAMES) {
    const stats = await ctx.rig.sims.calls(crm);
    const busiest = busiestSecond(stats.perSecond);
    const limit = DEFAULT_LIMITS[crm];
    if (busiest.count > limit) over++;
    perCrm.push(`${CRM_TITLES[crm]} ${stats.total} calls (${num(stats.total / elapsedS, 1)}/s), busiest second ${busiest.count} (limit ${limit})`);
    crmRaw[crm] = { total: stats.total, busiest, perSecond: stats.perSecond };
  }
  // where the degraded answers fall: before the kill, while Redis is away, after it is back
  const phases = [
    ['before', 0, before * 1000],
    ['Redis away', before * 1000, (before + OUTAGE_S) * 1000],
    ['after', (before + OUTAGE_S) * 1000, Number.POSITIVE_INFINITY],
  ] as const;
  const byPhase = phases.map(([label, from, to]) => {
    const inPhase = samples.filter((s) => s.at >= from && s.at < to);
    return { label, sent: inPhase.length, degraded: inPhase.filter((s) => s.outcome === 'degraded').length };
  });
  const when = events.map((e) => `${e.what} at ${(e.atMs / 1000).toFixed(1)} s`).join('; ');
  const rows: Row[] = [
    { scenario: SCENARIO, measure: `Redis drill, production limits, warm cache, fresh ${freshMs / 1000} s (${when}; ${durationS} s, ${RATE} req/s over ${customers.length} customers, 3 replicas)`, result: `${tallyText(tally)}; p99 ${ms(summary.p99)}`, goal: 'no failed request', verdict: tally.failed === 0 ? 'meets' : 'misses' },
    { scenario: SCENARIO, measure: `Redis drill (fresh ${freshMs / 1000} s): degraded answers`, result: `${percent(tally.degraded, tally.sent)} (${byPhase.map((p) => `${p.label} ${p.degraded}/${p.sent}`).join(', ')})`, goal: '≤ 5 %', verdict: degradedShare <= 0.05 ? 'meets' : 'misses' },
    { scenario: SCENARIO, measure: `Redis drill (fresh ${freshMs / 1000} s): CRM calls (token calls included)`, result: perCrm.join(' · '), goal: 'within each limit in every second', verdict: over === 0 ? 'meets' : 'misses' },
  ];
  return { rows, latency: [{ group: SCENARIO, label: `Redis drill (production limits, fresh ${freshMs / 1000} s)`, summary }], raw: { freshMs, byPhase, events, durationS, ratePerSec: RATE, warmedWhole: whole, tally, latency: summary, crm: crmRaw } };
}

async function memory(ctx: Context): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const [replica] = await ctx.rig.startReplicas(1, { ...SINGLE_REPLICA_ENV, ...GENEROUS_LIMITS, NEAR_CACHE_MAX_ENTRIES: String(SOAK_MAX_ENTRIES) });
  await ctx.rig.reset();
  await ctx.rig.sims.setLatencies({ salesforce: 1, sap: 1, servicenow: 1 });
  const token = await ctx.rig.token(replica);
  const n = ctx.options.quick ? 2000 : 10_000;
  // the seeded customers, then numbers no system knows (their "not found" parts are kept as well)
  const seeded = coldPool(ctx);
  const ids = Array.from({ length: n }, (_, i) => (i < seeded.length ? seeded[i] : `nc-soak-${i}`));
  ctx.log(`  near-cache memory: ${n.toLocaleString('en-US')} distinct customers, NEAR_CACHE_MAX_ENTRIES ${SOAK_MAX_ENTRIES}`);
  const target = new Target(replica.url, 0);
  const samples = await runPool({ concurrency: 20, count: n, next: (i) => ({ target, call: actionCall(token, { customerId: ids[i] }) }) });
  target.destroy();
  const text = await (await fetch(`${replica.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } })).text();
  const entries = metricValue(text, 'c360_near_cache_entries');
  const bytes = metricValue(text, 'c360_near_cache_bytes');
  const evictions = metricValue(text, 'c360_near_cache_evictions_total');
  const tally = tallyOf(samples);
  const within = entries !== undefined && entries <= SOAK_MAX_ENTRIES;
  return {
    rows: [
      {
        scenario: SCENARIO,
        measure: `memory: ${n.toLocaleString('en-US')} distinct customers (${tally.failed} failed), NEAR_CACHE_MAX_ENTRIES ${SOAK_MAX_ENTRIES}`,
        result: `near cache ${entries ?? '?'} parts, ${bytes === undefined ? '?' : `${num(bytes / 1024, 0)} KiB`}; ${evictions ?? '?'} evicted`,
        goal: `≤ ${SOAK_MAX_ENTRIES} parts`,
        verdict: within ? 'meets' : 'misses',
      },
    ],
    raw: { customers: n, maxEntries: SOAK_MAX_ENTRIES, entries, bytes, evictions, tally },
  };
}

export async function nearCache(ctx: Context): Promise<ScenarioResult> {
  // the default freshness (a warm cache stays fresh through most of the outage), and the drills' 5 s
  // (every customer is refreshed about twice during the outage: live calls without Redis)
  const drill = await redisDrill(ctx, 30_000);
  const short = await redisDrill(ctx, 5000);
  const mem = await memory(ctx);
  return {
    name: 'near-cache',
    rows: [...drill.rows, ...short.rows, ...mem.rows],
    latency: [...drill.latency, ...short.latency],
    notes: [
      `Near cache: the Redis drill runs with the production limits (Salesforce ${DEFAULT_LIMITS.salesforce}/s, SAP ${DEFAULT_LIMITS.sap}/s, ServiceNow ${DEFAULT_LIMITS.servicenow}/s shared by the 3 replicas) and the default freshness (30 s), then with the drills' 5 s (each customer refreshed during the outage), after every customer was looked up on each replica; the bench balances over the replicas that answer readiness. "degraded" = a 200 with at least one source stale, timed out or unavailable. The memory row reads the replica's own gauges (c360_near_cache_entries, c360_near_cache_bytes) from /metrics after the look-ups.`,
    ],
    raw: { drill: drill.raw, drillFresh5s: short.raw, memory: mem.raw },
  };
}
