/**
 * 5. Stampede: 1,000 concurrent requests for one cold customer spread over 3 service processes;
 * the calls each CRM received (single-flight in each process, and a Redis lock across them).
 * 6. Shift change: 1,000 distinct cold customers at once over the same 3 processes.
 */
import { Balancer, runPool, type Sample,Target } from '../load.js';
import { CRM_NAMES } from '../sim-protocol.js';
import { degradedSources } from '../stats.js';
import { ms, type Row } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, CRM_TITLES, DEADLINE_MS, FIXED_LATENCY, MULTI_REPLICA_ENV, type ScenarioResult,sleep, tallyOf, tallyText } from './scenario.js';

/** Calls one look-up makes to each CRM (SAP and ServiceNow read two endpoints concurrently). */
export const CALLS_PER_LOOKUP: Readonly<Record<string, number>> = { salesforce: 1, sap: 2, servicenow: 2 };
/** Routes that are not look-ups (vendor OAuth tokens). */
const NOT_LOOKUPS = new Set(['token']);
export const STAMPEDE_LATENCY_MS = 200;

async function threeReplicas(ctx: Context): Promise<{ balancer: Balancer; token: string }> {
  const replicas = await ctx.rig.startReplicas(3, MULTI_REPLICA_ENV);
  await ctx.rig.reset();
  const token = await ctx.rig.token(replicas[0]);
  const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
  return { balancer, token };
}

/** Every replica once (vendor tokens, JIT, sockets) on customers the scenario does not use. */
async function warm(ctx: Context, balancer: Balancer, token: string): Promise<void> {
  const pool = coldPool(ctx);
  await Promise.all(
    balancer.targets.map((t) =>
      fetch(`${t.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ customerId: pool[pool.length - 1 - t.index] }) }),
    ),
  );
  await ctx.rig.sims.resetCalls();
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

export async function shiftChange(ctx: Context): Promise<ScenarioResult> {
  const SCENARIO = '6. Shift change';
  const { balancer, token } = await threeReplicas(ctx);
  await ctx.rig.sims.setLatencies(FIXED_LATENCY);
  await warm(ctx, balancer, token);
  const pool = coldPool(ctx);
  const n = Math.min(1000, pool.length - 3);
  ctx.log(`  ${n} distinct cold customers at once over 3 replicas`);
  const samples: Sample[] = await runPool({ concurrency: n, count: n, keepBodies: true, next: (i) => ({ target: balancer.pick() as Target, call: actionCall(token, { customerId: pool[i] }) }) });
  for (const t of balancer.targets) t.destroy();
  await ctx.rig.sims.healAll();
  const tally = tallyOf(samples);
  const summary = answeredLatency(samples);
  const marked: Record<string, number> = {};
  for (const s of samples) for (const source of s.body ? degradedSources(s.body) : []) marked[source] = (marked[source] ?? 0) + 1;
  const markedText = Object.keys(marked).length === 0 ? 'no source marked' : `sources marked: ${Object.entries(marked).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  return {
    name: 'shift-change',
    rows: [
      { scenario: SCENARIO, measure: `${n.toLocaleString('en-US')} distinct customers at once (3 replicas): errors`, result: `${tallyText(tally)}; ${markedText}`, goal: 'no failed request', verdict: tally.failed === 0 ? 'meets' : 'misses' },
      { scenario: SCENARIO, measure: 'latency', result: `p50 ${ms(summary.p50)} · p99 ${ms(summary.p99)} · max ${ms(summary.max)}`, goal: `— (deadline ${DEADLINE_MS} ms)`, verdict: 'info' },
    ],
    latency: [{ group: SCENARIO, label: `${n} distinct customers at once`, summary }],
    notes: [
      `Shift change: 3 service processes with the CRM rate limits lifted (so what shows is the service under a burst: bulkheads of 32 calls per CRM and process with a queue of 256, the deadline), CRMs at fixed latencies, ${n} requests opened at once, each a different cold customer.`,
    ],
    raw: { requests: n, tally, latency: summary, marked },
  };
}
