/**
 * The picture of a run: latency percentiles of every measured series on one logarithmic axis, and
 * the storm's calls per second to each CRM against its limit. The charts are a Vega-Lite
 * specification (`benchSpec`, plain data), compiled to Vega and rendered to SVG by Vega's headless
 * view (`benchSvg`): no browser, no DOM, no canvas.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

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

/**
 * Without a canvas Vega estimates a text's width as 0.8 em per character, about half again as wide as
 * the sans-serif faces a viewer shows: titles then pad the picture and names are cut early. Vega
 * lets the embedder replace that function (`textMetrics.width`, as vl-convert does); vega-typings
 * does not declare it. A canvas, when one is installed, is left alone.
 */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  /** Text longer than this is cut with an ellipsis (by Vega, which asks this function while cutting). */
  limit?: number;
}
const { textMetrics } = vega as unknown as { textMetrics: { width: (item: TextItem, text: string) => number; estimateWidth: unknown } };
if (textMetrics.width === textMetrics.estimateWidth) {
  textMetrics.width = (item, text) => {
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    const width = Math.ceil((bold ? 0.62 : 0.56) * (item.fontSize ?? 11) * String(text ?? '').length);
    // a text that will be cut is as wide as its limit
    return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}

export const CRM_COLORS: Readonly<Record<string, string>> = { salesforce: '#0b7fc7', sap: '#c98a00', servicenow: '#2e8b3a' };

/** One view of a concatenation (a unit, a layer or a concatenation), as the top-level type declares it. */
type Section = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

/** The picture's width inside its padding (Vega sizes the picture to its content; this sets the parts). */
const WIDTH = 1160;
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
const RED = '#b3261e';
const BLUE = '#1f4fa8';
const GREY = '#555';
/** Room for the series names left of the latency plot, and for the p50/p99 note right of it. */
const LABEL_W = 320;
const NOTE_W = 170;
const LATENCY_PLOT_W = WIDTH - LABEL_W - NOTE_W;
/** Between two storm charts, and the room of a chart's y axis. */
const STORM_GAP = 40;
const STORM_AXIS_W = 35;
const ROW_H = 22;

/** ms as people read it: 0.35 ms, 4.2 ms, 803 ms, 1.5 s, 12 s. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${+(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${+ms.toFixed(1)} ms`;
  return `${+ms.toFixed(2)} ms`;
}

/** Decades covering [lo, hi] in ms, e.g. 0.1 … 10000: the latency axis's domain and its ticks. */
export function decades(lo: number, hi: number): number[] {
  const from = Math.floor(Math.log10(Math.max(lo, 0.01)));
  const to = Math.max(from + 1, Math.ceil(Math.log10(Math.max(hi, 0.02))));
  const out: number[] = [];
  for (let e = from; e <= to; e++) out.push(10 ** e);
  return out;
}

/** The same wording as formatMs, as a Vega expression for the axis labels (ticks are whole decades). */
const MS_LABEL = `datum.value >= 1000 ? format(datum.value / 1000, '~g') + ' s' : format(datum.value, '~g') + ' ms'`;

function latencySection(bars: readonly LatencyBar[], markers: readonly Marker[]): Section {
  const usable = bars.filter((b) => b.summary.count > 0);
  const ticks = decades(Math.min(...usable.map((b) => b.summary.min), 1), Math.max(...usable.map((b) => b.summary.max), ...markers.map((m) => m.ms), 10));
  const groups = [...new Set(bars.map((b) => b.group))];
  const x = (field: string, last: boolean) => ({
    field,
    type: 'quantitative' as const,
    // clamped: an added latency at or below zero sits at the left edge instead of vanishing
    scale: { type: 'log' as const, domain: [ticks[0], ticks[ticks.length - 1]], clamp: true, nice: false },
    axis: last ? { values: ticks, labelExpr: MS_LABEL, title: null, grid: true } : { values: ticks, labels: false, ticks: false, domain: false, title: null, grid: true },
  });
  const y = (labels: string[]) => ({
    field: 'label',
    type: 'nominal' as const,
    // the rows in the order given, whichever layer draws them
    scale: { domain: labels },
    title: null,
    // a fixed width for the names, so the plots of every scenario line up
    axis: { labelLimit: LABEL_W - 20, minExtent: LABEL_W, maxExtent: LABEL_W, ticks: false, domain: false, labelFontSize: 12, labelPadding: 8 },
  });
  // one accessible name per series (on its p50–p99 bar); the other marks of a row are decoration
  const quiet = { aria: false } as const;

  const rows = groups.map((group, i): Section => {
    const last = i === groups.length - 1;
    const mine = bars.filter((b) => b.group === group);
    const values = mine.map(({ label, summary: s }) => ({
      label,
      ...s,
      note: s.count > 0 ? `p50 ${formatMs(s.p50)} · p99 ${formatMs(s.p99)}` : '',
      description: s.count > 0 ? `${label}: min ${formatMs(s.min)}, p50 ${formatMs(s.p50)}, p90 ${formatMs(s.p90)}, p99 ${formatMs(s.p99)}, max ${formatMs(s.max)} (${s.count} answers)` : `${label}: no answers`,
    }));
    const rowY = y([...new Set(mine.map((b) => b.label))]);
    return {
      title: { text: group, anchor: 'start', fontSize: 13, fontWeight: 600, limit: WIDTH, offset: 4 },
      width: LATENCY_PLOT_W,
      height: { step: ROW_H },
      layer: [
        {
          data: { values },
          transform: [{ filter: 'datum.count > 0' }],
          encoding: { y: rowY },
          layer: [
            { mark: { type: 'rule', color: '#9aa', ...quiet }, encoding: { x: x('min', last), x2: { field: 'max' } } },
            { mark: { type: 'bar', color: '#6b8fd6', opacity: 0.55, height: 10 }, encoding: { x: x('p50', last), x2: { field: 'p99' }, description: { field: 'description' } } },
            { mark: { type: 'point', shape: 'circle', filled: true, color: BLUE, size: 50, opacity: 1, ...quiet }, encoding: { x: x('p50', last) } },
            { mark: { type: 'tick', color: BLUE, thickness: 2, size: 12, ...quiet }, encoding: { x: x('p90', last) } },
            { mark: { type: 'point', shape: 'diamond', filled: true, color: RED, size: 60, opacity: 1, ...quiet }, encoding: { x: x('p99', last) } },
            { mark: { type: 'text', align: 'left', dx: 12, fontSize: 11, color: '#333', ...quiet }, encoding: { x: { value: 'width' }, text: { field: 'note' } } },
          ],
        },
        {
          data: { values },
          transform: [{ filter: 'datum.count == 0' }],
          mark: { type: 'text', align: 'left', dx: 4, fontSize: 12, color: '#999' },
          encoding: { y: rowY, x: { value: 0 }, text: { value: 'no answers' }, description: { field: 'description' } },
        },
        ...markers.map((m) => ({
          data: { values: [{ ms: m.ms, label: m.label }] },
          encoding: { x: x('ms', last) },
          layer: [
            { mark: { type: 'rule' as const, color: RED, strokeDash: [2, 3] }, encoding: { description: { field: 'label' } } },
            // named once, above the first scenario
            ...(i === 0 ? [{ mark: { type: 'text' as const, color: RED, fontSize: 10, baseline: 'bottom' as const, dy: -3, ...quiet }, encoding: { y: { value: 0 }, text: { field: 'label' } } }] : []),
          ],
        })),
      ],
    };
  });
  const legend = 'thin line: min–max · bar: p50–p99 · ● p50 · | p90 · ◆ p99';
  const marked = markers.map((m) => `dotted red: ${m.label}`).join(' · ');
  return {
    title: { text: 'Latency per scenario (client side, log scale)', subtitle: marked ? `${legend} · ${marked}` : legend, anchor: 'start', fontSize: 16 },
    spacing: 8,
    resolve: { scale: { x: 'shared' } },
    vconcat: rows.length > 0 ? rows : [{ data: { values: [{}] }, mark: { type: 'text', align: 'left', color: '#999' }, encoding: { text: { value: 'no latency was measured' } } }],
  };
}

function rateChart(c: RateChart, width: number): Section {
  const values = c.perSecond.map((calls, i) => ({ second: i + 1, calls, description: `second ${i + 1}: ${calls} calls` }));
  const yMax = Math.max(c.limit * 2, ...c.perSecond, 1);
  const y = { type: 'quantitative' as const, scale: { domain: [0, yMax], nice: true }, title: 'calls', axis: { tickCount: 4 } };
  return {
    title: { text: c.title, color: c.color, anchor: 'start', fontSize: 13 },
    width,
    height: 150,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', color: c.color, opacity: 0.8 },
        encoding: {
          x: { field: 'second', type: 'ordinal', title: `seconds of the storm (${c.perSecond.length})`, axis: { labelAngle: 0, labelOverlap: true, titleFontWeight: 'normal' } },
          y: { field: 'calls', ...y },
          description: { field: 'description' },
        },
      },
      {
        data: { values: [{ limit: c.limit, label: `limit ${c.limit}/s` }] },
        encoding: { y: { field: 'limit', ...y } },
        layer: [
          { mark: { type: 'rule', color: RED, strokeWidth: 1.5, strokeDash: [6, 4] }, encoding: { description: { field: 'label' } } },
          { mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -3, fontSize: 10, color: RED, aria: false }, encoding: { x: { value: 'width' }, text: { field: 'label' } } },
        ],
      },
    ],
  };
}

/** The whole picture as a Vega-Lite specification (data inline). */
export function benchSpec(input: PictureInput): TopLevelSpec {
  const sections: Section[] = [latencySection(input.latency, input.markers ?? [])];
  const charts = input.storm?.charts ?? [];
  if (input.storm && charts.length > 0) {
    // the sections of one column start where the latency plot starts: the storm fills the width right of the series names
    const each = Math.floor((LATENCY_PLOT_W + NOTE_W - (charts.length - 1) * (STORM_GAP + STORM_AXIS_W)) / charts.length);
    sections.push({ title: { text: input.storm.title, anchor: 'start', fontSize: 16 }, spacing: STORM_GAP, hconcat: charts.map((c) => rateChart(c, each)) });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: input.title, subtitle: input.subtitle, anchor: 'start', fontSize: 20, subtitleFontSize: 12, subtitleColor: GREY, offset: 16 },
    background: 'white',
    padding: 20,
    spacing: 36,
    config: {
      font: FONT,
      view: { stroke: null },
      axis: { labelColor: GREY, titleColor: GREY, gridColor: '#e3e3e3', labelFontSize: 11 },
      title: { subtitleColor: GREY, subtitleFontSize: 12, fontWeight: 600 },
    },
    vconcat: sections,
  };
}

/** The whole picture as one SVG document. */
export async function benchSvg(input: PictureInput): Promise<string> {
  const view = new vega.View(vega.parse(compile(benchSpec(input)).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}
