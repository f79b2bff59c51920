/**
 * 7. Soak: minutes at a steady rate on one fresh service process — 80 % repeat callers (cached)
 * and 20 % new ones (cold) — sampling its RSS (/proc) and event-loop delay (its /metrics).
 */
import { runPaced, Target } from '../load.js';
import { BENCH_METRICS_TOKEN, rssBytes } from '../rig.js';
import { metricValue, summarize } from '../stats.js';
import { mib, ms, num } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, FIXED_LATENCY, type ScenarioResult,SINGLE_REPLICA_ENV, tallyOf, tallyText } from './scenario.js';

const SCENARIO = '7. Soak';
/** prom-client samples the event loop with a 10 ms timer; its percentiles include that interval. */
export const ELD_RESOLUTION_MS = 10;

export interface SoakSample {
  atS: number;
  rssBytes?: number;
  heapUsedBytes?: number;
  /** c360_nodejs_eventloop_lag_p99_seconds since the previous scrape, in ms. */
  eventLoopP99Ms?: number;
}

export async function soak(ctx: Context): Promise<ScenarioResult> {
  const [replica] = await ctx.rig.startReplicas(1, SINGLE_REPLICA_ENV);
  await ctx.rig.reset();
  await ctx.rig.sims.setLatencies(FIXED_LATENCY);
  const token = await ctx.rig.token(replica);
  const hot = ctx.customerIds.slice(0, 50); // the demo customers present in every system
  const pool = coldPool(ctx);
  const target = new Target(replica.url, 0);
  await Promise.all(hot.map((id) => fetch(`${replica.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ customerId: id }) }).then((r) => r.text())));
  const durationS = ctx.options.soakS ?? (ctx.options.quick ? 10 : 180);
  const rate = ctx.options.quick ? 50 : 100;
  const everyS = durationS >= 120 ? 5 : 2;
  const samples: SoakSample[] = [];
  const pending: Array<Promise<void>> = [];
  const sample = async (atS: number) => {
    const s: SoakSample = { atS, rssBytes: rssBytes(replica.pid) };
    try {
      const text = await (await fetch(`${replica.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } })).text();
      const p99 = metricValue(text, 'c360_nodejs_eventloop_lag_p99_seconds');
      s.eventLoopP99Ms = p99 === undefined ? undefined : p99 * 1000;
      s.heapUsedBytes = metricValue(text, 'c360_nodejs_heap_size_used_bytes');
    } catch {
      /* a missed sample */
    }
    samples.push(s);
  };
  await sample(0); // also resets the event-loop histogram, so the next sample covers the soak only
  let nextSample = everyS;
  let cold = 0;
  ctx.log(`  ${durationS} s at ${rate} req/s (80 % cached, 20 % cold), sampling every ${everyS} s`);
  const results = await runPaced({
    ratePerSec: rate,
    durationMs: durationS * 1000,
    onTick: (elapsedMs) => {
      if (elapsedMs / 1000 >= nextSample) {
        pending.push(sample(nextSample));
        nextSample += everyS;
      }
    },
    next: (i) => ({ target, call: actionCall(token, { customerId: i % 5 === 4 ? pool[cold++ % pool.length] : hot[i % hot.length] }) }),
  });
  await Promise.all(pending);
  await sample(durationS);
  target.destroy();
  await ctx.rig.sims.healAll();
  samples.sort((a, b) => a.atS - b.atS);
  const tally = tallyOf(results);
  const summary = answeredLatency(results);
  const rss = samples.map((s) => s.rssBytes).filter((v): v is number => v !== undefined);
  const eld = summarize(samples.slice(1).map((s) => s.eventLoopP99Ms).filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const rssStart = rss[0];
  const rssEnd = rss[rss.length - 1];
  // growth over the second half only: the first includes warm-up (JIT, pools, caches filling)
  const rssMid = rss[Math.floor((rss.length - 1) / 2)];
  return {
    name: 'soak',
    rows: [
      { scenario: SCENARIO, measure: `RSS start → end over ${durationS} s at ${rate} req/s`, result: `${mib(rssStart)} → ${mib(rssEnd)} (max ${mib(Math.max(...rss))}; ${num((100 * (rssEnd - rssStart)) / rssStart, 1)} %; second half ${rssEnd >= rssMid ? '+' : ''}${mib(rssEnd - rssMid)})`, goal: '— (steady, no climb)', verdict: 'info' },
      {
        scenario: SCENARIO,
        measure: `event-loop delay p99 (per ${everyS} s sample)`,
        result: `median ${ms(eld.p50)}, worst ${ms(eld.max)} (prom-client's figure, which includes its ${ELD_RESOLUTION_MS} ms sampling timer)`,
        goal: '—',
        verdict: 'info',
      },
      { scenario: SCENARIO, measure: 'requests', result: `${tallyText(tally)}; p50 ${ms(summary.p50)}, p99 ${ms(summary.p99)}`, goal: 'no failed request', verdict: tally.failed === 0 ? 'meets' : 'misses' },
    ],
    latency: [{ group: SCENARIO, label: `${rate} req/s for ${durationS} s (20 % cold)`, summary }],
    notes: [`Soak: a fresh service process; RSS read from /proc/<pid>/status, event-loop delay from its own /metrics (prom-client resets the histogram at each scrape, so each sample covers the ${everyS} s before it).`],
    raw: { durationS, ratePerSec: rate, sampleEveryS: everyS, samples, tally, latency: summary },
  };
}
