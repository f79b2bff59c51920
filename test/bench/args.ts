/** `npm run bench -- [scenario…|all] [--quick] [--duration S] [--out DIR] [--profile] …` */
import { parseArgs as parseCommandLine, type ParseArgsConfig } from 'node:util';

export const SCENARIOS = ['cache-hit', 'cold', 'slow-sap', 'storm', 'stampede', 'shift-change', 'soak', 'drills', 'queue-then-answer', 'near-cache', 'redis-failover'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: ScenarioName[];
  quick: boolean;
  /** Overrides each scenario's own length of a timed phase, in seconds. */
  durationS?: number;
  /** Soak length in seconds (default 180, quick 10). */
  soakS?: number;
  out: string;
  /** Start the service processes with --cpu-prof (profiles in <out>/profiles). */
  profile: boolean;
  /** autocannon connections in the cache-hit scenario. */
  connections: number;
  /** LOG_LEVEL of the service processes (production logs each request at info). */
  logLevel: string;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [scenario ...] [options]

Scenarios (default: all, in this order): ${SCENARIOS.join(' ')}

Options:
  --quick            shorter phases and smaller counts (the whole bench in about two minutes)
  --duration S       length of each timed phase in seconds (overrides the defaults)
  --soak S           soak length in seconds (default 180; quick 10)
  --connections N    concurrent connections of the cache-hit runs (default 10)
  --log-level L      LOG_LEVEL of the service processes (default info, as in production)
  --profile          run the services with --cpu-prof; profiles and their summary in <out>/profiles
  --out DIR          where results.md, results.json and bench.svg go (default bench-results)
  --help             this text`;

/** The options USAGE lists, for node:util's parser (values stay strings until checked below). */
const OPTIONS = {
  quick: { type: 'boolean', default: false },
  duration: { type: 'string' },
  soak: { type: 'string' },
  connections: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  profile: { type: 'boolean', default: false },
  out: { type: 'string', default: 'bench-results' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

function positive(name: string, raw: string | undefined, round: (n: number) => number = (n) => n): number | undefined {
  if (raw === undefined) return undefined;
  const value = round(Number(raw));
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number, got ${raw === '' ? 'nothing' : raw}`);
  return value;
}

function nonEmpty(raw: string, message: string): string {
  if (raw === '') throw new Error(message);
  return raw;
}

/**
 * Reads the bench's command line. Unknown options, a missing value and a value given to a switch
 * are refused by node:util's strict parser (its message names the option); numbers, directories
 * and scenario names are checked here.
 */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const { values, positionals } = parseCommandLine({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  const picked = new Set<ScenarioName>();
  for (const name of positionals) {
    if (name === 'all') SCENARIOS.forEach((s) => picked.add(s));
    else if ((SCENARIOS as readonly string[]).includes(name)) picked.add(name as ScenarioName);
    else throw new Error(`unknown scenario "${name}" (one of: ${SCENARIOS.join(', ')}, all)`);
  }
  const connections = positive('--connections', values.connections, Math.round);
  const options: BenchOptions = {
    // run in the documented order, whatever order they were named in
    scenarios: picked.size === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => picked.has(s)),
    quick: values.quick,
    out: nonEmpty(values.out, '--out needs a directory'),
    profile: values.profile,
    connections: connections ?? 10,
    logLevel: nonEmpty(values['log-level'], '--log-level needs a level'),
    help: values.help,
  };
  const durationS = positive('--duration', values.duration);
  const soakS = positive('--soak', values.soak);
  if (durationS !== undefined) options.durationS = durationS;
  if (soakS !== undefined) options.soakS = soakS;
  return options;
}
