/**
 * `npm run bench -- [scenario…] [--quick] …`: starts a private Redis, the simulators and the built
 * service as separate processes, runs the scenarios, and writes `<out>/results.md` (the table),
 * `<out>/results.json` (every number, with the machine) and `<out>/bench.svg` (the picture).
 * All traffic stays on 127.0.0.1. See `USAGE` in args.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { seededCustomers } from '../sandbox/shared/seed.js';
import { type BenchOptions, parseArgs, type ScenarioName, USAGE } from './args.js';
import { type CpuProfile, profileReport } from './profile.js';
import { Rig } from './rig.js';
import { cacheHit } from './scenarios/cache-hit.js';
import { cold } from './scenarios/cold.js';
import { drills } from './scenarios/drills.js';
import { nearCache } from './scenarios/near-cache.js';
import { queueThenAnswer } from './scenarios/queue-then-answer.js';
import { redisFailover } from './scenarios/redis-failover.js';
import { type Context, DEADLINE_MS, GENESYS_TOKEN_LIFETIME_S, type ScenarioResult } from './scenarios/scenario.js';
import { slowSap } from './scenarios/slow-sap.js';
import { soak } from './scenarios/soak.js';
import { shiftChange, stampede } from './scenarios/stampede.js';
import { storm } from './scenarios/storm.js';
import { benchSvg } from './svg.js';
import { cpuNote, type CpuShare, type MachineInfo, machineLine, resultsMarkdown, type Row } from './table.js';

const RUNNERS: Record<ScenarioName, (ctx: Context) => Promise<ScenarioResult>> = {
  'cache-hit': cacheHit,
  cold,
  'slow-sap': slowSap,
  storm,
  stampede,
  'shift-change': shiftChange,
  soak,
  drills,
  'queue-then-answer': queueThenAnswer,
  'near-cache': nearCache,
  'redis-failover': redisFailover,
};

function machine(options: BenchOptions): MachineInfo {
  let commit: string | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = undefined;
  }
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg()[0],
    date: new Date().toISOString(),
    quick: options.quick,
    commit,
  };
}

const GENERAL_NOTES = [
  'Everything runs on this one machine: the load generator (autocannon, or the bench\'s own node:http driver where each answer is judged), the service processes, redis-server and the simulators (in a process of their own) share its cores, so absolute figures are lower than on a dedicated host; the ratios within one run are the robust numbers.',
  'The service runs as built (`dist/src/main.js`, with the node flags of the image\'s ENTRYPOINT, read from the Dockerfile) with NODE_ENV=production, LOG_LEVEL as given (info by default: a request line only for a slow or refused request, to a file), Redis for cache, locks and shared limits, and real inbound auth (a JWT from its own /oauth/token, or the API key where said). THROTTLE_LIMIT is raised so the inbound throttle never refuses, but it still counts every request (in the process; shared through Redis every THROTTLE_SYNC_MS).',
];

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  mkdirSync(options.out, { recursive: true });
  const info = machine(options);
  const log = (message: string) => process.stdout.write(`${message}\n`);
  log(`bench: ${options.scenarios.join(', ')}${options.quick ? ' (quick)' : ''}\n${machineLine(info)}`);
  // enough that the shift change can warm every replica on customers its burst does not use
  const customers = options.quick ? 1200 : 5000;
  const startedAt = Date.now();
  const rig = await Rig.start({ customers, outDir: options.out, logLevel: options.logLevel, profile: options.profile, genesysTokenLifetimeSeconds: GENESYS_TOKEN_LIFETIME_S });
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping the processes …');
    void rig.close().finally(() => process.exit(130));
  });
  const ctx: Context = { rig, options, customerIds: seededCustomers(customers).map((c) => c.customerId), log };
  const results: ScenarioResult[] = [];
  const usage: Array<{ name: string; wallS: number; cpu: CpuShare }> = [];
  try {
    for (const name of options.scenarios) {
      if (interrupted) break;
      const t0 = Date.now();
      const cpu0 = rig.cpu();
      log(`\n▶ ${name}`);
      let result: ScenarioResult;
      try {
        result = await RUNNERS[name](ctx);
      } catch (err) {
        log(`  ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        result = { name, rows: [{ scenario: name, measure: 'the scenario itself', result: `did not complete: ${err instanceof Error ? err.message : String(err)}`, goal: '', verdict: 'misses' }], latency: [], notes: [], raw: { error: String(err) } };
      }
      const cpu1 = rig.cpu();
      const wallS = (Date.now() - t0) / 1000;
      usage.push({ name, wallS, cpu: { service: cpu1.service - cpu0.service, simulators: cpu1.simulators - cpu0.simulators, redis: cpu1.redis - cpu0.redis, bench: cpu1.bench - cpu0.bench } });
      result.raw.cpuSeconds = usage[usage.length - 1];
      results.push(result);
      log(`  (${wallS.toFixed(1)} s)`);
    }
  } finally {
    await rig.close();
  }

  const rows: Row[] = results.flatMap((r) => r.rows);
  const notes = [...GENERAL_NOTES, ...results.flatMap((r) => r.notes), cpuNote(usage, info.cores), `Reproduce: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` (one scenario: \`npm run bench -- <name>\`). Service logs of this run: ${join(options.out, 'logs')}.`];
  const markdown = resultsMarkdown(info, rows, notes);
  const rateCharts = results.flatMap((r) => r.storm ?? []);
  const svg = await benchSvg({
    title: 'Customer 360 middleware — npm run bench',
    subtitle: machineLine(info),
    latency: results.flatMap((r) => r.latency),
    markers: [{ ms: DEADLINE_MS, label: `deadline ${DEADLINE_MS} ms` }],
    storm: rateCharts.length > 0 ? { title: 'Calls per second each CRM received from 3 replicas (dashed: its limit): rate-limit storm and shift change', charts: rateCharts } : undefined,
  });
  writeFileSync(join(options.out, 'results.md'), markdown);
  writeFileSync(join(options.out, 'bench.svg'), svg);
  writeFileSync(join(options.out, 'results.json'), `${JSON.stringify({ machine: info, options, customers, durationS: (Date.now() - startedAt) / 1000, scenarios: Object.fromEntries(results.map((r) => [r.name, { rows: r.rows, notes: r.notes, latency: r.latency, storm: r.storm, raw: r.raw }])) }, null, 2)}\n`);
  if (options.profile) summarizeProfiles(rig.profileDir, startedAt, log);
  log(`\n${markdown}`);
  log(`written: ${join(options.out, 'results.md')}, ${join(options.out, 'results.json')}, ${join(options.out, 'bench.svg')} (${((Date.now() - startedAt) / 1000).toFixed(0)} s in all)`);
}

function summarizeProfiles(dir: string, since: number, log: (m: string) => void): void {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= since);
  if (files.length === 0) {
    log(`\nno CPU profile was written to ${dir}`);
    return;
  }
  for (const file of files) {
    const report = profileReport(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    writeFileSync(`${file}.txt`, `${report}\n`);
    log(`\nCPU profile ${file}\n${report}`);
  }
}

main().then(
  // keep-alive sockets or a stray timer must not keep a finished bench alive
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
