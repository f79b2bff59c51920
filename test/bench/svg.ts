/**
 * The picture of a run, as hand-written SVG (no dependency): latency percentiles of every measured
 * series on one logarithmic axis, and the storm's calls per second to each CRM against its limit.
 */
import type { LatencySummary } from './stats.js';

export interface LatencyBar {
  /** Scenario, e.g. "1. Cache hit". */
  group: string;
  /** Series within it, e.g. "custom action (JWT)". */
  label: string;
  summary: LatencySummary;
}

export interface RateChart {
  /** e.g. "Salesforce". */
  title: string;
  /** Calls in each second, in order. */
  perSecond: number[];
  /** The configured limit (calls per second). */
  limit: number;
  color: string;
}

/** A reference line across the latency panel, e.g. the aggregation deadline. */
export interface Marker {
  ms: number;
  label: string;
}

export interface PictureInput {
  title: string;
  subtitle: string;
  latency: LatencyBar[];
  markers?: Marker[];
  /** The rate-limit storm, when it ran. */
  storm?: { title: string; charts: RateChart[] };
}

const WIDTH = 1000;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
export const CRM_COLORS: Readonly<Record<string, string>> = { salesforce: '#0b7fc7', sap: '#c98a00', servicenow: '#2e8b3a' };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(msValue: number): string {
  if (msValue >= 1000) return `${+(msValue / 1000).toFixed(msValue >= 10_000 ? 0 : 1)} s`;
  if (msValue >= 10) return `${Math.round(msValue)} ms`;
  if (msValue >= 1) return `${+msValue.toFixed(1)} ms`;
  return `${+msValue.toFixed(2)} ms`;
}

/** Decades covering [lo, hi] in ms, e.g. 0.1 … 10000. */
export function decades(lo: number, hi: number): number[] {
  const from = Math.floor(Math.log10(Math.max(lo, 0.01)));
  const to = Math.max(from + 1, Math.ceil(Math.log10(Math.max(hi, 0.02))));
  const out: number[] = [];
  for (let e = from; e <= to; e++) out.push(10 ** e);
  return out;
}

/** Maps ms onto [x0, x1] logarithmically over the given decades. */
export function logScale(ticks: readonly number[], x0: number, x1: number): (value: number) => number {
  const lo = Math.log10(ticks[0]);
  const hi = Math.log10(ticks[ticks.length - 1]);
  return (value) => {
    const v = Math.log10(Math.min(Math.max(value, ticks[0]), ticks[ticks.length - 1]));
    return x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
  };
}

/** A label cut to fit its column. */
export function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function latencyPanel(bars: readonly LatencyBar[], markers: readonly Marker[], top: number): { svg: string; height: number } {
  const rowH = 22;
  const labelW = 330;
  const x0 = labelW + 10;
  const x1 = WIDTH - 170;
  // a heading row for each scenario, then one row per series
  const lines: Array<{ heading: string } | { bar: LatencyBar }> = [];
  let group: string | undefined;
  for (const b of bars) {
    if (b.group !== group) lines.push({ heading: b.group });
    group = b.group;
    lines.push({ bar: b });
  }
  const usable = bars.filter((b) => b.summary.count > 0);
  const ticks = decades(Math.min(...usable.map((b) => b.summary.min), 1), Math.max(...usable.map((b) => b.summary.max), ...markers.map((m) => m.ms), 10));
  const x = logScale(ticks, x0, x1);
  const parts: string[] = [];
  parts.push(`<text x="20" y="${top + 18}" font-size="16" font-weight="600" ${FONT}>Latency per scenario (client side, log scale)</text>`);
  parts.push(`<text x="20" y="${top + 36}" font-size="12" fill="#555" ${FONT}>thin line: min–max · bar: p50–p99 · ● p50 · | p90 · ◆ p99</text>`);
  const chartTop = top + 50;
  const chartBottom = chartTop + Math.max(1, lines.length) * rowH + 12;
  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${chartTop - 4}" x2="${tx}" y2="${chartBottom}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${tx}" y="${chartBottom + 16}" font-size="11" text-anchor="middle" fill="#555" ${FONT}>${escapeXml(fmt(t))}</text>`);
  }
  lines.forEach((line, i) => {
    const y = chartTop + i * rowH + rowH / 2;
    if ('heading' in line) {
      parts.push(`<text x="20" y="${y + 5}" font-size="13" font-weight="600" ${FONT}>${escapeXml(fit(line.heading, 44))}</text>`);
      return;
    }
    parts.push(`<rect x="10" y="${y - rowH / 2}" width="${WIDTH - 20}" height="${rowH}" fill="#f4f5f8"/>`);
    parts.push(`<text x="34" y="${y + 4}" font-size="12" ${FONT}>${escapeXml(fit(line.bar.label, 48))}</text>`);
    const s = line.bar.summary;
    if (s.count === 0) {
      parts.push(`<text x="${x0}" y="${y + 4}" font-size="12" fill="#999" ${FONT}>no answers</text>`);
      return;
    }
    const [xmin, x50, x90, x99, xmax] = [s.min, s.p50, s.p90, s.p99, s.max].map((v) => x(v));
    parts.push(`<line x1="${xmin.toFixed(1)}" y1="${y}" x2="${xmax.toFixed(1)}" y2="${y}" stroke="#9aa" stroke-width="1"/>`);
    parts.push(`<rect x="${x50.toFixed(1)}" y="${y - 5}" width="${Math.max(1, x99 - x50).toFixed(1)}" height="10" fill="#6b8fd6" opacity="0.55"/>`);
    parts.push(`<circle cx="${x50.toFixed(1)}" cy="${y}" r="4" fill="#1f4fa8"/>`);
    parts.push(`<line x1="${x90.toFixed(1)}" y1="${y - 6}" x2="${x90.toFixed(1)}" y2="${y + 6}" stroke="#1f4fa8" stroke-width="2"/>`);
    parts.push(`<path d="M ${x99.toFixed(1)} ${y - 5} l 5 5 l -5 5 l -5 -5 z" fill="#b3261e"/>`);
    parts.push(`<text x="${x1 + 12}" y="${y + 4}" font-size="11" fill="#333" ${FONT}>${escapeXml(`p50 ${fmt(s.p50)} · p99 ${fmt(s.p99)}`)}</text>`);
  });
  for (const m of markers) {
    const mx = x(m.ms).toFixed(1);
    parts.push(`<line x1="${mx}" y1="${chartTop - 8}" x2="${mx}" y2="${chartBottom}" stroke="#b3261e" stroke-width="1" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${mx}" y="${chartTop - 10}" font-size="10" text-anchor="middle" fill="#b3261e" ${FONT}>${escapeXml(m.label)}</text>`);
  }
  return { svg: parts.join('\n'), height: chartBottom + 30 - top };
}

function rateChart(c: RateChart, left: number, top: number, width: number, height: number): string {
  const parts: string[] = [];
  const max = Math.max(c.limit * 2, ...c.perSecond, 1);
  const yMax = niceCeil(max);
  const plotLeft = left + 34;
  const plotW = width - 44;
  const plotTop = top + 26;
  const plotH = height - 50;
  const y = (v: number) => plotTop + plotH - (v / yMax) * plotH;
  parts.push(`<text x="${left}" y="${top + 14}" font-size="13" font-weight="600" fill="${c.color}" ${FONT}>${escapeXml(c.title)}</text>`);
  for (const t of [0, yMax / 2, yMax]) {
    parts.push(`<line x1="${plotLeft}" y1="${y(t).toFixed(1)}" x2="${plotLeft + plotW}" y2="${y(t).toFixed(1)}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${plotLeft - 4}" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555" ${FONT}>${+t.toFixed(1)}</text>`);
  }
  const n = Math.max(1, c.perSecond.length);
  const bw = plotW / n;
  c.perSecond.forEach((v, i) => {
    const h = plotTop + plotH - y(v);
    parts.push(`<rect x="${(plotLeft + i * bw + bw * 0.1).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${c.color}" opacity="0.8"><title>second ${i + 1}: ${v} calls</title></rect>`);
  });
  const ly = y(c.limit).toFixed(1);
  parts.push(`<line x1="${plotLeft}" y1="${ly}" x2="${plotLeft + plotW}" y2="${ly}" stroke="#b3261e" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${plotLeft + plotW}" y="${(Number(ly) - 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#b3261e" ${FONT}>limit ${c.limit}/s</text>`);
  parts.push(`<text x="${plotLeft + plotW / 2}" y="${top + height - 6}" font-size="10" text-anchor="middle" fill="#555" ${FONT}>seconds of the storm (${c.perSecond.length})</text>`);
  return parts.join('\n');
}

/** 7 → 8, 13 → 15, 42 → 50, 180 → 200. */
export function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** The whole picture. */
export function benchSvg(input: PictureInput): string {
  const parts: string[] = [];
  parts.push(`<text x="20" y="30" font-size="20" font-weight="700" ${FONT}>${escapeXml(input.title)}</text>`);
  parts.push(`<text x="20" y="50" font-size="12" fill="#555" ${FONT}>${escapeXml(input.subtitle)}</text>`);
  let top = 66;
  const latency = latencyPanel(input.latency, input.markers ?? [], top);
  parts.push(latency.svg);
  top += latency.height + 10;
  if (input.storm && input.storm.charts.length > 0) {
    parts.push(`<text x="20" y="${top + 18}" font-size="16" font-weight="600" ${FONT}>${escapeXml(input.storm.title)}</text>`);
    const w = (WIDTH - 40) / input.storm.charts.length;
    input.storm.charts.forEach((c, i) => parts.push(rateChart(c, 20 + i * w, top + 28, w - 10, 200)));
    top += 240;
  }
  const height = Math.ceil(top + 10);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
