/**
 * 9. Queue then answer (issue 18): calls arrive at a steady rate from distinct callers, each waits
 * 2–20 s in a queue (real time, not compressed), then the agent answers and the side panel looks the
 * caller up by conversation (`GET /v1/conversations/{id}/customer`). Three service processes with
 * the production CRM limits and the Genesys queue notifications on: one replica (the lease holder)
 * pre-fetches each caller while they wait. Live screen pops run at the same time (distinct cold
 * customers, which need the CRM budget, and a hot one). Then the drill: the replica holding the
 * subscription is killed (SIGKILL) while calls keep arriving.
 */
import { performance } from 'node:perf_hooks';
import { seededCustomers } from '../../sandbox/shared/seed.js';
import { SANDBOX_QUEUE } from '../../sandbox/genesys/genesys.data.js';
import { Balancer, measure, runPaced, Target, type Call, type Sample } from '../load.js';
import type { Replica } from '../rig.js';
import { BENCH_METRICS_TOKEN } from '../rig.js';
import { CRM_NAMES } from '../sim-protocol.js';
import { busiestSecond, metricValue, summarize, type LatencySummary } from '../stats.js';
import type { LatencyBar } from '../svg.js';
import { ms, num, percent, type Row } from '../table.js';
import { actionCall, coldPool, CRM_TITLES, DEFAULT_LIMITS, FIXED_LATENCY, GENESYS_TOKEN_LIFETIME_S, HOT_CUSTOMER, seconds, sleep, tallyOf, tallyText, type Context, type ScenarioResult } from './scenario.js';

const SCENARIO = '9. Queue then answer';
/** Seconds a call waits in the queue before an agent answers: uniform in [2, 20]. */
const HOLD_MIN_S = 2;
const HOLD_MAX_S = 20;
/** Calls placed per second. */
const CALLS_PER_SECOND = 1;
/** Live screen pops per second: one in ten a distinct cold customer (it needs the Salesforce budget the pre-fetch also uses), the rest a hot one. */
const LIVE_PER_SECOND = 5;
const COLD_EVERY = 10;
/** The panel asks again this long after its first look-up (a same-route cache hit, under the same load: the baseline). */
const REPEAT_AFTER_MS = 1000;
/** The caller hangs up this long after the agent answered (refresh-ahead stops). */
const TALK_MS = 3000;
const HIT_GOAL = 0.99;

const ENV: Record<string, string> = {
  // production CRM limits (the service's defaults): nothing lifted
  GENESYS_NOTIFICATIONS_ENABLED: 'true',
  GENESYS_NOTIFICATIONS_QUEUES: SANDBOX_QUEUE.customerCare,
  SHUTDOWN_GRACE_MS: '5000',
  SHUTDOWN_DELAY_MS: '1000',
  GENESYS_TOKEN_REFRESH_BEFORE_MS: String((GENESYS_TOKEN_LIFETIME_S - 3) * 1000),
};

/** One call through the queue, as the bench saw it. */
interface CallRecord {
  /** ms since the phase started, when the call reached the queue. */
  placedAt: number;
  holdMs: number;
  conversationId?: string;
  panel?: Sample;
  repeat?: Sample;
  /** Every source answered from the cache on the panel's first look-up. */
  hit: boolean;
  error?: string;
}

interface PhaseResult {
  calls: CallRecord[];
  live: Sample[];
  durationS: number;
  killAtMs?: number;
  killed?: Replica;
  holderIndex?: number;
}

/** A deterministic generator (the same holds in every run). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function simPost(ctx: Context, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${ctx.rig.sims.urls.genesys}/__sim/${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`genesys /__sim/${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Every source of a Customer 360 answer came from the cache. */
function allHit(sample: Sample): boolean {
  if (sample.status !== '200' || sample.body === undefined) return false;
  try {
    const sources = Object.values((JSON.parse(sample.body) as { sources: Record<string, { cache?: string }> }).sources);
    return sources.length > 0 && sources.every((s) => s.cache === 'hit');
  } catch {
    return false;
  }
}

/** The replica holding the subscription lease now (read from each replica's /metrics). */
async function leaseHolder(replicas: readonly Replica[]): Promise<number | undefined> {
  for (const r of replicas) {
    if (r.exitedAt !== undefined) continue;
    const response = await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } }).catch(() => undefined);
    if (response?.status !== 200) continue;
    if (metricValue(await response.text(), 'c360_notifications_lease_held') === 1) return r.index;
  }
  return undefined;
}

async function metric(r: Replica, name: string): Promise<number | undefined> {
  const response = await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } }).catch(() => undefined);
  return response?.status === 200 ? metricValue(await response.text(), name) : undefined;
}

async function phase(ctx: Context, opts: { name: string; durationS: number; callers: readonly { phone: string }[]; cold: readonly string[]; token: string; balancer: Balancer; replicas: Replica[]; drill: boolean }): Promise<PhaseResult> {
  const { token, balancer } = opts;
  const rnd = random(opts.drill ? 7 : 3);
  const calls: CallRecord[] = [];
  const tasks: Array<Promise<void>> = [];
  const t0 = performance.now();
  const count = Math.round(opts.durationS * CALLS_PER_SECOND);
  let killAtMs: number | undefined;
  let killed: Replica | undefined;
  let holderIndex: number | undefined;
  const panelCall = (id: string, kind: string): Call => ({ method: 'GET', path: `/v1/conversations/${id}/customer`, headers: { authorization: `Bearer ${token}` }, kind });
  const runCall = async (i: number, record: CallRecord): Promise<void> => {
    try {
      const placed = await simPost(ctx, 'inbound-calls', { ani: `tel:${opts.callers[i].phone}`, queueId: SANDBOX_QUEUE.customerCare });
      const id = String(placed.conversationId);
      record.conversationId = id;
      await sleep(record.holdMs);
      await simPost(ctx, `inbound-calls/${id}/answer`, {});
      const target = balancer.pick();
      if (!target) throw new Error('no replica in rotation');
      record.panel = await measure(target, panelCall(id, 'panel'), t0, 10_000, true);
      record.hit = allHit(record.panel);
      await sleep(REPEAT_AFTER_MS);
      const again = balancer.pick();
      if (again) record.repeat = await measure(again, panelCall(id, 'repeat'), t0, 10_000, true);
      await sleep(Math.max(0, TALK_MS - REPEAT_AFTER_MS));
      await simPost(ctx, `inbound-calls/${id}/disconnect`, { by: 'agent' });
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
    }
  };
  ctx.log(`  ${opts.name}: ${count} calls at ${CALLS_PER_SECOND}/s, each ${HOLD_MIN_S}–${HOLD_MAX_S} s in queue; ${LIVE_PER_SECOND} live screen pops/s (1 in ${COLD_EVERY} a cold customer)`);
  const live = runPaced({
    ratePerSec: LIVE_PER_SECOND,
    durationMs: (opts.durationS + HOLD_MAX_S) * 1000,
    keepBodies: false,
    next: (i) => {
      const target = balancer.pick();
      if (!target) return undefined;
      const cold = i % COLD_EVERY === 0;
      return { target, call: actionCall(token, { customerId: cold ? opts.cold[Math.floor(i / COLD_EVERY) % opts.cold.length] : HOT_CUSTOMER }, cold ? 'cold' : 'hot') };
    },
  });
  for (let i = 0; i < count; i++) {
    const due = (i * 1000) / CALLS_PER_SECOND;
    const wait = due - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    if (opts.drill && killAtMs === undefined && i >= Math.floor(count / 3)) {
      holderIndex = await leaseHolder(opts.replicas);
      killed = opts.replicas.find((r) => r.index === holderIndex);
      killAtMs = performance.now() - t0;
      killed?.child.kill('SIGKILL');
      ctx.log(`  SIGKILL to the lease holder (replica ${holderIndex === undefined ? '?' : holderIndex + 1}) at ${(killAtMs / 1000).toFixed(1)} s`);
    }
    const record: CallRecord = { placedAt: performance.now() - t0, holdMs: Math.round((HOLD_MIN_S + rnd() * (HOLD_MAX_S - HOLD_MIN_S)) * 1000), hit: false };
    calls.push(record);
    tasks.push(runCall(i, record));
  }
  await Promise.all(tasks);
  const liveSamples = await live;
  return { calls, live: liveSamples, durationS: opts.durationS, killAtMs, killed, holderIndex };
}

function latencyOf(samples: readonly (Sample | undefined)[]): LatencySummary {
  return summarize(samples.filter((s): s is Sample => s !== undefined && s.status === '200').map((s) => s.latencyMs));
}

export async function queueThenAnswer(ctx: Context): Promise<ScenarioResult> {
  const replicas = await ctx.rig.startReplicas(3, ENV);
  await ctx.rig.reset();
  await ctx.rig.sims.setLatencies(FIXED_LATENCY);
  const token = await ctx.rig.token(replicas[0]);
  const everyone = seededCustomers(ctx.customerIds.length);
  const pool = coldPool(ctx);
  // callers and cold live customers: disjoint, never looked up before in this run
  const half = Math.floor(pool.length / 2);
  const callers = everyone.slice(60, 60 + half);
  const cold = pool.slice(half);
  const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
  balancer.start();
  // warm each replica (vendor tokens, sockets) and the hot customer; wait for the subscription
  for (const t of balancer.targets) await fetch(`${t.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ customerId: HOT_CUSTOMER }) });
  for (let i = 0; i < 100 && (await leaseHolder(replicas)) === undefined; i++) await sleep(100);
  await sleep(1100);
  await ctx.rig.sims.resetCalls();
  const startSecond = Math.floor(Date.now() / 1000);
  const durationS = seconds(ctx, 120, 30);
  const steady = await phase(ctx, { name: 'steady', durationS, callers: callers.slice(0, durationS), cold, token, balancer, replicas, drill: false });
  const crmStats = await Promise.all(CRM_NAMES.map(async (crm) => ({ crm, stats: await ctx.rig.sims.calls(crm) })));
  const genesysStats = await ctx.rig.sims.calls('genesys');
  const holderIndex = await leaseHolder(replicas);
  const holder = replicas.find((r) => r.index === holderIndex);
  const prefetchReady = holder ? await metric(holder, 'c360_prefetch_total') : undefined;
  const drillS = seconds(ctx, 60, 30);
  const drill = await phase(ctx, { name: 'drill', durationS: drillS, callers: callers.slice(durationS, durationS + drillS), cold: cold.slice(Math.ceil((durationS + HOLD_MAX_S) * LIVE_PER_SECOND / COLD_EVERY)), token, balancer, replicas, drill: true });
  const newHolder = await leaseHolder(replicas);
  const handoverS = newHolder !== undefined ? await metric(replicas[newHolder], 'c360_notifications_disconnected_seconds_total') : undefined;
  balancer.stop();
  for (const t of balancer.targets) t.destroy();

  // ---------------------------------------------------------------- the steady phase
  const rows: Row[] = [];
  const answered = steady.calls.filter((c) => c.panel !== undefined);
  const hits = steady.calls.filter((c) => c.hit).length;
  const panel = latencyOf(steady.calls.map((c) => c.panel));
  const repeat = latencyOf(steady.calls.map((c) => c.repeat));
  const hot = latencyOf(steady.live.filter((s) => s.kind === 'hot'));
  const panelFailures = steady.calls.filter((c) => c.error !== undefined || c.panel?.status !== '200' || (c.repeat && c.repeat.status !== '200')).length;
  const liveTally = tallyOf(steady.live);
  const hitShare = steady.calls.length > 0 ? hits / steady.calls.length : 0;
  rows.push({
    scenario: SCENARIO,
    measure: `Side panel's first look-up by conversation after ${HOLD_MIN_S}–${HOLD_MAX_S} s in queue (${steady.calls.length} calls at ${CALLS_PER_SECOND}/s, distinct callers, 3 replicas, production limits)`,
    result: `${hits} of ${steady.calls.length} every source a cache hit (${percent(hits, steady.calls.length)}); Genesys conversation reads ${genesysStats.byRoute.conversation ?? 0}`,
    goal: `≥ ${HIT_GOAL * 100} % hits`,
    verdict: hitShare >= HIT_GOAL ? 'meets' : 'misses',
  });
  rows.push({
    scenario: SCENARIO,
    measure: 'Panel latency: first look-up vs the same look-up again 1 s later (a cache hit of the same route, same load)',
    result: `first p50 ${ms(panel.p50)} · p99 ${ms(panel.p99)}; again p50 ${ms(repeat.p50)} · p99 ${ms(repeat.p99)}; hot custom action p99 ${ms(hot.p99)}`,
    goal: 'first p99 within the cache-hit p99',
    verdict: panel.p99 <= Math.max(repeat.p99, hot.p99) ? 'meets' : 'misses',
  });
  rows.push({
    scenario: SCENARIO,
    measure: `Live screen pops at the same time (${LIVE_PER_SECOND}/s: 1 in ${COLD_EVERY} a cold customer) and panel look-ups`,
    result: `screen pops: ${tallyText(liveTally)}; panel: ${answered.length} answered, ${panelFailures} failed`,
    goal: '0 failures',
    verdict: liveTally.failed + panelFailures === 0 ? 'meets' : 'misses',
  });
  const busiest = crmStats.map(({ crm, stats }) => ({ crm, busiest: busiestSecond(stats.perSecond).count, limit: DEFAULT_LIMITS[crm] }));
  rows.push({
    scenario: SCENARIO,
    measure: 'Most calls any CRM received in one second (pre-fetch + live, 3 replicas)',
    result: busiest.map((b) => `${CRM_TITLES[b.crm]} ${b.busiest}/${b.limit}`).join(' · '),
    goal: '≤ each limit',
    verdict: busiest.every((b) => b.busiest <= b.limit) ? 'meets' : 'misses',
  });

  // ---------------------------------------------------------------- the drill
  const killAt = drill.killAtMs ?? Number.NaN;
  const buckets = new Map<number, { calls: number; hits: number }>();
  for (const c of drill.calls) {
    const b = Math.floor((c.placedAt - killAt) / 2000) * 2;
    const entry = buckets.get(b) ?? { calls: 0, hits: 0 };
    entry.calls++;
    if (c.hit) entry.hits++;
    buckets.set(b, entry);
  }
  const missedAfter = drill.calls.filter((c) => !c.hit && c.placedAt >= killAt).map((c) => (c.placedAt - killAt) / 1000);
  const missedBefore = drill.calls.filter((c) => !c.hit && c.placedAt < killAt).length;
  // the dip: the run of misses that starts with the kill, up to the first call after it that is a hit again
  const afterKill = drill.calls.filter((c) => c.placedAt >= killAt).sort((a, b) => a.placedAt - b.placedAt);
  const firstHit = afterKill.findIndex((c) => c.hit);
  const dip = firstHit < 0 ? afterKill : afterKill.slice(0, firstHit);
  const dipS = dip.length > 0 ? (dip[dip.length - 1].placedAt - killAt) / 1000 : 0;
  const laterMisses = missedAfter.length - dip.length;
  const drillHits = drill.calls.filter((c) => c.hit).length;
  const drillFailures = drill.calls.filter((c) => c.error !== undefined || c.panel?.status !== '200').length;
  const drillLive = tallyOf(drill.live);
  rows.push({
    scenario: SCENARIO,
    measure: `Drill: SIGKILL to the replica holding the subscription at ${(killAt / 1000).toFixed(1)} s of ${drill.durationS} s of calls`,
    result: `hits ${drillHits} of ${drill.calls.length} (${percent(drillHits, drill.calls.length)}); the dip: the ${dip.length} calls placed 0–${num(dipS, 1)} s after the kill (not seen by any replica: the new holder counted ${handoverS === undefined ? '?' : num(handoverS, 1)} s without a subscription); later misses ${laterMisses}, before the kill ${missedBefore}`,
    goal: 'the dip covers at most a few seconds (≤ 10 s) of calls; outside it ≥ 99 % hits',
    verdict: dipS <= 10 && laterMisses + missedBefore <= Math.ceil(drill.calls.length * (1 - HIT_GOAL)) ? 'meets' : 'misses',
  });
  rows.push({
    scenario: SCENARIO,
    measure: 'Drill: requests during it (the killed replica stays in the balancer until its probe fails, ≤ 250 ms)',
    result: `screen pops: ${tallyText(drillLive)}; panel failures ${drillFailures}`,
    goal: 'info',
    verdict: 'info',
  });

  const latency: LatencyBar[] = [
    { group: SCENARIO, label: 'panel, first look-up (pre-fetched)', summary: panel },
    { group: SCENARIO, label: 'panel, same look-up again (cache hit)', summary: repeat },
    { group: SCENARIO, label: 'hot custom action (cache hit)', summary: hot },
  ];
  const raw: Record<string, unknown> = {
    startSecond,
    steady: { durationS, calls: steady.calls.length, hits, panel, repeat, hot, live: liveTally, panelFailures, busiest, genesys: genesysStats.byRoute, prefetchTotalOnHolder: prefetchReady, misses: steady.calls.filter((c) => !c.hit).map((c) => ({ placedAtS: c.placedAt / 1000, holdS: c.holdMs / 1000, status: c.panel?.status, error: c.error })) },
    drill: { durationS: drill.durationS, killAtS: killAt / 1000, holderIndex: drill.holderIndex, newHolder, handoverS, calls: drill.calls.length, hits: drillHits, dip: { calls: dip.length, lastPlacedAfterKillS: dipS }, laterMisses, buckets: [...buckets].sort((a, b) => a[0] - b[0]).map(([fromS, v]) => ({ fromS, ...v })), missedAfterS: missedAfter, misses: drill.calls.filter((c) => !c.hit).map((c) => ({ afterKillS: (c.placedAt - killAt) / 1000, holdS: c.holdMs / 1000, status: c.panel?.status, target: c.panel?.target, error: c.error })), live: drillLive, panelFailures: drillFailures },
  };
  return {
    name: 'queue-then-answer',
    rows,
    latency,
    notes: [
      `Queue then answer: 3 service processes, production CRM limits (Salesforce 5/s, SAP 20/s, ServiceNow 10/s shared through Redis), CACHE_FRESH_TTL_MS 30 s, GENESYS_NOTIFICATIONS_ENABLED on (the Customer Care queue), the other settings at their defaults (pre-fetch reserve 30 %). Calls are placed through the Genesys simulator's /__sim/inbound-calls at ${CALLS_PER_SECOND}/s from distinct seeded callers, wait ${HOLD_MIN_S}–${HOLD_MAX_S} s (uniform, real time), are answered, and the panel's GET /v1/conversations/{id}/customer goes to a replica chosen round robin; a "hit" is a 200 whose every source says cache "hit". The same look-up 1 s later is the route's cache-hit baseline. Live screen pops (custom action by customerId) run at ${LIVE_PER_SECOND}/s throughout. The drill repeats the traffic and SIGKILLs the lease holder (found from c360_notifications_lease_held) a third of the way in; it is not restarted.`,
    ],
    raw,
  };
}
