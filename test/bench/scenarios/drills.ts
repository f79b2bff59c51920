/**
 * 8. Failure drills, each under steady load over 3 service processes behind a readiness-probing
 * balancer (what a Kubernetes Service does): Redis killed and restarted; one CRM killed and
 * restarted; the Genesys token endpoint down; SIGTERM to one replica. Each reports requests sent,
 * answered, degraded and failed.
 */
import { Balancer, runPaced, type Sample,Target } from '../load.js';
import type { Replica } from '../rig.js';
import type { LatencyBar } from '../svg.js';
import { ms, type Row } from '../table.js';
import { actionCall, answeredLatency, coldPool, type Context, FIXED_LATENCY, HOT_PHONE, MULTI_REPLICA_ENV, type ScenarioResult,seconds, tallyOf, tallyText } from './scenario.js';

const SCENARIO = '8. Drills';

interface DrillRun {
  samples: Sample[];
  events: Array<{ atMs: number; what: string }>;
  extra: Row[];
  raw: Record<string, unknown>;
}

interface Drill {
  key: 'redis' | 'crm' | 'genesys-token' | 'sigterm';
  title: string;
  clickToDial?: boolean;
  /** The fault at 1/3 of the run and the recovery at 2/3 (SIGTERM: at 1/2, no recovery). */
  steps: (ctx: Context, replicas: Replica[]) => Array<{ at: number; what: string; run: () => Promise<void> }>;
  after?: (ctx: Context, run: DrillRun, replicas: Replica[], balancer: Balancer) => Promise<void>;
}

/** When the SIGTERM drill signalled its replica (epoch ms). */
let signalledAt = Number.NaN;

const DRILLS: Drill[] = [
  {
    key: 'redis',
    title: 'Redis killed, then restarted',
    steps: (ctx) => [
      { at: 1 / 3, what: 'Redis killed (SIGKILL)', run: () => ctx.rig.redis.kill() },
      { at: 2 / 3, what: 'Redis restarted (empty)', run: () => ctx.rig.redis.resume() },
    ],
  },
  {
    key: 'crm',
    title: 'SAP simulator stopped (port refuses), then restarted',
    steps: (ctx) => [
      { at: 1 / 3, what: 'SAP stopped', run: () => ctx.rig.sims.stopSim('sap') },
      { at: 2 / 3, what: 'SAP restarted', run: () => ctx.rig.sims.startSim('sap') },
    ],
  },
  {
    key: 'genesys-token',
    title: 'Genesys token endpoint answering 503, then back',
    clickToDial: true,
    steps: (ctx) => [
      { at: 1 / 3, what: 'Genesys /oauth/token → 503', run: () => ctx.rig.sims.setFaults('genesys', { forcedStatus: 503, only: ['token'] }) },
      { at: 2 / 3, what: 'Genesys /oauth/token healthy', run: () => ctx.rig.sims.setFaults('genesys', { forcedStatus: null, only: [] }) },
    ],
  },
  {
    key: 'sigterm',
    title: 'SIGTERM to one of 3 replicas',
    steps: (_ctx, replicas) => [
      {
        at: 1 / 2,
        what: `SIGTERM to replica 1 (pid ${replicas[0].pid})`,
        run: async () => {
          signalledAt = Date.now();
          replicas[0].child.kill('SIGTERM');
        },
      },
    ],
    after: async (_ctx, run, replicas, balancer) => {
      const victim = replicas[0];
      const sigterm = run.events.find((e) => e.what.startsWith('SIGTERM'));
      const sigtermAt = sigterm?.atMs ?? Number.NaN;
      const started = Date.now();
      await Promise.race([victim.exited, new Promise((r) => setTimeout(r, 30_000))]);
      const exit = victim.exit === undefined ? 'still running 30 s after the run' : `${victim.exit} after ${((Number(victim.exitedAt) - signalledAt) / 1000).toFixed(1)} s`;
      const toVictim = run.samples.filter((s) => s.target === 0);
      const inFlight = toVictim.filter((s) => s.at < sigtermAt && s.at + s.latencyMs > sigtermAt);
      const after = toVictim.filter((s) => s.at >= sigtermAt);
      const dropped = balancer.changes.find(([at, index, ready]) => index === 0 && !ready && at >= sigtermAt);
      const failedInFlight = inFlight.filter((s) => s.status !== '200').length;
      const failedAfter = after.filter((s) => s.status !== '200').length;
      run.raw.sigterm = { sigtermAtMs: sigtermAt, exit, waitedAfterRunMs: Date.now() - started, inFlight: inFlight.length, failedInFlight, sentAfter: after.length, failedAfter, balancerDroppedAfterMs: dropped ? dropped[0] - sigtermAt : null };
      run.extra.push({
        scenario: SCENARIO,
        measure: 'SIGTERM: the terminated replica',
        result: `${inFlight.length} requests in flight at SIGTERM (${failedInFlight} failed); ${after.length} more sent to it before the balancer's probe took it out${dropped ? ` (${Math.round(dropped[0] - sigtermAt)} ms)` : ''} (${failedAfter} failed); it exited: ${exit}`,
        goal: 'drops nothing',
        verdict: failedInFlight + failedAfter === 0 ? 'meets' : 'misses',
      });
    },
  },
];

async function runDrill(ctx: Context, drill: Drill, durationS: number, rate: number): Promise<{ rows: Row[]; latency: LatencyBar[]; raw: Record<string, unknown> }> {
  const replicas = await ctx.rig.startReplicas(3, MULTI_REPLICA_ENV);
  await ctx.rig.reset();
  await ctx.rig.sims.setLatencies(FIXED_LATENCY);
  const token = await ctx.rig.token(replicas[0]);
  const balancer = new Balancer(replicas.map((r, i) => new Target(r.url, i)));
  // each customer again every 6 s, after its 5 s of freshness: a live call, with a stale copy to fall back on
  const pool = coldPool(ctx).slice(0, Math.max(10, Math.round(rate * 6)));
  for (const t of balancer.targets) {
    await fetch(`${t.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ customerId: pool[t.index] }) });
    if (drill.clickToDial) await fetch(`${t.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ actionType: 'clickToDial', phone: HOT_PHONE }) });
  }
  balancer.start();
  try {
    return await drive(ctx, drill, durationS, rate, { replicas, balancer, token, pool });
  } finally {
    balancer.stop();
    for (const t of balancer.targets) t.destroy();
    if (!ctx.rig.redis.running) await ctx.rig.redis.resume();
    await ctx.rig.sims.startSim('sap').catch(() => undefined);
    await ctx.rig.sims.healAll();
  }
}

async function drive(
  ctx: Context,
  drill: Drill,
  durationS: number,
  rate: number,
  { replicas, balancer, token, pool }: { replicas: Replica[]; balancer: Balancer; token: string; pool: readonly string[] },
): Promise<{ rows: Row[]; latency: LatencyBar[]; raw: Record<string, unknown> }> {
  const steps = drill.steps(ctx, replicas).map((s) => ({ ...s, fired: false }));
  const events: DrillRun['events'] = [];
  const fired: Array<Promise<void>> = [];
  const clickEvery = Math.max(1, Math.round(rate / 2)); // two click-to-dial calls a second
  ctx.log(`  ${drill.title}: ${durationS} s at ${rate} req/s`);
  const samples = await runPaced({
    ratePerSec: rate,
    durationMs: durationS * 1000,
    onTick: (elapsedMs) => {
      for (const step of steps) {
        if (!step.fired && elapsedMs >= step.at * durationS * 1000) {
          step.fired = true;
          events.push({ atMs: Math.round(elapsedMs), what: step.what });
          fired.push(step.run().catch((err: unknown) => ctx.log(`  ${step.what} failed: ${String(err)}`)));
        }
      }
    },
    next: (i) => {
      const target = balancer.pick();
      if (!target) return undefined;
      const call = drill.clickToDial && i % clickEvery === clickEvery - 1 ? actionCall(token, { actionType: 'clickToDial', phone: HOT_PHONE }, 'clickToDial') : actionCall(token, { customerId: pool[i % pool.length] });
      return { target, call };
    },
  });
  await Promise.all(fired);
  balancer.stop();
  const run: DrillRun = { samples, events, extra: [], raw: { events, balancerChanges: balancer.changes } };
  await drill.after?.(ctx, run, replicas, balancer);

  const lookups = tallyOf(samples, 'lookup');
  const summary = answeredLatency(samples, 'lookup');
  const when = events.map((e) => `${e.what} at ${(e.atMs / 1000).toFixed(1)} s`).join('; ');
  const rows: Row[] = [
    {
      scenario: SCENARIO,
      measure: `${drill.title} (${when}; ${durationS} s, ${rate} req/s, 3 replicas)`,
      result: `screen pops: ${tallyText(lookups)}; p99 ${ms(summary.p99)}`,
      goal: 'no failed request',
      verdict: lookups.failed === 0 ? 'meets' : 'misses',
    },
  ];
  const raw: Record<string, unknown> = { ...run.raw, durationS, ratePerSec: rate, lookups, latency: summary };
  if (drill.clickToDial) {
    const clicks = tallyOf(samples, 'clickToDial');
    raw.clickToDial = clicks;
    rows.push({ scenario: SCENARIO, measure: 'Genesys token endpoint down: click-to-dial (Platform API, cached token)', result: tallyText(clicks), goal: 'no failed request', verdict: clicks.failed === 0 ? 'meets' : 'misses' });
  }
  rows.push(...run.extra);
  return { rows, latency: [{ group: SCENARIO, label: drill.title, summary }], raw };
}

export async function drills(ctx: Context): Promise<ScenarioResult> {
  const durationS = seconds(ctx, 30, 5);
  const rate = ctx.options.quick ? 40 : 60;
  const rows: Row[] = [];
  const latency: LatencyBar[] = [];
  const raw: Record<string, unknown> = {};
  for (const drill of DRILLS) {
    const result = await runDrill(ctx, drill, durationS, rate);
    rows.push(...result.rows);
    latency.push(...result.latency);
    raw[drill.key] = result.raw;
  }
  return {
    name: 'drills',
    rows,
    latency,
    notes: [
      `Drills: 3 service processes; the bench balances round robin over the replicas whose GET /health/ready answered 200 at the last probe (every 250 ms), as a Kubernetes Service does; CACHE_FRESH_TTL_MS 5000 and each customer asked again every 6 s, so look-ups keep calling the CRMs with a stale copy to fall back on; SHUTDOWN_GRACE_MS 5000; the Genesys token is refreshed in the background 3 s after issue (GENESYS_TOKEN_REFRESH_BEFORE_MS), so refreshes fail while the token endpoint is down; click-to-dial runs at 2/s in that drill. "degraded" = a 200 with at least one source stale, timed out or unavailable.`,
    ],
    raw,
  };
}
