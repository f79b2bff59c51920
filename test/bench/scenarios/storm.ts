/**
 * 4. Rate-limit storm: 3 service processes share the production limits (Salesforce 5/s, SAP 20/s,
 * ServiceNow 10/s) through Redis while distinct customers arrive far faster than that; the most
 * calls any simulator received in one calendar second, against its limit.
 */
import { Balancer, runPaced, Target } from '../load.js';
import { CRM_NAMES } from '../sim-protocol.js';
import { busiestSecond, perSecondSeries } from '../stats.js';
import { CRM_COLORS, type RateChart } from '../svg.js';
import { ms, num, percent, type Row } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, CRM_TITLES, DEFAULT_LIMITS, FIXED_LATENCY, type ScenarioResult,seconds, sleep, tallyOf, tallyText } from './scenario.js';

const SCENARIO = '4. Rate-limit storm';

export async function storm(ctx: Context): Promise<ScenarioResult> {
  const replicas = await ctx.rig.startReplicas(3, {}); // production limits
  await ctx.rig.reset();
  await ctx.rig.sims.setLatencies(FIXED_LATENCY);
  const token = await ctx.rig.token(replicas[0]);
  const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
  const pool = coldPool(ctx);
  // warm each replica (vendor tokens, sockets) on customers the storm does not use, then count from zero
  for (const t of balancer.targets) await fetch(`${t.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ customerId: pool[pool.length - 1 - t.index] }) });
  await sleep(1100);
  await ctx.rig.sims.resetCalls();
  const durationS = seconds(ctx, 30, 6);
  const rate = 60;
  const firstSecond = Math.floor(Date.now() / 1000);
  ctx.log(`  ${durationS} s at ${rate} distinct customers/s over 3 replicas`);
  const samples = await runPaced({
    ratePerSec: rate,
    durationMs: durationS * 1000,
    next: (i) => {
      const target = balancer.pick();
      return target && { target, call: actionCall(token, { customerId: pool[i % (pool.length - 3)] }) };
    },
  });
  await sleep(1200); // calls still waiting for a slot land in the last second
  const lastSecond = Math.floor(Date.now() / 1000);
  for (const t of balancer.targets) t.destroy();
  if (durationS * rate > pool.length - 3) ctx.log(`  only ${pool.length - 3} distinct customers: some repeated`);
  const rows: Row[] = [];
  const charts: RateChart[] = [];
  const raw: Record<string, unknown> = { durationS, ratePerSec: rate, replicas: 3, limits: DEFAULT_LIMITS };
  for (const crm of CRM_NAMES) {
    const stats = await ctx.rig.sims.calls(crm);
    const limit = DEFAULT_LIMITS[crm];
    const busiest = busiestSecond(stats.perSecond);
    const series = perSecondSeries(stats.perSecond, firstSecond, lastSecond);
    // trim the idle seconds at either end of the window
    while (series.length > 0 && series[0] === 0) series.shift();
    while (series.length > 0 && series[series.length - 1] === 0) series.pop();
    charts.push({ title: `${CRM_TITLES[crm]} (limit ${limit}/s)`, perSecond: series, limit, color: CRM_COLORS[crm] });
    const needed = crm === 'salesforce' ? rate : rate * 2; // SAP and ServiceNow make two reads per look-up
    raw[crm] = { total: stats.total, byRoute: stats.byRoute, busiest, perSecond: series, offeredCallsPerSecond: needed };
    rows.push({
      scenario: SCENARIO,
      measure: `${CRM_TITLES[crm]}: most calls in one second (3 replicas; ${needed}/s wanted)`,
      result: `${busiest.count} = ${num(busiest.count / limit, 1)}× limit (${stats.total} calls in ${series.length} s)`,
      goal: `≤ ${limit}/s`,
      verdict: busiest.count <= limit ? 'meets' : 'misses',
    });
  }
  const tally = tallyOf(samples);
  const summary = answeredLatency(samples);
  rows.push({
    scenario: SCENARIO,
    measure: 'client requests answered 200',
    result: `${percent(tally.answered, tally.sent)} — ${tallyText(tally)}; p99 ${ms(summary.p99)}`,
    goal: 'no failed request',
    verdict: tally.failed === 0 ? 'meets' : 'misses',
  });
  raw.tally = tally;
  raw.latency = summary;
  return {
    name: 'storm',
    rows,
    latency: [{ group: SCENARIO, label: `${rate}/s distinct customers, 3 replicas`, summary }],
    storm: charts,
    notes: [
      `Storm: 3 service processes with the production CRM limits (Salesforce ${DEFAULT_LIMITS.salesforce}/s, SAP ${DEFAULT_LIMITS.sap}/s, ServiceNow ${DEFAULT_LIMITS.servicenow}/s, shared through Redis), ${rate} distinct customers per second for ${durationS} s, round robin; calls counted per calendar second by the simulators (which do not refuse anything themselves). The limiter uses fixed one-second windows that do not start on a calendar second, so up to twice the limit can land in one calendar second.`,
    ],
    raw,
  };
}
