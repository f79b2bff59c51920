/**
 * 1. Cache-hit path: throughput and latency of the custom action and of GET /v1/customers/{id}
 * when every source is fresh in Redis, each beside two baselines of the same process, in one run:
 * GET /__bench/bare (a Nest route that does no work but passes the same global guard, pipes,
 * interceptors and hooks) and GET /__bench/raw (a plain Fastify route outside Nest and the hooks:
 * the physical limit of the process).
 */
import { cannon, type CannonOptions, type CannonRun } from '../load.js';
import { median, summarize } from '../stats.js';
import { ms, perSecond, ratio, type Row } from '../table.js';
import { apiKeyHeaders, HOT_CUSTOMER, HOT_PHONE, seconds, SINGLE_REPLICA_ENV, type Context, type ScenarioResult } from './scenario.js';

const SCENARIO = '1. Cache hit';
/** The product brief's "p99 a few ms", made a number. */
export const CACHE_HIT_P99_GOAL_MS = 5;
export const THROUGHPUT_RATIO_GOAL = 0.8;
/** Share of the raw Fastify route a real route should reach. */
export const RAW_RATIO_GOAL = 0.5;

export interface CacheHitFigures {
  /** Median over rounds of each round's throughput ÷ the bare route's (and the raw route's) in that round. */
  toBare: number;
  toRaw: number;
  p99Ms: number;
  failures: number;
}

/** Whether a judged series meets every goal: its share of both baselines, its p99, and no failure. */
export function meetsCacheHitGoals(f: CacheHitFigures): boolean {
  return f.toBare >= THROUGHPUT_RATIO_GOAL && f.toRaw >= RAW_RATIO_GOAL && f.p99Ms <= CACHE_HIT_P99_GOAL_MS && f.failures === 0;
}

export const CACHE_HIT_GOAL = `≥ ${THROUGHPUT_RATIO_GOAL}× bare, ≥ ${RAW_RATIO_GOAL}× raw; p99 ≤ ${CACHE_HIT_P99_GOAL_MS} ms`;

interface Series {
  key: string;
  label: string;
  options: Omit<CannonOptions, 'connections' | 'durationS'>;
  /** Judged against the goals (the custom action and the REST view); the baselines are shown for comparison. */
  judged: boolean;
}

export async function cacheHit(ctx: Context): Promise<ScenarioResult> {
  const [replica] = await ctx.rig.startReplicas(1, SINGLE_REPLICA_ENV);
  await ctx.rig.reset();
  const token = await ctx.rig.token(replica);
  const jwt = { authorization: `Bearer ${token}` };
  const json = { 'content-type': 'application/json' };
  const action = `${replica.url}/genesys/v1/customer-lookup`;
  const series: Series[] = [
    { key: 'raw', label: 'raw Fastify route GET /__bench/raw', options: { url: `${replica.url}/__bench/raw`, method: 'GET', headers: {} }, judged: false },
    { key: 'bare', label: 'bare route GET /__bench/bare', options: { url: `${replica.url}/__bench/bare`, method: 'GET', headers: {} }, judged: false },
    { key: 'actionJwt', label: 'custom action by customerId (JWT)', options: { url: action, method: 'POST', headers: { ...json, ...jwt }, body: JSON.stringify({ customerId: HOT_CUSTOMER }) }, judged: true },
    { key: 'actionApiKey', label: 'custom action by customerId (API key)', options: { url: action, method: 'POST', headers: apiKeyHeaders(), body: JSON.stringify({ customerId: HOT_CUSTOMER }) }, judged: true },
    { key: 'actionPhone', label: 'custom action by phone (JWT)', options: { url: action, method: 'POST', headers: { ...json, ...jwt }, body: JSON.stringify({ phone: HOT_PHONE }) }, judged: true },
    { key: 'restJwt', label: 'GET /v1/customers/{id} (JWT)', options: { url: `${replica.url}/v1/customers/${HOT_CUSTOMER}`, method: 'GET', headers: jwt }, judged: true },
  ];
  // fill the cache (every source fresh for an hour) and prove each series answers 200 before measuring
  for (const s of series) {
    const probe = await fetch(s.options.url, { method: s.options.method, headers: s.options.headers, body: s.options.body });
    const text = await probe.text();
    if (probe.status !== 200) throw new Error(`${s.label}: ${probe.status} ${text}`);
  }
  const durationS = seconds(ctx, 8, 1);
  const warmupS = ctx.options.quick ? 0.5 : 2;
  const rounds = ctx.options.quick ? 2 : 3;
  const connections = ctx.options.connections;
  ctx.log(`  ${series.length} series × ${rounds} rounds of ${durationS} s (after ${warmupS} s warm-up each), ${connections} connections`);
  for (const s of series) await cannon({ ...s.options, connections, durationS: warmupS });
  const runs: Record<string, CannonRun[]> = Object.fromEntries(series.map((s) => [s.key, []]));
  for (let round = 0; round < rounds; round++) {
    // each round starts with a different series, so slow drift of the machine does not favour one
    for (let k = 0; k < series.length; k++) {
      const s = series[(k + round) % series.length];
      runs[s.key].push(await cannon({ ...s.options, connections, durationS }));
    }
  }
  const rows: Row[] = [];
  const raw: Record<string, unknown> = { durationS, warmupS, rounds, connections };
  const latency = [];
  for (const s of series) {
    const mine = runs[s.key];
    const summary = summarize(mine.flatMap((r) => r.latencies));
    const rps = median(mine.map((r) => r.rps));
    // the ratio of each round's runs (close in time), then the median over rounds
    const toBare = median(mine.map((r, i) => r.rps / runs.bare[i].rps));
    const toRaw = median(mine.map((r, i) => r.rps / runs.raw[i].rps));
    const non2xx = mine.reduce((a, r) => a + r.non2xx, 0);
    const errors = mine.reduce((a, r) => a + r.errors, 0);
    raw[s.key] = { label: s.label, rps, ratioToBare: toBare, ratioToRaw: toRaw, perRound: mine.map((r) => ({ rps: r.rps, ok: r.ok, non2xx: r.non2xx, errors: r.errors, elapsedMs: r.elapsedMs })), latency: summary };
    latency.push({ group: SCENARIO, label: s.label, summary });
    const failures = non2xx + errors > 0 ? ` · ${non2xx} non-2xx, ${errors} errors` : '';
    const shares = s.key === 'raw' ? '' : s.key === 'bare' ? ` = ${ratio(toRaw)} raw` : ` = ${ratio(toBare)} bare, ${ratio(toRaw)} raw`;
    const result = `${perSecond(rps)}${shares} · p50 ${ms(summary.p50)} · p99 ${ms(summary.p99)}${failures}`;
    const meets = meetsCacheHitGoals({ toBare, toRaw, p99Ms: summary.p99, failures: non2xx + errors });
    rows.push({
      scenario: SCENARIO,
      measure: s.label,
      result,
      goal: s.judged ? CACHE_HIT_GOAL : 'baseline',
      verdict: s.judged ? (meets ? 'meets' : 'misses') : 'info',
    });
  }
  return {
    name: 'cache-hit',
    rows,
    latency,
    notes: [
      `Cache hit: one service process, every source fresh in Redis; ${connections} autocannon connections from the bench process; each series ${rounds} × ${durationS} s, interleaved with the others (after ${warmupS} s of warm-up each): throughput is the median of the rounds, each ratio the median of each round's ratio to the baseline run in the same round, latencies pooled over the rounds. Customer ${HOT_CUSTOMER} / phone ${HOT_PHONE}.`,
      'Baselines of the same process: the bare route is a Nest route doing no work behind every global guard (the inbound throttle), pipe, interceptor and Fastify hook (security headers, correlation id, trace context, metrics, request log); the raw route is a plain Fastify route beside Nest with none of them — what Fastify and Node themselves cost.',
    ],
    raw,
  };
}
