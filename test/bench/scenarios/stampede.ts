/**
 * 5. Stampede: 1,000 concurrent requests for one cold customer spread over 3 service processes;
 * the calls each CRM received (single-flight in each process, and a Redis lock across them).
 * 6. Shift change: 1,000 distinct cold customers at once over the same 3 processes.
 */
import { Balancer, runPool, type Sample, Target } from '../load.js';
import { BENCH_METRICS_TOKEN } from '../rig.js';
import { CRM_NAMES } from '../sim-protocol.js';
import { degradedSources } from '../stats.js';
import { busiestSecond, perSecondSeries } from '../stats.js';
import { CRM_COLORS, type LatencyBar, type RateChart } from '../svg.js';
import { ms, num, percent, type Row } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, counterBySource, CRM_TITLES, customersPerCall, DEADLINE_MS, DEFAULT_LIMITS, FIXED_LATENCY, MULTI_REPLICA_ENV, NOT_LOOKUPS, type ScenarioResult, sleep, sourceStatuses, statusesText, tallyOf, tallyText } from './scenario.js';

/** Calls one look-up makes to each CRM (SAP and ServiceNow read two endpoints concurrently). */
export const CALLS_PER_LOOKUP: Readonly<Record<string, number>> = { salesforce: 1, sap: 2, servicenow: 2 };
/** Slots a replica reserved and gave up because it woke too late to use them (see SharedRateLimiter.acquire). */
const LATE_SLOTS = 'c360_rate_limit_late_slots_total';
export const STAMPEDE_LATENCY_MS = 200;

async function threeReplicas(ctx: Context): Promise<{ balancer: Balancer; token: string }> {
  const replicas = await ctx.rig.startReplicas(3, MULTI_REPLICA_ENV);
  await ctx.rig.reset();
  const token = await ctx.rig.token(replicas[0]);
  const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
  return { balancer, token };
}

/** Cold look-ups each replica serves before a burst, so the burst meets a warm process (JIT, pools, vendor tokens), as a shift change meets replicas that have been serving all along. */
export const WARM_LOOKUPS_PER_REPLICA = 1000;

/**
 * Every replica warmed on customers the burst does not use (the end of the cold pool, after the
 * first `reserved`): WARM_LOOKUPS_PER_REPLICA cold look-ups each (fewer in a quick run when the pool
 * is short), 50 at a time per replica. Then the calls they made are forgotten — once the last of
 * them is done: a look-up answered at its deadline leaves its call running (late completion), and
 * one landing after the reset would be counted as the burst's.
 */
async function warm(ctx: Context, balancer: Balancer, token: string, reserved = 1): Promise<void> {
  const spare = coldPool(ctx).slice(reserved);
  const perReplica = Math.max(1, Math.min(WARM_LOOKUPS_PER_REPLICA, Math.floor(spare.length / balancer.targets.length)));
  await Promise.all(
    balancer.targets.map((t) => {
      const mine = spare.slice(t.index * perReplica, (t.index + 1) * perReplica);
      return runPool({ concurrency: 50, count: mine.length, next: (i) => ({ target: t, call: actionCall(token, { customerId: mine[i] }) }) });
    }),
  );
  await quiet(ctx, 300);
  await ctx.rig.sims.resetCalls();
}

/** Resolves once no CRM has been called for `ms` (at most 15 s). */
async function quiet(ctx: Context, ms: number): Promise<void> {
  const total = async () => (await Promise.all(CRM_NAMES.map((crm) => ctx.rig.sims.calls(crm)))).reduce((a, s) => a + s.total, 0);
  let last = await total();
  let still = 0;
  for (let waited = 0; still < ms && waited < 15_000; waited += 100) {
    await sleep(100);
    const now = await total();
    still = now === last ? still + 100 : 0;
    last = now;
  }
}

export async function stampede(ctx: Context): Promise<ScenarioResult> {
  const SCENARIO = '5. Stampede';
  const { balancer, token } = await threeReplicas(ctx);
  await ctx.rig.sims.setLatencies({ salesforce: STAMPEDE_LATENCY_MS, sap: STAMPEDE_LATENCY_MS, servicenow: STAMPEDE_LATENCY_MS });
  await warm(ctx, balancer, token);
  const customerId = coldPool(ctx)[0];
  const n = 1000;
  ctx.log(`  ${n} concurrent requests for cold customer ${customerId} over 3 replicas`);
  const samples = await runPool({ concurrency: n, count: n, next: () => ({ target: balancer.pick() as Target, call: actionCall(token, { customerId }) }) });
  await sleep(300);
  for (const t of balancer.targets) t.destroy();
  await ctx.rig.sims.healAll();
  const perCrm: Record<string, Record<string, number>> = {};
  let exact = true;
  for (const crm of CRM_NAMES) {
    const byRoute = Object.fromEntries(Object.entries((await ctx.rig.sims.calls(crm)).byRoute).filter(([route]) => !NOT_LOOKUPS.has(route)));
    perCrm[crm] = byRoute;
    const total = Object.values(byRoute).reduce((a, b) => a + b, 0);
    if (total !== CALLS_PER_LOOKUP[crm] || Object.values(byRoute).some((c) => c !== 1)) exact = false;
  }
  const tally = tallyOf(samples);
  const summary = answeredLatency(samples);
  const callsText = CRM_NAMES.map((crm) => {
    const routes = perCrm[crm];
    const total = Object.values(routes).reduce((a, b) => a + b, 0);
    return `${CRM_TITLES[crm]} ${total}${Object.keys(routes).length > 1 ? ` (${Object.entries(routes).map(([r, c]) => `${r} ${c}`).join(', ')})` : ''}`;
  }).join(' · ');
  const rows: Row[] = [
    { scenario: SCENARIO, measure: `calls each CRM received for ${n.toLocaleString('en-US')} concurrent requests, one cold customer`, result: callsText, goal: 'one call per CRM endpoint (Salesforce 1, SAP 2, ServiceNow 2)', verdict: exact ? 'meets' : 'misses' },
    { scenario: SCENARIO, measure: 'requests', result: `${tallyText(tally)}; p50 ${ms(summary.p50)}, p99 ${ms(summary.p99)}`, goal: 'no failed request', verdict: tally.failed === 0 ? 'meets' : 'misses' },
  ];
  return {
    name: 'stampede',
    rows,
    latency: [{ group: SCENARIO, label: `${n} concurrent, one customer, CRMs at ${STAMPEDE_LATENCY_MS} ms`, summary }],
    notes: [`Stampede: 3 service processes, every CRM simulator at ${STAMPEDE_LATENCY_MS} ms (so the burst arrives while the first calls are in flight), ${n} requests opened at once from the bench, round robin; SAP and ServiceNow have two endpoints per look-up, so "one call per endpoint" is 1 + 2 + 2.`],
    raw: { requests: n, customerId, calls: perCrm, tally, latency: summary },
  };
}

/** Service CPU seconds ÷ look-ups over one burst, start-up excluded (the processes were warm before it). */
function cpuPerLookupMs(before: number, after: number, lookups: number): number {
  return ((after - before) / lookups) * 1000;
}

interface ShiftPhase {
  label: string;
  env: Record<string, string>;
  limits: Readonly<Record<string, number>> | undefined;
}

/**
 * 6. Shift change: 1,000 distinct cold customers at once over 3 processes, twice: with the
 * production limits shared by the replicas (the CRMs' limits decide), and with the limits lifted
 * (the service's own cost decides). Per phase: failures, answers with every source ok (or
 * not_found), latency, calls per second per CRM against its limit, customers per call, and the
 * service's CPU per look-up.
 */
export async function shiftChange(ctx: Context): Promise<ScenarioResult> {
  const SCENARIO = '6. Shift change';
  const { CACHE_FRESH_TTL_MS, SHUTDOWN_GRACE_MS, SHUTDOWN_DELAY_MS, GENESYS_TOKEN_REFRESH_BEFORE_MS } = MULTI_REPLICA_ENV;
  const phases: ShiftPhase[] = [
    { label: 'production limits', env: { CACHE_FRESH_TTL_MS, SHUTDOWN_GRACE_MS, SHUTDOWN_DELAY_MS, GENESYS_TOKEN_REFRESH_BEFORE_MS, AGGREGATION_DEADLINE_MS: '1400' }, limits: DEFAULT_LIMITS },
    { label: 'limits lifted', env: MULTI_REPLICA_ENV, limits: undefined },
  ];
  const rows: Row[] = [];
  const latency: LatencyBar[] = [];
  const charts: RateChart[] = [];
  const raw: Record<string, unknown> = {};
  for (const phase of phases) {
    const replicas = await ctx.rig.startReplicas(3, phase.env);
    await ctx.rig.reset();
    const token = await ctx.rig.token(replicas[0]);
    const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
    await ctx.rig.sims.setLatencies(FIXED_LATENCY);
    const pool = coldPool(ctx);
    const n = Math.min(1000, pool.length - 3);
    await warm(ctx, balancer, token, n);
    // the warm-up's late calls (batches that waited for a slot) done, and out of the limit windows
    if (phase.limits) await quiet(ctx, 1100);
    await ctx.rig.sims.resetCalls();
    ctx.log(`  ${phase.label}: ${n} distinct cold customers at once over 3 replicas`);
    const urls = replicas.map((r) => r.url);
    const statusesBefore = await sourceStatuses(urls, BENCH_METRICS_TOKEN);
    const lateBefore = await counterBySource(urls, BENCH_METRICS_TOKEN, LATE_SLOTS);
    const cpuBefore = ctx.rig.cpu().service;
    const firstSecond = Math.floor(Date.now() / 1000);
    const samples: Sample[] = await runPool({ concurrency: n, count: n, keepBodies: true, next: (i) => ({ target: balancer.pick() as Target, call: actionCall(token, { customerId: pool[i] }) }) });
    const cpuMs = cpuPerLookupMs(cpuBefore, ctx.rig.cpu().service, n);
    await sleep(1200); // late calls (cache warming) land
    const lastSecond = Math.floor(Date.now() / 1000);
    for (const t of balancer.targets) t.destroy();
    const tally = tallyOf(samples);
    const summary = answeredLatency(samples);
    const marked: Record<string, number> = {};
    let whole = 0;
    for (const s of samples) {
      const degraded = s.body ? degradedSources(s.body) : ['unanswered'];
      if (s.status === '200' && degraded.length === 0) whole++;
      for (const source of degraded) marked[source] = (marked[source] ?? 0) + 1;
    }
    const statuses = statusesText(statusesBefore, await sourceStatuses(urls, BENCH_METRICS_TOKEN));
    const lateAfter = await counterBySource(urls, BENCH_METRICS_TOKEN, LATE_SLOTS);
    const late = CRM_NAMES.map((crm) => `${CRM_TITLES[crm]} ${(lateAfter.get(crm) ?? 0) - (lateBefore.get(crm) ?? 0)}`).join(' · ');
    const markedText = Object.keys(marked).length === 0 ? 'no source marked' : `sources marked: ${Object.entries(marked).map(([k, v]) => `${k} ${v}`).join(', ')}${statuses ? ` (${statuses})` : ''}`;
    const perCall: string[] = [];
    let overLimit = 0;
    const crmRaw: Record<string, unknown> = {};
    for (const crm of CRM_NAMES) {
      const stats = await ctx.rig.sims.calls(crm);
      const { calls, keys, text } = customersPerCall(crm, stats);
      perCall.push(text);
      const busiest = busiestSecond(stats.perSecond);
      const limit = phase.limits?.[crm];
      if (limit !== undefined && busiest.count > limit) overLimit++;
      const series = perSecondSeries(stats.perSecond, firstSecond, lastSecond);
      while (series.length > 0 && series[series.length - 1] === 0) series.pop();
      if (limit !== undefined) charts.push({ title: `Shift change: ${CRM_TITLES[crm]} (limit ${limit}/s)`, perSecond: series, limit, color: CRM_COLORS[crm] });
      crmRaw[crm] = { calls, keys, busiest, perSecond: series };
    }
    const tag = `${SCENARIO} (${phase.label})`;
    const p99Goal = phase.limits ? 1500 : DEADLINE_MS + 100;
    rows.push(
      { scenario: tag, measure: `${n.toLocaleString('en-US')} distinct customers at once (3 replicas): errors`, result: `${tallyText(tally)}; ${markedText}`, goal: 'no failed request', verdict: tally.failed === 0 ? 'meets' : 'misses' },
      { scenario: tag, measure: 'answers with every source ok (or not_found)', result: percent(whole, n), goal: phase.limits ? '≥ 95 %' : '—', verdict: phase.limits ? (whole / n >= 0.95 ? 'meets' : 'misses') : 'info' },
      { scenario: tag, measure: 'latency', result: `p50 ${ms(summary.p50)} · p99 ${ms(summary.p99)} · max ${ms(summary.max)}`, goal: `p99 ≤ ${ms(p99Goal)}`, verdict: summary.p99 <= p99Goal ? 'meets' : 'misses' },
      { scenario: tag, measure: 'customers per call', result: perCall.join(' · '), goal: '—', verdict: 'info' },
      { scenario: tag, measure: 'service CPU per cold look-up (warm processes, start-up excluded)', result: `${num(cpuMs, 2)} ms`, goal: '≤ 1.5 ms', verdict: cpuMs <= 1.5 ? 'meets' : 'misses' },
    );
    if (phase.limits) rows.push({ scenario: tag, measure: 'rate-limit slots given up: the process woke too late for the window they were charged to', result: late, goal: '—', verdict: 'info' });
    if (phase.limits) rows.push({ scenario: tag, measure: 'CRMs over their limit in any second', result: `${overLimit} of ${CRM_NAMES.length}`, goal: 'none', verdict: overLimit === 0 ? 'meets' : 'misses' });
    latency.push({ group: SCENARIO, label: `${n} distinct customers at once, ${phase.label}`, summary });
    raw[phase.label] = { requests: n, tally, latency: summary, marked, whole, cpuMsPerLookup: cpuMs, crm: crmRaw };
  }
  await ctx.rig.sims.healAll();
  return {
    name: 'shift-change',
    rows,
    latency,
    storm: charts,
    notes: [
      `Shift change: 3 service processes, CRMs at fixed latencies, ${Math.min(1000, coldPool(ctx).length - 3)} requests opened at once, each a different cold customer; first with the production limits (Salesforce 5/s, SAP 20/s, ServiceNow 10/s, shared by the replicas through Redis; answer deadline 1,400 ms so a batch may wait for the next second's slot), then with the limits lifted (default deadline). Look-ups of one CRM that arrive while its calls are busy go out together (customers per call). CPU per look-up is the service processes' CPU seconds over the burst divided by the look-ups (warm processes: before each burst every replica served ${WARM_LOOKUPS_PER_REPLICA} cold look-ups of other customers, as replicas that have been serving all along; start-up excluded).`,
    ],
    raw,
  };
}
