/**
 * Load generation. Throughput and latency of steady closed-loop runs come from autocannon (its
 * per-response times, which are sub-millisecond, are kept here and summarized by `stats.ts`).
 * Runs that must judge every answer (degraded or not, which replica, connection errors) and
 * open-loop runs at a fixed rate use the small driver below on node:http keep-alive sockets.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

import autocannon from 'autocannon';

import { classify, type Outcome } from './stats.js';

// ------------------------------------------------------------------------------------- autocannon

export interface CannonOptions {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationS?: number;
  amount?: number;
  /** A new body per request (e.g. a distinct customer each time). */
  nextBody?: () => string;
}

export interface CannonRun {
  /** Response times of 2xx answers, ms. */
  latencies: number[];
  ok: number;
  non2xx: number;
  errors: number;
  elapsedMs: number;
  /** 2xx answers per second. */
  rps: number;
}

export function cannon(options: CannonOptions): Promise<CannonRun> {
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const started = performance.now();
  // autocannon reports a run of `amount` requests only at its next one-second tick after the last
  // answer: the run's time is measured to that answer, not to the report (else up to 1 s idle is counted)
  let lastAnswerAt = started;
  return new Promise((resolve, reject) => {
    const nextBody = options.nextBody;
    const instance = autocannon(
      {
        url: options.url,
        method: options.method,
        headers: options.headers,
        body: options.body,
        connections: options.connections,
        duration: options.durationS ?? 10,
        amount: options.amount,
        timeout: 10,
        requests: nextBody ? [{ setupRequest: (req) => ({ ...req, body: nextBody() }) }] : undefined,
      },
      (err) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const elapsedMs = (options.amount === undefined ? performance.now() : lastAnswerAt) - started;
        resolve({ latencies, ok, non2xx, errors, elapsedMs, rps: (ok * 1000) / elapsedMs });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAnswerAt = performance.now();
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        latencies.push(responseTime);
      } else {
        non2xx++;
      }
    });
    instance.on('reqError', () => {
      lastAnswerAt = performance.now();
      errors++;
    });
  });
}

// ------------------------------------------------------------------------------------- own driver

export interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** A label to tally by (e.g. "lookup", "clickToDial"). */
  kind?: string;
}

export interface Sample {
  /** ms since the run started, when the request was sent. */
  at: number;
  latencyMs: number;
  outcome: Outcome;
  /** HTTP status, or the error code (ECONNREFUSED, timeout, …). */
  status: string;
  target: number;
  kind: string;
  /** The answer's body, when asked for. */
  body?: string;
}

/** One replica as the driver sees it: its keep-alive socket pool and whether it is in rotation. */
export class Target {
  readonly agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 10_000 });
  ready = true;
  readonly host: string;
  readonly port: number;

  constructor(
    readonly url: string,
    readonly index: number,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
  }

  destroy(): void {
    this.agent.destroy();
  }
}

export function send(target: Target, call: Call, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: { status: number; body: string } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const headers: Record<string, string> = { ...call.headers };
    if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
    const req = request({ agent: target.agent, host: target.host, port: target.port, method: call.method, path: call.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    });
    const timer = setTimeout(() => {
      done({ error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    req.end(call.body);
  });
}

/** Sends one call and records how it ended. */
export async function measure(target: Target, call: Call, t0: number, timeoutMs: number, keepBody: boolean): Promise<Sample> {
  const at = performance.now();
  const answer = await send(target, call, timeoutMs);
  const latencyMs = performance.now() - at;
  const base = { at: at - t0, latencyMs, target: target.index, kind: call.kind ?? 'request' };
  if ('error' in answer) return { ...base, outcome: answer.error === 'timeout' ? 'timeout' : 'conn_error', status: answer.error };
  return { ...base, outcome: classify(answer.status, answer.body), status: String(answer.status), body: keepBody ? answer.body : undefined };
}

export interface DriveOptions {
  /** Picks the replica and the call for the i-th request (undefined: no replica in rotation). */
  next: (i: number) => { target: Target; call: Call } | undefined;
  timeoutMs?: number;
  keepBodies?: boolean;
}

/** Closed loop: `concurrency` requests in flight until `count` were sent or `durationMs` passed. */
export async function runPool(options: DriveOptions & { concurrency: number; count?: number; durationMs?: number }): Promise<Sample[]> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let i = 0;
  const more = () => (options.count === undefined || i < options.count) && (options.durationMs === undefined || performance.now() - t0 < options.durationMs);
  const worker = async () => {
    while (more()) {
      const picked = options.next(i++);
      if (!picked) {
        samples.push(noTarget(performance.now() - t0));
        continue;
      }
      samples.push(await measure(picked.target, picked.call, t0, options.timeoutMs ?? 10_000, options.keepBodies ?? false));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return samples;
}

/**
 * Open loop: requests leave at `ratePerSec` whatever the answers do (a slow or dead replica
 * shows as latency and failures, not as a lower offered rate), for `durationMs`.
 */
export async function runPaced(options: DriveOptions & { ratePerSec: number; durationMs: number; onTick?: (elapsedMs: number) => void }): Promise<Sample[]> {
  const samples: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      options.onTick?.(elapsed);
      const due = Math.min(Math.floor((Math.min(elapsed, options.durationMs) * options.ratePerSec) / 1000), Math.ceil((options.durationMs * options.ratePerSec) / 1000));
      while (sent < due) {
        const picked = options.next(sent++);
        if (!picked) {
          samples.push(noTarget(elapsed));
          continue;
        }
        const p = measure(picked.target, picked.call, t0, options.timeoutMs ?? 10_000, options.keepBodies ?? false).then((s) => {
          samples.push(s);
          inflight.delete(p);
        });
        inflight.add(p);
      }
      if (elapsed >= options.durationMs) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  await Promise.all(inflight);
  return samples.sort((a, b) => a.at - b.at);
}

function noTarget(at: number): Sample {
  return { at, latencyMs: 0, outcome: 'conn_error', status: 'no_ready_replica', target: -1, kind: 'request' };
}

/**
 * What a Kubernetes Service does for the drills: round robin over the replicas whose readiness
 * probe (`GET /health/ready`, every `periodMs`) last answered 200. Like kube-proxy, it does not
 * take a replica out because a request to it failed, only because its probe did.
 */
export class Balancer {
  private rr = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Each probe result that changed a replica's state: [ms since start, replica, ready]. */
  readonly changes: Array<[number, number, boolean]> = [];
  private readonly t0 = performance.now();

  constructor(
    readonly targets: Target[],
    private readonly periodMs = 250,
  ) {}

  start(): void {
    const probe = async () => {
      await Promise.all(
        this.targets.map(async (t) => {
          const answer = await send(t, { method: 'GET', path: '/health/ready', headers: {} }, Math.max(100, this.periodMs));
          const ready = !('error' in answer) && answer.status === 200;
          if (ready !== t.ready) this.changes.push([Math.round(performance.now() - this.t0), t.index, ready]);
          t.ready = ready;
        }),
      );
      if (this.timer !== undefined) this.timer = setTimeout(() => void probe(), this.periodMs);
    };
    this.timer = setTimeout(() => void probe(), 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Replaces a replica (same slot) after a drill restarted it. */
  replace(index: number, target: Target): void {
    this.targets[index]?.destroy();
    this.targets[index] = target;
  }

  pick(): Target | undefined {
    for (let k = 0; k < this.targets.length; k++) {
      const t = this.targets[this.rr++ % this.targets.length];
      if (t.ready) return t;
    }
    return undefined;
  }
}
