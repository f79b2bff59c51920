import { describe, expect, it } from 'vitest';

import { cpuNote, type MachineInfo, machineLine, markdownTable, mib, ms, num, percent, perSecond, ratio, resultsMarkdown, type Row } from './table.js';

const MACHINE: MachineInfo = {
  cpuModel: 'AMD EPYC',
  cores: 2,
  memoryGiB: 24,
  node: 'v20.20.2',
  os: 'Linux 6.1 x64',
  loadAverage: 0.42,
  date: '2026-11-23T10:00:00.000Z',
  quick: false,
  commit: 'abc1234',
};

describe('number formatting', () => {
  it('keeps precision where values are small and groups thousands', () => {
    expect(num(1234.5)).toBe('1,235');
    expect(num(12.34)).toBe('12.3');
    expect(num(1.234)).toBe('1.23');
    expect(num(Number.NaN)).toBe('–');
  });

  it('writes durations in ms below a second and in s above', () => {
    expect(ms(0.843)).toBe('0.84 ms');
    expect(ms(12.34)).toBe('12.3 ms');
    expect(ms(801.2)).toBe('801 ms');
    expect(ms(2400)).toBe('2.40 s');
    expect(ms(65_000)).toBe('65.0 s');
    expect(ms(-1.5)).toBe('-1.50 ms');
  });

  it('writes rates, ratios, shares and sizes', () => {
    expect(perSecond(2950.4)).toBe('2,950 req/s');
    expect(ratio(0.8712)).toBe('0.87×');
    expect(percent(1, 3)).toBe('33.3 %');
    expect(percent(5, 5)).toBe('100 %');
    expect(percent(0, 0)).toBe('–');
    expect(mib(100 * 1024 * 1024)).toBe('100.0 MiB');
  });
});

describe('the results table', () => {
  const rows: Row[] = [
    { scenario: '1. Cache hit', measure: 'custom action', result: '2,950 req/s = 0.87× bare', goal: '≥ 0.8× bare', verdict: 'meets' },
    { scenario: '4. Storm', measure: 'Salesforce | per second', result: '9 = 1.8× limit', goal: '≤ 5/s', verdict: 'misses' },
    { scenario: '7. Soak', measure: 'RSS', result: 'a\nb', goal: '—', verdict: 'info' },
  ];

  it('is a GitHub markdown table with a verdict column', () => {
    const lines = markdownTable(rows).split('\n');
    expect(lines[0]).toBe('| Scenario | Measure | Result | Goal | |');
    expect(lines[1]).toBe('|---|---|---|---|---|');
    expect(lines[2]).toBe('| 1. Cache hit | custom action | 2,950 req/s = 0.87× bare | ≥ 0.8× bare | ✅ |');
    expect(lines).toHaveLength(5);
  });

  it('escapes pipes and folds line breaks so a cell cannot break the table', () => {
    const lines = markdownTable(rows).split('\n');
    expect(lines[3]).toBe('| 4. Storm | Salesforce \\| per second | 9 = 1.8× limit | ≤ 5/s | ❌ |');
    expect(lines[4]).toBe('| 7. Soak | RSS | a b | — |  |');
  });

  it('names the machine the figures come from, and how the run was made', () => {
    expect(machineLine(MACHINE)).toBe('2026-11-23, full run, commit abc1234: AMD EPYC, 2 cores, 24 GiB, Node v20.20.2, Linux 6.1 x64; load average 0.42 at start');
    expect(machineLine({ ...MACHINE, quick: true, commit: undefined })).toMatch(/^2026-11-23, quick variant: /);
  });

  it('puts caption, table and notes into results.md', () => {
    const md = resultsMarkdown(MACHINE, rows, ['first note']);
    expect(md.startsWith('# Benchmark results\n\n2026-11-23, full run')).toBe(true);
    expect(md).toContain('| 1. Cache hit |');
    expect(md.endsWith('- first note\n')).toBe(true);
  });
});

describe('the CPU note', () => {
  it('lists CPU seconds per part of the rig for each scenario', () => {
    expect(cpuNote([{ name: 'cache-hit', wallS: 15.04, cpu: { service: 9.12, simulators: 0.01, redis: 1.234, bench: 8 } }], 2)).toBe(
      'CPU seconds used (service processes / simulators / redis-server / bench process, against wall time; 2 cores give 2 CPU-s per s): cache-hit 9.1 / 0.0 / 1.2 / 8.0 in 15.0 s.',
    );
  });
});
