/** 3. Slow SAP: SAP answers after 2,000 ms; the screen pop must still come by the deadline. */
import { runPool, Target } from '../load.js';
import { degradedSources } from '../stats.js';
import { ms, percent } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, DEADLINE_MS, FIXED_LATENCY, type ScenarioResult,seconds, SINGLE_REPLICA_ENV, tallyOf, tallyText } from './scenario.js';

const SCENARIO = '3. Slow SAP';
export const SAP_SLOW_MS = 2000;
/** Time to merge and send the answer once the deadline fires. */
export const DEADLINE_SLACK_MS = 25;

export async function slowSap(ctx: Context): Promise<ScenarioResult> {
  const [replica] = await ctx.rig.startReplicas(1, SINGLE_REPLICA_ENV);
  await ctx.rig.reset();
  const token = await ctx.rig.token(replica);
  await ctx.rig.sims.setLatencies({ ...FIXED_LATENCY, sap: SAP_SLOW_MS });
  const pool = coldPool(ctx);
  const target = new Target(replica.url, 0);
  const durationS = seconds(ctx, 15, 4);
  const concurrency = 10;
  ctx.log(`  ${durationS} s of cold screen pops, ${concurrency} concurrent, SAP at ${SAP_SLOW_MS} ms`);
  const samples = await runPool({
    concurrency,
    durationMs: durationS * 1000,
    keepBodies: true,
    next: (i) => ({ target, call: actionCall(token, { customerId: pool[i % pool.length] }) }),
  });
  target.destroy();
  await ctx.rig.sims.healAll();
  const tally = tallyOf(samples);
  const summary = answeredLatency(samples);
  const sapMarked = samples.filter((s) => s.body !== undefined && degradedSources(s.body).includes('sap')).length;
  const late = samples.filter((s) => s.latencyMs > DEADLINE_MS + DEADLINE_SLACK_MS).length;
  // answers that waited for SAP until the deadline, and those given at once because SAP's breaker was open
  const waited = samples.filter((s) => s.latencyMs >= DEADLINE_MS - 50).length;
  return {
    name: 'slow-sap',
    rows: [
      {
        scenario: SCENARIO,
        measure: `screen pop p99 with SAP at ${SAP_SLOW_MS.toLocaleString('en-US')} ms (deadline ${DEADLINE_MS} ms)`,
        result: `p99 ${ms(summary.p99)} (p50 ${ms(summary.p50)}, max ${ms(summary.max)}); ${late} of ${tally.sent} later than ${DEADLINE_MS + DEADLINE_SLACK_MS} ms; ${waited} waited for SAP until the deadline, the others were answered at once (SAP's breaker open); SAP marked in ${percent(sapMarked, tally.answered)}`,
        goal: `≤ ${DEADLINE_MS} ms deadline (+${DEADLINE_SLACK_MS} ms to answer)`,
        verdict: summary.p99 <= DEADLINE_MS + DEADLINE_SLACK_MS && tally.failed === 0 ? 'meets' : 'misses',
      },
      { scenario: SCENARIO, measure: 'requests', result: tallyText(tally), goal: 'no failed request', verdict: tally.failed === 0 ? 'meets' : 'misses' },
    ],
    latency: [{ group: SCENARIO, label: `SAP at ${SAP_SLOW_MS} ms, ${concurrency} concurrent`, summary }],
    notes: [
      `Slow SAP: a fresh service process, ${concurrency} concurrent cold screen pops for ${durationS} s; SAP ${SAP_SLOW_MS} ms, Salesforce ${FIXED_LATENCY.salesforce} ms, ServiceNow ${FIXED_LATENCY.servicenow} ms; AGGREGATION_DEADLINE_MS ${DEADLINE_MS}, SAP_TIMEOUT_MS 700 and the breaker at their defaults, so SAP's breaker opens after its first timeouts and most answers then come at once.`,
    ],
    raw: { durationS, concurrency, tally, latency: summary, sapMarked, late, waitedForDeadline: waited },
  };
}
