import { describe, expect, it } from 'vitest';
import { parseArgs, SCENARIOS } from './args.js';

describe('bench arguments', () => {
  it('runs every scenario by default, full length, into bench-results', () => {
    expect(parseArgs([])).toEqual({ scenarios: [...SCENARIOS], quick: false, out: 'bench-results', profile: false, connections: 10, logLevel: 'info', help: false });
    expect(parseArgs(['all']).scenarios).toEqual([...SCENARIOS]);
  });

  it('runs named scenarios in the documented order', () => {
    expect(parseArgs(['drills', 'cache-hit']).scenarios).toEqual(['cache-hit', 'drills']);
    expect(parseArgs(['storm', 'storm']).scenarios).toEqual(['storm']);
  });

  it('reads options with a separate or an inline value', () => {
    const o = parseArgs(['cold', '--quick', '--duration', '5', '--out=/tmp/b', '--profile', '--connections=50', '--soak', '60', '--log-level', 'warn']);
    expect(o).toMatchObject({ scenarios: ['cold'], quick: true, durationS: 5, out: '/tmp/b', profile: true, connections: 50, soakS: 60, logLevel: 'warn' });
  });

  it('refuses unknown scenarios and options, and bad numbers', () => {
    expect(() => parseArgs(['warp'])).toThrow(/unknown scenario "warp"/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseArgs(['--duration', 'x'])).toThrow(/--duration needs a positive number/);
    expect(() => parseArgs(['--duration'])).toThrow(/--duration/);
    expect(() => parseArgs(['--connections', '0'])).toThrow(/--connections/);
  });

  it('asks for help', () => {
    expect(parseArgs(['--help']).help).toBe(true);
  });
});
