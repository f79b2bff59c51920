/**
 * `npm run sim`                               the four simulators alone, on the sandbox ports
 * `npm run sim -- fault <system> k=v [k=v…]`  set faults on a running simulator (e.g. latencyMs=2000)
 * `npm run sim -- heal <system>`              clear its faults
 * `npm run sim -- calls <system>`             what it received
 * `npm run sim -- reset <system>`             data, faults and counters back to the seed
 * `npm run sim -- expire-tokens <system>`     make every issued token invalid
 * <system> is salesforce, sap, servicenow, genesys or all.
 */
import { SANDBOX_PORTS, startSimulators, stopSimulators } from './simulators.js';

const SYSTEMS = ['salesforce', 'sap', 'servicenow', 'genesys'] as const;

function targets(name: string | undefined): Array<(typeof SYSTEMS)[number]> {
  if (name === 'all') return [...SYSTEMS];
  if (SYSTEMS.includes(name as (typeof SYSTEMS)[number])) return [name as (typeof SYSTEMS)[number]];
  throw new Error(`unknown system "${name ?? ''}": use ${SYSTEMS.join(', ')} or all`);
}

function parseValue(raw: string): unknown {
  if (raw === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (raw.includes(',')) return raw.split(',');
  return raw;
}

async function control(system: (typeof SYSTEMS)[number], method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${SANDBOX_PORTS[system]}/__sim/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  process.stdout.write(`${system}: ${response.status} ${await response.text()}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, system, ...rest] = argv;
  if (command === undefined) {
    const sims = await startSimulators(SANDBOX_PORTS);
    for (const name of SYSTEMS) process.stdout.write(`${name.padEnd(11)} ${sims[name].url}\n`);
    process.once('SIGINT', () => void stopSimulators(sims).then(() => process.exit(0)));
    return;
  }
  for (const target of targets(system)) {
    switch (command) {
      case 'fault':
        await control(target, 'PUT', 'faults', Object.fromEntries(rest.map((kv) => kv.split('=')).map(([k, v]) => [k, parseValue(v ?? '')])));
        break;
      case 'heal':
        await control(target, 'DELETE', 'faults');
        break;
      case 'calls':
        await control(target, 'GET', 'calls');
        break;
      case 'reset':
        await control(target, 'POST', 'reset');
        break;
      case 'expire-tokens':
        await control(target, 'POST', 'expire-tokens');
        break;
      default:
        throw new Error(`unknown command "${command}"`);
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
