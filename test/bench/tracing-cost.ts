/**
 * What tracing costs on the cache-hit path: the custom action (API key, every source fresh in
 * Redis) against service processes that differ only in their tracing settings — off (the default),
 * on with a 10 % sampler, on with every request sampled — and, when given, a build of the code
 * before OpenTelemetry (`--baseline path/to/dist/src/main.js`). The processes run side by side,
 * idle but for the one being measured; rounds are interleaved so the machine's drift favours none.
 * Spans go to a sink that accepts OTLP/HTTP and discards it (a collector's decoding is not the
 * service's cost). Reports requests per second, latency and CPU milliseconds per request.
 *
 *   npm run build && node dist/test/bench/tracing-cost.js [--duration 8] [--rounds 3] [--connections 10] [--baseline …] [--profile] [--variants before,off,on10,on100]
 *
 * --profile: each service process runs with --cpu-prof; the profiles are in
 * bench-results/tracing-cost/<variant>/ (summarize one with `node dist/test/bench/profile.js <file>`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sandboxEnv, startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';
import { cannon, type CannonRun } from './load.js';
import { cpuSeconds } from './rig.js';
import { GENEROUS_LIMITS, HOT_CUSTOMER, apiKeyHeaders } from './scenarios/scenario.js';
import { median, summarize } from './stats.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    baseline: { type: 'string' },
    profile: { type: 'boolean', default: false },
    variants: { type: 'string' },
  },
  strict: true,
});

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const PROFILES = fileURLToPath(new URL('../../../bench-results/tracing-cost', import.meta.url));

interface Variant {
  key: string;
  label: string;
  main: string;
  env: Record<string, string>;
}

interface Running extends Variant {
  url: string;
  child: ChildProcess;
  runs: Array<CannonRun & { cpuMsPerRequest: number }>;
}

async function start(variant: Variant, base: Record<string, string | undefined>): Promise<Running> {
  const port = await freePort();
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}/${variant.key}`] : [];
  const child = spawn(process.execPath, [...profile, variant.main], {
    env: { PATH: process.env.PATH ?? '', ...base, ...variant.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('customer360 listening')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${variant.label} exited (${code}) before listening:\n${output.slice(-2000)}`)));
  });
  // keep draining its log lines (one per request at info), as a log collector would
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return { ...variant, url: `http://127.0.0.1:${port}`, child, runs: [] };
}

async function main(): Promise<void> {
  const durationS = Number(args.duration);
  const rounds = Number(args.rounds);
  const connections = Number(args.connections);
  const [sims, redis] = await Promise.all([startSimulators(), RedisServer.start()]);
  let exports = 0;
  let exportedBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (exportedBytes += chunk.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  const base = sandboxEnv(sims, { REDIS_URL: redis.url, ...GENEROUS_LIMITS, CACHE_FRESH_TTL_MS: '3600000', LOG_LEVEL: 'info', GENESYS_AUTH: 'apikey', THROTTLE_LIMIT: '10000000' });
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl };
  const variants: Variant[] = [
    ...(args.baseline ? [{ key: 'before', label: 'before OpenTelemetry (hand-made trace context)', main: args.baseline, env: {} }] : []),
    { key: 'off', label: 'tracing off (default)', main: MAIN, env: {} },
    { key: 'on10', label: 'tracing on, parentbased_traceidratio 0.1', main: MAIN, env: { ...otel, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
    { key: 'on100', label: 'tracing on, every request sampled', main: MAIN, env: otel },
  ];
  const wanted = args.variants?.split(',');
  const running: Running[] = [];
  for (const v of variants) if (!wanted || wanted.includes(v.key)) running.push(await start(v, base));
  const body = JSON.stringify({ customerId: HOT_CUSTOMER });
  const options = (r: Running) => ({ url: `${r.url}/genesys/v1/customer-lookup`, method: 'POST' as const, headers: apiKeyHeaders(), body, connections });
  try {
    for (const r of running) {
      const probe = await fetch(options(r).url, { method: 'POST', headers: apiKeyHeaders(), body });
      if (probe.status !== 200) throw new Error(`${r.label}: ${probe.status} ${await probe.text()}`);
      await cannon({ ...options(r), durationS: 2 }); // warm-up (JIT, pools)
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < running.length; k++) {
        const r = running[(k + round) % running.length];
        const cpuBefore = cpuSeconds(r.child.pid) ?? 0;
        const run = await cannon({ ...options(r), durationS });
        const cpuMs = ((cpuSeconds(r.child.pid) ?? 0) - cpuBefore) * 1000;
        r.runs.push({ ...run, cpuMsPerRequest: cpuMs / Math.max(1, run.ok + run.non2xx) });
        process.stdout.write(`  round ${round + 1}: ${r.label}: ${Math.round(run.rps)} req/s, ${(cpuMs / Math.max(1, run.ok)).toFixed(3)} CPU ms/req${run.non2xx + run.errors > 0 ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''}\n`);
      }
    }
    const off = running.find((r) => r.key === 'off') ?? running[0];
    const offRps = median(off.runs.map((x) => x.rps));
    const offCpu = median(off.runs.map((x) => x.cpuMsPerRequest));
    process.stdout.write(`\nCustom action by customerId (API key), cache hit; ${connections} connections, ${rounds} × ${durationS} s per variant, interleaved\n\n`);
    process.stdout.write('| Variant | req/s (median) | vs off | p50 | p99 | CPU ms per request | vs off |\n|---|---|---|---|---|---|---|\n');
    for (const r of running) {
      const rps = median(r.runs.map((x) => x.rps));
      const cpu = median(r.runs.map((x) => x.cpuMsPerRequest));
      const lat = summarize(r.runs.flatMap((x) => x.latencies));
      const pct = (v: number, ref: number) => `${v >= ref ? '+' : ''}${(((v - ref) / ref) * 100).toFixed(1)} %`;
      process.stdout.write(`| ${r.label} | ${Math.round(rps)} | ${pct(rps, offRps)} | ${lat.p50.toFixed(2)} ms | ${lat.p99.toFixed(2)} ms | ${cpu.toFixed(3)} | ${pct(cpu, offCpu)} |\n`);
    }
    process.stdout.write(`\nOTLP exports received by the sink: ${exports} requests, ${(exportedBytes / 1024 / 1024).toFixed(1)} MiB\n`);
  } finally {
    for (const r of running) r.child.kill('SIGTERM');
    await Promise.all(running.map((r) => new Promise((resolve) => (r.child.exitCode !== null ? resolve(null) : r.child.once('exit', resolve)))));
    sink.close();
    await Promise.all([stopSimulators(sims), redis.stop()]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
