/**
 * 11. Redis failover drills: 3 service processes behind the readiness-following balancer, at a
 * steady rate of look-ups that each need Salesforce (its limit far below the demand, so the shared
 * limit is always at work), against (a) a Sentinel deployment whose primary is killed and (b) a
 * Redis Cluster whose master holding Salesforce's limit counts is killed. Reports the answers,
 * Salesforce's calls per calendar second against its limit, and whether caching resumes on the
 * promoted node.
 */
import { taggedKey } from '../../../src/redis/redis-keys.js';
import { RATE_LIMIT_KEY_VERSION } from '../../../src/resilience/shared-rate-limiter.js';
import { RedisClusterTopology, RedisSentinelTopology } from '../../support/redis-topologies.js';
import { Balancer, runPaced, Target } from '../load.js';
import { perSecondSeries } from '../stats.js';
import type { LatencyBar } from '../svg.js';
import { ms, type Row } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, FIXED_LATENCY, MULTI_REPLICA_ENV, type ScenarioResult, seconds, sleep, tallyOf, tallyText } from './scenario.js';

const SCENARIO = '11. Redis failover';
/** Salesforce's limit for all three replicas together (each look-up wants a call: 60/s are asked for). */
const SALESFORCE_LIMIT = 10;

interface Topology {
  key: 'sentinel' | 'cluster';
  title: string;
  /** The service's settings for it. */
  env: Record<string, string>;
  /** Kills the node, resolving when the promoted replica serves; what it did, for the table. */
  fail(): Promise<string>;
  stop(): Promise<void>;
}

async function sentinel(): Promise<Topology> {
  const t = await RedisSentinelTopology.start();
  const user = t.users!.service;
  return {
    key: 'sentinel',
    title: 'Sentinel: the primary killed (SIGKILL), its replica promoted',
    env: { REDIS_SENTINELS: t.sentinelList, REDIS_SENTINEL_MASTER: t.masterName, REDIS_USERNAME: user.username, REDIS_PASSWORD: user.password },
    fail: async () => {
      const { killed, promoted } = await t.killPrimary();
      return `primary :${killed.port} killed, :${promoted.port} promoted`;
    },
    stop: () => t.stop(),
  };
}

async function cluster(): Promise<Topology> {
  const t = await RedisClusterTopology.start();
  const user = t.users!.service;
  return {
    key: 'cluster',
    title: 'Cluster: the master holding Salesforce\'s limit counts killed (SIGKILL), its replica promoted',
    env: { REDIS_CLUSTER_NODES: t.nodeList, REDIS_USERNAME: user.username, REDIS_PASSWORD: user.password },
    fail: async () => {
      const master = await t.masterOf(taggedKey(`c360:rl:${RATE_LIMIT_KEY_VERSION}`, 'salesforce', 0));
      const { killed, promoted } = await t.killMaster(master);
      return `master :${killed.port} killed, :${promoted.port} took its slots`;
    },
    stop: () => t.stop(),
  };
}

/**
 * After the failover: how long until a look-up made on one replica is served from Redis on
 * another (each customer asked for once on each, so neither replica's own near cache can answer
 * the second), up to 10 s, and from which sources. One source is enough: a breaker the starved
 * machine opened may keep another source from being fetched at all.
 */
async function cachingResumes(writer: string, reader: string, token: string, customers: readonly string[]): Promise<{ afterMs: number; sources: string[] } | undefined> {
  const started = Date.now();
  const get = async (url: string, id: string) => ((await (await fetch(`${url}/v1/customers/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { sources?: Record<string, { cache?: string }> });
  for (const id of customers) {
    if (Date.now() - started > 10_000) break;
    await get(writer, id);
    await sleep(100); // its parts are written after the answer
    const hits = Object.entries((await get(reader, id)).sources ?? {}).filter(([, s]) => s.cache === 'hit').map(([name]) => name);
    if (hits.length > 0) return { afterMs: Date.now() - started, sources: hits };
  }
  return undefined;
}

async function drill(ctx: Context, start: () => Promise<Topology>, durationS: number, rate: number): Promise<{ rows: Row[]; latency: LatencyBar; raw: Record<string, unknown> }> {
  const topology = await start();
  try {
    const replicas = await ctx.rig.startReplicas(3, { ...MULTI_REPLICA_ENV, REDIS_URL: '', ...topology.env, SALESFORCE_RATE_LIMIT_PER_SEC: String(SALESFORCE_LIMIT) });
    await ctx.rig.sims.healAll();
    await ctx.rig.sims.setLatencies(FIXED_LATENCY);
    const token = await ctx.rig.token(replicas[0]);
    const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
    // each customer again every 6 s, after its 5 s of freshness: every look-up wants a Salesforce call
    const pool = coldPool(ctx).slice(0, Math.max(10, Math.round(rate * 6)));
    for (const t of balancer.targets) await fetch(`${t.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ customerId: pool[t.index] }) });
    await sleep(1100);
    await ctx.rig.sims.resetCalls();
    balancer.start();
    ctx.log(`  ${topology.title}: ${durationS} s at ${rate} req/s`);
    const firstSecond = Math.floor(Date.now() / 1000);
    const t0 = Date.now();
    let failure: Promise<{ killedAt: number; promotedAt: number; what: string }> | undefined;
    const samples = await runPaced({
      ratePerSec: rate,
      durationMs: durationS * 1000,
      onTick: (elapsed) => {
        if (failure || elapsed < (durationS * 1000) / 3) return;
        const killedAt = Date.now();
        failure = topology.fail().then((what) => ({ killedAt, promotedAt: Date.now(), what }));
      },
      next: (i) => {
        const target = balancer.pick();
        return target && { target, call: actionCall(token, { customerId: pool[i % pool.length] }) };
      },
    });
    balancer.stop();
    for (const t of balancer.targets) t.destroy();
    const failed = await failure;
    if (!failed) throw new Error('the failover never started');
    await sleep(1200); // calls waiting for a slot land in the last second
    const lastSecond = Math.floor(Date.now() / 1000);
    const resumed = await cachingResumes(replicas[0].url, replicas[1].url, token, coldPool(ctx).slice(-50));

    const stats = await ctx.rig.sims.calls('salesforce');
    const series = perSecondSeries(stats.perSecond, firstSecond, lastSecond);
    const killSecond = Math.floor(failed.killedAt / 1000);
    const promotedSecond = Math.floor(failed.promotedAt / 1000);
    const over = series.map((count, i) => ({ second: firstSecond + i, count })).filter((s) => s.count > SALESFORCE_LIMIT);
    const outsideFailover = over.filter((s) => s.second < killSecond || s.second > promotedSecond + 1);
    const busiest = Math.max(0, ...series);
    const lookups = tallyOf(samples, 'lookup');
    const summary = answeredLatency(samples, 'lookup');
    const at = (epochMs: number) => `${((epochMs - t0) / 1000).toFixed(1)} s`;
    // failed answers by phase: whatever fails before the kill is the machine, not the failover
    const phaseOf = (sentAt: number) => (t0 + sentAt < failed.killedAt ? 'before' : t0 + sentAt <= failed.promotedAt + 1000 ? 'during' : 'after');
    const failedBy = { before: 0, during: 0, after: 0 };
    for (const sample of samples) if (sample.kind === 'lookup' && sample.status !== '200') failedBy[phaseOf(sample.at)]++;
    const rows: Row[] = [
      {
        scenario: SCENARIO,
        measure: `${topology.title} (${failed.what}: killed at ${at(failed.killedAt)}, promoted and seen by every node at ${at(failed.promotedAt)}; ${durationS} s, ${rate} req/s, 3 replicas)`,
        result: `screen pops: ${tallyText(lookups)}; p99 ${ms(summary.p99)}; failed before the kill ${failedBy.before}, from the kill to 1 s after the promotion ${failedBy.during}, after ${failedBy.after}`,
        goal: 'no failed request',
        verdict: lookups.failed === 0 ? 'meets' : 'misses',
      },
      {
        scenario: SCENARIO,
        measure: `${topology.key}: Salesforce calls per calendar second, limit ${SALESFORCE_LIMIT}/s shared by the 3 replicas (${rate}/s wanted)`,
        result: `busiest ${busiest}; seconds over the limit: ${over.length === 0 ? 'none' : over.map((s) => `${s.count} at ${at(s.second * 1000)}–${at(s.second * 1000 + 1000)}`).join(', ')}`,
        goal: `≤ ${SALESFORCE_LIMIT}/s outside the failover second`,
        verdict: outsideFailover.length === 0 ? 'meets' : 'misses',
      },
      {
        scenario: SCENARIO,
        measure: `${topology.key}: caching on the promoted node after the run (a look-up on one replica, then on another)`,
        result: resumed === undefined ? 'no look-up served from Redis within 10 s' : `a look-up served from Redis again (${resumed.sources.join(', ')}) after ${ms(resumed.afterMs)}`,
        goal: 'caching resumes',
        verdict: resumed === undefined ? 'misses' : 'meets',
      },
    ];
    return {
      rows,
      latency: { group: SCENARIO, label: topology.title, summary },
      raw: { durationS, ratePerSec: rate, lookups, failedBy, latency: summary, killedAtMs: failed.killedAt - t0, promotedAtMs: failed.promotedAt - t0, what: failed.what, salesforcePerSecond: series, overLimit: over, cachingResumed: resumed ?? null },
    };
  } finally {
    ctx.rig.cpu(); // a last reading of the replicas' CPU before they stop with their Redis
    await ctx.rig.stopReplicas();
    await topology.stop();
  }
}

export async function redisFailover(ctx: Context): Promise<ScenarioResult> {
  const durationS = seconds(ctx, 30, 12);
  const rate = 60;
  const rows: Row[] = [];
  const latency: LatencyBar[] = [];
  const raw: Record<string, unknown> = {};
  for (const [key, start] of [['sentinel', sentinel], ['cluster', cluster]] as const) {
    const result = await drill(ctx, start, durationS, rate);
    rows.push(...result.rows);
    latency.push(result.latency);
    raw[key] = result.raw;
  }
  return {
    name: 'redis-failover',
    rows,
    latency,
    notes: [
      `Redis failover: a Sentinel group (a primary, a replica, 3 Sentinels; down after 1 s) and a Redis Cluster (3 masters, 3 replicas; node timeout 1 s), each from redis-server on this machine, the service as an ACL user; 3 service processes behind the readiness-following balancer; Salesforce limited to ${SALESFORCE_LIMIT}/s for the three together while every look-up wants a call (CACHE_FRESH_TTL_MS 5000, each customer every 6 s), SAP and ServiceNow unlimited; the node is killed at a third of the run. "The failover second" is the span from the kill to one second after every node saw the promotion: counts the old primary took but had not yet replicated may be missing then.`,
    ],
    raw,
  };
}
