/** `npm run bench -- [scenario…|all] [--quick] [--duration S] [--out DIR] [--profile] …` */

export const SCENARIOS = ['cache-hit', 'cold', 'slow-sap', 'storm', 'stampede', 'shift-change', 'soak', 'drills'] as const;
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

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number, got ${raw ?? 'nothing'}`);
  return value;
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { scenarios: [], quick: false, out: 'bench-results', profile: false, connections: 10, logLevel: 'info', help: false };
  const picked = new Set<ScenarioName>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        options.quick = true;
        break;
      case '--profile':
        options.profile = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--duration':
        options.durationS = positive('--duration', value());
        break;
      case '--soak':
        options.soakS = positive('--soak', value());
        break;
      case '--connections':
        options.connections = Math.round(positive('--connections', value()));
        break;
      case '--out': {
        const out = value();
        if (!out) throw new Error('--out needs a directory');
        options.out = out;
        break;
      }
      case '--log-level': {
        const level = value();
        if (!level) throw new Error('--log-level needs a level');
        options.logLevel = level;
        break;
      }
      case 'all':
        for (const s of SCENARIOS) picked.add(s);
        break;
      default:
        if (flag.startsWith('-')) throw new Error(`unknown option ${flag}`);
        if (!(SCENARIOS as readonly string[]).includes(flag)) throw new Error(`unknown scenario "${flag}" (one of: ${SCENARIOS.join(', ')}, all)`);
        picked.add(flag as ScenarioName);
    }
  }
  // run in the documented order, whatever order they were named in
  options.scenarios = picked.size === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => picked.has(s));
  return options;
}
