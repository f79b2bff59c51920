import { describe, expect, it } from 'vitest';

import { parseArgs, SCENARIOS, USAGE } from './args.js';

describe('bench arguments', () => {
  it('runs every scenario by default, full length, into bench-results', () => {
    expect(parseArgs([])).toEqual({ scenarios: [...SCENARIOS], quick: false, out: 'bench-results', profile: false, connections: 10, logLevel: 'info', help: false });
    expect(parseArgs(['all']).scenarios).toEqual([...SCENARIOS]);
  });

  it('runs named scenarios in the documented order', () => {
    expect(parseArgs(['drills', 'cache-hit']).scenarios).toEqual(['cache-hit', 'drills']);
    expect(parseArgs(['storm', 'storm']).scenarios).toEqual(['storm']);
    expect(parseArgs(['storm', 'all']).scenarios).toEqual([...SCENARIOS]);
  });

  it('reads options with a separate or an inline value, before or after the scenarios', () => {
    const o = parseArgs(['cold', '--quick', '--duration', '5', '--out=/tmp/b', '--profile', '--connections=50', '--soak', '60', '--log-level', 'warn']);
    expect(o).toEqual({ scenarios: ['cold'], quick: true, durationS: 5, out: '/tmp/b', profile: true, connections: 50, soakS: 60, logLevel: 'warn', help: false });
    expect(parseArgs(['--duration=2.5', '--log-level=debug', 'storm'])).toMatchObject({ scenarios: ['storm'], durationS: 2.5, logLevel: 'debug' });
  });

  it('takes the last of a repeated option, and rounds connections to a whole number', () => {
    expect(parseArgs(['--out', 'a', '--out', 'b']).out).toBe('b');
    expect(parseArgs(['--connections', '7.6']).connections).toBe(8);
  });

  it('refuses unknown scenarios, naming the known ones', () => {
    expect(() => parseArgs(['warp'])).toThrow(`unknown scenario "warp" (one of: ${SCENARIOS.join(', ')}, all)`);
    // a scenario-like word after -- is still a scenario name, and still checked
    expect(() => parseArgs(['--', '--fast'])).toThrow(/unknown scenario "--fast"/);
  });

  it('refuses unknown options, long, short or inline, naming them', () => {
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option '--fast'/i);
    expect(() => parseArgs(['--fast=1'])).toThrow(/unknown option '--fast'/i);
    expect(() => parseArgs(['-x'])).toThrow(/unknown option '-x'/i);
    expect(() => parseArgs(['cold', '--Quick'])).toThrow(/unknown option '--Quick'/i);
  });

  it('refuses an option without its value, and a value given to a switch', () => {
    expect(() => parseArgs(['--duration'])).toThrow(/'--duration <value>' argument missing/);
    // the next flag is not taken as the value
    expect(() => parseArgs(['--out', '--quick'])).toThrow(/'--out' argument is ambiguous/);
    expect(() => parseArgs(['--quick=yes'])).toThrow(/'--quick' does not take an argument/);
  });

  it('refuses numbers that are not positive, and empty directories or levels', () => {
    expect(() => parseArgs(['--duration', 'x'])).toThrow('--duration needs a positive number, got x');
    expect(() => parseArgs(['--duration=-5'])).toThrow('--duration needs a positive number, got -5');
    expect(() => parseArgs(['--soak', 'Infinity'])).toThrow('--soak needs a positive number, got Infinity');
    expect(() => parseArgs(['--duration='])).toThrow('--duration needs a positive number, got nothing');
    expect(() => parseArgs(['--connections', '0'])).toThrow('--connections needs a positive number, got 0');
    expect(() => parseArgs(['--connections', '0.4'])).toThrow('--connections needs a positive number, got 0.4');
    expect(() => parseArgs(['--out='])).toThrow('--out needs a directory');
    expect(() => parseArgs(['--log-level='])).toThrow('--log-level needs a level');
  });

  it('asks for help, long or short', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['cold']).help).toBe(false);
  });

  it('lists every scenario and option in the usage text', () => {
    expect(USAGE).toContain(SCENARIOS.join(' '));
    for (const flag of ['--quick', '--duration S', '--soak S', '--connections N', '--log-level L', '--profile', '--out DIR', '--help']) expect(USAGE).toContain(flag);
  });
});
