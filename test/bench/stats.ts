/**
 * The pure arithmetic of the benchmark: percentiles, latency summaries, the service's added
 * latency over its slowest source, per-second series and outcome tallies. No I/O here, so the
 * numbers the table prints are unit-tested.
 */

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of values sorted ascending (NaN when there are none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be 0..100, got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Count, min, mean, p50, p90, p99 and max of latencies in ms (order does not matter). */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return { count: 0, min: Number.NaN, mean: Number.NaN, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    min: sorted[0],
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

/**
 * What the service adds over the slowest source: per request, client latency minus the largest
 * latency a simulator was told to apply (the sources are called concurrently, so the slowest one
 * bounds the answer). With fixed latencies this is exact up to the simulator's timer accuracy.
 */
export function addedLatency(latenciesMs: ArrayLike<number>, sourceLatencyMs: Readonly<Record<string, number>>): LatencySummary {
  const slowest = Math.max(0, ...Object.values(sourceLatencyMs));
  return summarize(Array.from(latenciesMs, (ms) => ms - slowest));
}

/**
 * CPU milliseconds per request of a run: the CPU seconds a process used during it, less what it
 * uses at rest in as long (its timers and monitors, measured just before), over the requests.
 */
export function cpuPerRequestMs(usedS: number, restPerS: number, runS: number, requests: number): number {
  if (requests <= 0) return Number.NaN;
  return (Math.max(0, usedS - restPerS * runS) / requests) * 1000;
}

/** The middle value (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Requests per second over an elapsed time. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/** The busiest calendar second of a `{ epochSecond: count }` map (0 calls when empty). */
export function busiestSecond(perSecond: Readonly<Record<string, number>>): { second: number; count: number } {
  let best = { second: Number.NaN, count: 0 };
  for (const [second, count] of Object.entries(perSecond)) {
    if (count > best.count) best = { second: Number(second), count };
  }
  return best;
}

/** A dense series of counts from `fromSecond` to `toSecond` inclusive (seconds without calls are 0). */
export function perSecondSeries(perSecond: Readonly<Record<string, number>>, fromSecond: number, toSecond: number): number[] {
  const out: number[] = [];
  for (let s = fromSecond; s <= toSecond; s++) out.push(perSecond[String(s)] ?? 0);
  return out;
}

/** How one client request ended. */
export type Outcome = 'ok' | 'degraded' | 'not_found' | 'http_error' | 'conn_error' | 'timeout';

export interface Tally {
  sent: number;
  /** Answered 200 (ok + degraded + not_found). */
  answered: number;
  ok: number;
  degraded: number;
  notFound: number;
  /** Not answered 200: an HTTP error, a connection error or a client-side timeout. */
  failed: number;
  byStatus: Record<string, number>;
}

export function emptyTally(): Tally {
  return { sent: 0, answered: 0, ok: 0, degraded: 0, notFound: 0, failed: 0, byStatus: {} };
}

/** Adds one request's outcome (and its HTTP status or error code) to a tally. */
export function count(tally: Tally, outcome: Outcome, status: string): Tally {
  tally.sent++;
  tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
  switch (outcome) {
    case 'ok':
      tally.ok++;
      tally.answered++;
      break;
    case 'degraded':
      tally.degraded++;
      tally.answered++;
      break;
    case 'not_found':
      tally.notFound++;
      tally.answered++;
      break;
    case 'http_error':
    case 'conn_error':
    case 'timeout':
      tally.failed++;
      break;
  }
  return tally;
}

/**
 * Reads a service answer: a 200 from the custom action carries `"status":"ok|degraded|not_found"`,
 * one from `/v1/customers` carries `"degraded":true|false`; anything else is an HTTP error.
 * Substring checks, not JSON.parse, so the client spends little CPU on the machine it shares.
 */
export function classify(status: number, body: string): Outcome {
  if (status !== 200) return 'http_error';
  if (body.includes('"status":"degraded"') || body.includes('"degraded":true')) return 'degraded';
  if (body.includes('"status":"not_found"')) return 'not_found';
  return 'ok';
}

/** The `degradedSources` of a custom action answer (e.g. "sap,servicenow"), as names. */
export function degradedSources(body: string): string[] {
  const m = /"degradedSources":"([^"]*)"/.exec(body);
  return m && m[1] !== '' ? m[1].split(',') : [];
}

/** The value of a metric in Prometheus text format (its first series when labelled). */
export function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+|NaN|[+-]Inf)$`, 'm').exec(text);
  return m ? Number(m[1].replace('Inf', 'Infinity')) : undefined;
}
