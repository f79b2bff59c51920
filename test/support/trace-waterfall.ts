import type { AttributeValue, ReceivedSpan } from './otlp-receiver.js';

/*
 * One trace as a waterfall, the way an APM draws it: a row per span in tree order (children under
 * their parent, by start time), a bar from its start to its end on a shared time axis, the span's
 * outcome in words beside its name, its events as diamonds on the bar. Plain SVG text, no browser.
 */

export interface WaterfallOptions {
  title: string;
  subtitle?: string;
  /** Vertical reference lines, in ms from the trace's first span (e.g. the aggregation deadline). */
  markers?: Array<{ ms: number; label: string }>;
  /** Spans left out of the picture (counted in a note). */
  hide?: (span: ReceivedSpan) => boolean;
  hiddenNote?: string;
}

const WIDTH = 1180;
const LABEL_WIDTH = 500;
const PLOT_LEFT = LABEL_WIDTH + 20;
const PLOT_RIGHT = WIDTH - 90;
const ROW = 22;
const TOP = 78;

const COLORS = { server: '#4e79a7', internal: '#59a14f', http: '#f28e2b', redis: '#9c9c9c', error: '#e15759', event: '#222222' };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const str = (v: AttributeValue | undefined): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** A span's outcome in a few words: what an operator reads first. */
export function describeSpan(span: ReceivedSpan): string {
  const a = span.attributes;
  const parts: string[] = [];
  if (span.name.startsWith('resolve ')) {
    parts.push(`${str(a['c360.status'])}`, `cache ${str(a['c360.cache'])}`);
    if (a['c360.reason'] !== undefined) parts.push(`reason ${str(a['c360.reason'])}`);
    if (a['c360.batch.size'] !== undefined) parts.push(`batch ${str(a['c360.batch.size'])}`);
  } else if (a['http.request.method'] !== undefined && span.kind === 'client') {
    // the last segment of the (scrubbed) path names the call: token, query, A_Customer({key}), core_company…
    const target = str(a['url.full'])?.split('/').pop();
    parts.push(`${str(a['c360.source']) ?? str(a['server.address'])}${target ? ` ${target}` : ''}`, `→ ${str(a['http.response.status_code']) ?? 'no answer'}`);
    if (a['http.request.resend_count'] !== undefined) parts.push(`retry ${str(a['http.request.resend_count'])}`);
  } else if (span.kind === 'server') {
    parts.push(`→ ${str(a['http.response.status_code'])}`);
  }
  const events = new Map<string, number>();
  for (const e of span.events) events.set(e.name, (events.get(e.name) ?? 0) + 1);
  for (const [name, n] of events) parts.push(n > 1 ? `${name} ×${n}` : name);
  return parts.join(' · ');
}

function colorOf(span: ReceivedSpan): string {
  if (span.status.code === 2) return COLORS.error;
  if (span.attributes['db.system.name'] === 'redis') return COLORS.redis;
  if (span.kind === 'server') return COLORS.server;
  if (span.kind === 'client') return COLORS.http;
  return COLORS.internal;
}

/** The spans in tree order with their depth (orphans, whose parent is not in the set, are roots). */
export function treeOrder(spans: readonly ReceivedSpan[]): Array<{ span: ReceivedSpan; depth: number }> {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, ReceivedSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: Array<{ span: ReceivedSpan; depth: number }> = [];
  const visit = (parent: string | undefined, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.name.localeCompare(b.name)));
    for (const s of list) {
      out.push({ span: s, depth });
      visit(s.spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return out;
}

function niceStep(totalMs: number): number {
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000]) if (totalMs / step <= 10) return step;
  return 20_000;
}

export function waterfallSvg(all: readonly ReceivedSpan[], options: WaterfallOptions): string {
  const shown = all.filter((s) => !options.hide?.(s));
  const rows = treeOrder(shown);
  const origin = rows.reduce((min, r) => (r.span.startNs < min ? r.span.startNs : min), rows[0]?.span.startNs ?? 0n);
  const endNs = rows.reduce((max, r) => (r.span.endNs > max ? r.span.endNs : max), origin);
  const ms = (ns: bigint) => Number(ns - origin) / 1e6;
  const totalMs = Math.max(1, ms(endNs), ...(options.markers ?? []).map((m) => m.ms));
  const x = (t: number) => PLOT_LEFT + (t / totalMs) * (PLOT_RIGHT - PLOT_LEFT);
  const hidden = all.length - shown.length;
  const height = TOP + rows.length * ROW + 40 + (hidden > 0 ? 18 : 0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="16" y="24" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="16" y="44" fill="#555555">${escapeXml(options.subtitle)}</text>`);
  // time axis
  const step = niceStep(totalMs);
  for (let t = 0; t <= totalMs + 1e-9; t += step) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${TOP - 8}" x2="${x(t).toFixed(1)}" y2="${TOP + rows.length * ROW}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${TOP - 12}" text-anchor="middle" fill="#777777">${t} ms</text>`);
  }
  rows.forEach(({ span, depth }, i) => {
    const y = TOP + i * ROW;
    if (i % 2 === 1) out.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW}" fill="#f7f7f7"/>`);
    const detail = describeSpan(span);
    out.push(
      `<text x="${16 + depth * 16}" y="${y + 15}"><tspan font-weight="${depth === 0 || span.name.startsWith('resolve ') ? 'bold' : 'normal'}">${escapeXml(span.name)}</tspan>${detail ? `<tspan fill="#666666">  ${escapeXml(detail)}</tspan>` : ''}</text>`,
    );
    const start = x(ms(span.startNs));
    const width = Math.max(2, x(ms(span.endNs)) - start);
    out.push(`<rect x="${start.toFixed(1)}" y="${y + 5}" width="${width.toFixed(1)}" height="${ROW - 10}" rx="2" fill="${colorOf(span)}"/>`);
    const duration = ms(span.endNs) - ms(span.startNs);
    out.push(`<text x="${(start + width + 4).toFixed(1)}" y="${y + 15}" fill="#444444" font-size="11">${duration < 10 ? duration.toFixed(1) : Math.round(duration)} ms</text>`);
    for (const e of span.events) {
      const ex = x(ms(e.timeNs));
      out.push(`<path d="M ${ex.toFixed(1)} ${y + 4} l 5 7 l -5 7 l -5 -7 z" fill="${COLORS.event}"><title>${escapeXml(e.name)}</title></path>`);
    }
  });
  for (const m of options.markers ?? []) {
    const mx = x(m.ms).toFixed(1);
    out.push(`<line x1="${mx}" y1="${TOP - 8}" x2="${mx}" y2="${TOP + rows.length * ROW}" stroke="#e15759" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${mx}" y="${TOP + rows.length * ROW + 16}" text-anchor="middle" fill="#e15759">${escapeXml(m.label)}</text>`);
  }
  // legend
  const legendY = height - (hidden > 0 ? 24 : 8);
  const legend: Array<[string, string]> = [
    ['inbound request', COLORS.server],
    ['source resolution', COLORS.internal],
    ['CRM HTTP call', COLORS.http],
    ['Redis command', COLORS.redis],
    ['error / degraded', COLORS.error],
  ];
  let lx = 16;
  for (const [label, color] of legend) {
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="10" fill="${color}"/><text x="${lx + 16}" y="${legendY}" fill="#444444">${escapeXml(label)}</text>`);
    lx += 28 + label.length * 6.5;
  }
  out.push(`<path d="M ${lx + 5} ${legendY - 12} l 5 7 l -5 7 l -5 -7 z" fill="${COLORS.event}"/><text x="${lx + 16}" y="${legendY}" fill="#444444">span event</text>`);
  if (hidden > 0) out.push(`<text x="16" y="${height - 6}" fill="#777777">${escapeXml(options.hiddenNote?.replace('{n}', String(hidden)) ?? `${hidden} spans not drawn`)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
