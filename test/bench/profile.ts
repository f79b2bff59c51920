/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and sums self time by function and by
 * where the code lives (our code, a package, Node internals, GC, idle).
 * `node dist/test/bench/profile.js <file.cpuprofile> [top]` prints the summary of one file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  /** file:line, shortened. */
  where: string;
  area: string;
  selfMs: number;
  share: number;
}

/** "our code", "pkg:fastify", "node internals", "GC", "idle", "program". */
export function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)' || functionName === '(root)') return 'program';
  if (url === '') return 'native / V8';
  if (url.startsWith('node:')) return 'node internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  if (/\/dist\/src\//.test(url) || /\/src\//.test(url)) return 'our code';
  return 'other';
}

function shortWhere(url: string, line: number): string {
  if (url === '') return '';
  const trimmed = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
  return `${trimmed}:${line + 1}`;
}

/** Self time per function (ms), most first. Time is attributed from samples and timeDeltas. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0) {
    // timeDeltas[i] is the time since the previous sample; it belongs to the sample before it
    for (let i = 0; i < samples.length; i++) {
      const next = deltas[i + 1] ?? 0;
      selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, next));
    }
  } else {
    const total = profile.endTime - profile.startTime;
    const hits = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    for (const n of profile.nodes) selfUs.set(n.id, ((n.hitCount ?? 0) / hits) * total);
  }
  const grouped = new Map<string, SelfTime>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = shortWhere(url, lineNumber);
    const key = `${name}\n${where}`;
    const entry = grouped.get(key) ?? { name, where, area: areaOf(url, functionName), selfMs: 0, share: 0 };
    entry.selfMs += us / 1000;
    grouped.set(key, entry);
  }
  const out = [...grouped.values()].sort((a, b) => b.selfMs - a.selfMs);
  for (const e of out) e.share = totalUs > 0 ? (e.selfMs * 1000) / totalUs : 0;
  return out;
}

/** Self time summed by area, most first. */
export function byArea(times: readonly SelfTime[]): Array<{ area: string; selfMs: number; share: number }> {
  const sums = new Map<string, { selfMs: number; share: number }>();
  for (const t of times) {
    const s = sums.get(t.area) ?? { selfMs: 0, share: 0 };
    s.selfMs += t.selfMs;
    s.share += t.share;
    sums.set(t.area, s);
  }
  return [...sums.entries()].map(([area, s]) => ({ area, ...s })).sort((a, b) => b.selfMs - a.selfMs);
}

/** A plain-text report: the top functions, then the areas, excluding idle time from the shares of busy time. */
export function profileReport(profile: CpuProfile, top = 25): string {
  const all = selfTimes(profile);
  const busy = all.filter((t) => t.area !== 'idle');
  const busyMs = busy.reduce((a, t) => a + t.selfMs, 0);
  const pct = (v: number) => `${((100 * v) / (busyMs || 1)).toFixed(1).padStart(5)} %`;
  const lines = [`busy ${busyMs.toFixed(0)} ms of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled`, '', 'top self time (share of busy time):'];
  for (const t of busy.slice(0, top)) lines.push(`${pct(t.selfMs)}  ${t.selfMs.toFixed(0).padStart(6)} ms  ${t.name}  ${t.where}  [${t.area}]`);
  lines.push('', 'by area:');
  for (const a of byArea(busy).slice(0, 15)) lines.push(`${pct(a.selfMs)}  ${a.selfMs.toFixed(0).padStart(6)} ms  ${a.area}`);
  const ours = busy.filter((t) => t.area === 'our code').slice(0, 10);
  if (ours.length > 0) {
    lines.push('', 'our code, by self time:');
    for (const t of ours) lines.push(`${pct(t.selfMs)}  ${t.selfMs.toFixed(0).padStart(6)} ms  ${t.name}  ${t.where}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/test/bench/profile.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${profileReport(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25))}\n`);
}
