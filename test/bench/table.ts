/**
 * The results table: one row per measured figure, beside the product goal it is judged against.
 * Pure formatting (markdown), so what the README quotes is unit-tested.
 */

export type Verdict = 'meets' | 'misses' | 'info';

export interface Row {
  /** Scenario number and name, e.g. "1. Cache hit". */
  scenario: string;
  measure: string;
  result: string;
  goal: string;
  verdict: Verdict;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started (a busy machine shows here). */
  loadAverage: number;
  date: string;
  quick: boolean;
  commit?: string;
}

/** 1234.5 → "1,235"; small numbers keep a decimal or two. */
export function num(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** Milliseconds with a unit, precise where it matters: "0.84 ms", "12.3 ms", "801 ms", "2.40 s". */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 10_000) return `${num(value / 1000, 1)} s`;
  if (Math.abs(value) >= 1000) return `${num(value / 1000, 2)} s`;
  return `${num(value)} ms`;
}

export function perSecond(value: number): string {
  return `${num(value, 0)} req/s`;
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${num(value, 2)}×` : '–';
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '–';
  const share = (100 * part) / whole;
  return `${share === 100 || share === 0 ? num(share, 0) : num(share, 1)} %`;
}

export function mib(bytes: number): string {
  return `${num(bytes / (1024 * 1024), 1)} MiB`;
}

const MARK: Record<Verdict, string> = { meets: '✅', misses: '❌', info: '' };

/** A cell may not break the table: pipes are escaped and line breaks become spaces. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The markdown table (GitHub flavour) of every row, in order. */
export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| Scenario | Measure | Result | Goal | |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${cell(r.scenario)} | ${cell(r.measure)} | ${cell(r.result)} | ${cell(r.goal)} | ${MARK[r.verdict]} |`);
  return lines.join('\n');
}

/** One line naming the machine, for the table's caption. */
export function machineLine(m: MachineInfo): string {
  const mode = m.quick ? 'quick variant' : 'full run';
  const commit = m.commit ? `, commit ${m.commit}` : '';
  return `${m.date.slice(0, 10)}, ${mode}${commit}: ${m.cpuModel}, ${m.cores} cores, ${num(m.memoryGiB, 0)} GiB, Node ${m.node}, ${m.os}; load average ${num(m.loadAverage, 2)} at start`;
}

/** The whole results.md: caption, table and notes. */
export function resultsMarkdown(machine: MachineInfo, rows: readonly Row[], notes: readonly string[]): string {
  const parts = [`# Benchmark results`, '', machineLine(machine), '', markdownTable(rows)];
  if (notes.length > 0) parts.push('', ...notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}

/** CPU seconds each part of the rig used during one scenario. */
export interface CpuShare {
  service: number;
  simulators: number;
  redis: number;
  bench: number;
}

/** One note telling where the machine's CPU went in each scenario (a check that the simulators and the load generator did not crowd out the service). */
export function cpuNote(entries: ReadonlyArray<{ name: string; wallS: number; cpu: CpuShare }>, cores: number): string {
  const parts = entries.map((e) => `${e.name} ${num(e.cpu.service, 1)} / ${num(e.cpu.simulators, 1)} / ${num(e.cpu.redis, 1)} / ${num(e.cpu.bench, 1)} in ${num(e.wallS, 1)} s`);
  return `CPU seconds used (service processes / simulators / redis-server / bench process, against wall time; ${cores} cores give ${cores} CPU-s per s): ${parts.join('; ')}.`;
}
