/**
 * What one HTTP exchange costs on this machine, one at a time after a pause (as a look-up at 1
 * concurrent finds the processes idle between its steps), on each side: a minimal server (Node's
 * HTTP server answering a small JSON body at once) and a client (Node's HTTP client on a
 * keep-alive socket — the transport the service's vendor calls ride on, without axios or anything
 * of the service's), each a process of its own forked by the bench, so nothing else is counted.
 * Each measures what it uses at rest first, and reports only the exchanges' share of its CPU; the
 * client also times each exchange and, given a Redis server, a `PING`'s round trip at the same
 * pace: the floors under what a process that serves or makes such exchanges can spend or add here.
 *
 * Forked with PROBE_FLAG and a role: the server answers `{ port }` once listening, then the CPU it
 * used since the last `mark`; the client receives a ClientRequest and answers a ClientResult.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as pause } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { cpuPerRequestMs, median } from './stats.js';

/** The argument the bench forks this file with (then `server` or `client`). */
export const PROBE_FLAG = '--exchange-probe';

export interface ClientRequest {
  url: string;
  /** Exchanges measured (after a few not measured, to warm the socket and the JIT). */
  amount: number;
  /** How long the CPU at rest is measured first, ms. */
  restMs: number;
  /** The pause before each exchange, ms (the processes go idle, as between a look-up's steps at 1 concurrent). */
  pauseMs: number;
  /** A Redis server to time round trips against (three `PING`s in a row after each pause, as a look-up's steps follow its request), if any. */
  redisPort?: number;
}

export interface ClientResult {
  /** Exchanges made in all, the warm-up ones included (what the server answered). */
  requests: number;
  /** Client CPU per measured exchange, ms, less the process's use at rest in as long. */
  cpuMsPerExchange: number;
  /** The median time of a measured exchange, ms. */
  exchangeMs: number;
  /** The median Redis round trip (`PING`), ms, when a Redis server was given. */
  redisRoundTripMs?: number;
}

/** What the server used since it was marked: CPU ms and wall seconds, and its CPU at rest (ms per s, measured before it listened). */
export interface ServerUse {
  /** Exchanges answered since the mark. */
  answered: number;
  cpuMs: number;
  seconds: number;
  restMsPerS: number;
}

const WARM_UP = 20;

/** This file, built (what the bench forks). */
const PROBE_PATH = fileURLToPath(new URL('./exchange-probe.js', import.meta.url));

/**
 * Forks the server and the client (this file, `probe`), makes `amount` exchanges one at a time,
 * each after a pause of `pauseMs`, and tells what one cost each side in CPU (ms, less what each
 * uses at rest), the time one took, and a Redis round trip's when `redisPort` is given.
 */
export async function measureExchanges(options: { amount: number; pauseMs: number; restMs: number; redisPort?: number; probe?: string }): Promise<{ serverMs: number; clientMs: number; exchangeMs: number; redisRoundTripMs?: number }> {
  const probe = options.probe ?? PROBE_PATH;
  const server = fork(probe, [PROBE_FLAG, 'server', String(options.restMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await ask<{ port: number }>(server);
    await ask(server, 'mark');
    const client = fork(probe, [PROBE_FLAG, 'client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const request: ClientRequest = { url: `http://127.0.0.1:${port}/`, amount: options.amount, restMs: options.restMs, pauseMs: options.pauseMs, redisPort: options.redisPort };
    const { result } = await ask<{ result: ClientResult }>(client, request);
    const { use } = await ask<{ use: ServerUse }>(server, 'use');
    if (use.answered !== result.requests) throw new Error(`the exchange probe's server answered ${use.answered} of ${result.requests} requests`);
    return { serverMs: cpuPerRequestMs(use.cpuMs / 1000, use.restMsPerS / 1000, use.seconds, use.answered), clientMs: result.cpuMsPerExchange, exchangeMs: result.exchangeMs, redisRoundTripMs: result.redisRoundTripMs };
  } finally {
    if (server.connected) server.send('close');
  }
}

/** Sends `message` (if any) to a forked probe and waits for its next answer. */
function ask<T>(child: ChildProcess, message?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the exchange probe exited (${code}) without an answer`));
    child.once('exit', onExit);
    child.once('message', (m: ({ ok: true } & T) | { ok: false; error: string }) => {
      child.off('exit', onExit);
      if (m.ok) resolve(m);
      else reject(new Error(`the exchange probe failed: ${m.error}`));
    });
    if (message !== undefined) child.send(message as object);
  });
}

/** A CRM's read answer of about the size the SAP simulator gives for one customer. */
const BODY = JSON.stringify({ d: { Customer: '0010100001', CustomerName: 'Example Customer', CustomerFullName: 'Example Customer Holding GmbH', DeletionIndicator: false, __metadata: { id: 'x'.repeat(160), uri: 'y'.repeat(160), type: 'API_BUSINESS_PARTNER.A_CustomerType' } } });

/** Makes the exchanges one after another and measures them (see the file's comment). */
export async function probeClient(req: ClientRequest): Promise<ClientResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const rest = await restingCpuMsPerS(req.restMs);
    for (let i = 0; i < WARM_UP; i++) await exchange(req.url, agent);
    const times: number[] = [];
    const before = process.cpuUsage();
    const startedAt = performance.now();
    for (let i = 0; i < req.amount; i++) {
      await pause(req.pauseMs);
      const sentAt = performance.now();
      await exchange(req.url, agent);
      times.push(performance.now() - sentAt);
    }
    const used = process.cpuUsage(before);
    const runS = (performance.now() - startedAt) / 1000;
    const result: ClientResult = { requests: WARM_UP + req.amount, cpuMsPerExchange: Math.max(0, (used.user + used.system) / 1000 - rest * runS) / req.amount, exchangeMs: median(times) };
    if (req.redisPort !== undefined) result.redisRoundTripMs = await redisRoundTrips(req.redisPort, req.amount, req.pauseMs);
    return result;
  } finally {
    agent.destroy();
  }
}

/** The median of `PING` round trips, three in a row after each pause of `pauseMs` (`rounds` pauses), on one connection. */
async function redisRoundTrips(port: number, rounds: number, pauseMs: number): Promise<number> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  const ping = () =>
    new Promise<number>((resolve, reject) => {
      const sentAt = performance.now();
      socket.once('data', (chunk: Buffer) => (chunk.toString('latin1') === '+PONG\r\n' ? resolve(performance.now() - sentAt) : reject(new Error(`Redis answered ${chunk.toString('latin1').trim()}`))));
      socket.write('PING\r\n');
    });
  try {
    const trips: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await pause(pauseMs);
      for (let k = 0; k < 3; k++) trips.push(await ping());
    }
    return median(trips);
  } finally {
    socket.destroy();
  }
}

/** Starts the server (after measuring its use at rest); `use()` tells what it used since the last `mark()`. */
export async function probeServer(restMs: number): Promise<{ port: number; mark(): void; use(): ServerUse; close(): Promise<void> }> {
  const restMsPerS = await restingCpuMsPerS(restMs);
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    answered++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let marked = { cpu: process.cpuUsage(), at: performance.now(), answered };
  return {
    port: (server.address() as AddressInfo).port,
    mark: () => (marked = { cpu: process.cpuUsage(), at: performance.now(), answered }),
    use: () => {
      const used = process.cpuUsage(marked.cpu);
      return { answered: answered - marked.answered, cpuMs: (used.user + used.system) / 1000, seconds: (performance.now() - marked.at) / 1000, restMsPerS };
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function restingCpuMsPerS(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const startedAt = performance.now();
  await pause(ms);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / ((performance.now() - startedAt) / 1000);
}

function exchange(url: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = request(url, { agent, headers: { accept: 'application/json' } }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      res.once('error', reject);
    });
    r.once('error', reject);
    r.end();
  });
}

// run as a forked probe, driven over IPC
if (process.argv[2] === PROBE_FLAG && process.send !== undefined) {
  const send = (m: unknown) => process.send?.(m);
  const fail = (err: unknown) => process.send?.({ ok: false, error: String(err) }, () => process.disconnect());
  if (process.argv[3] === 'server') {
    probeServer(Number(process.argv[4])).then((server) => {
      process.on('message', (m: 'mark' | 'use' | 'close') => {
        if (m === 'mark') {
          server.mark();
          send({ ok: true, marked: true });
        }
        else if (m === 'use') send({ ok: true, use: server.use() });
        else void server.close().then(() => process.disconnect());
      });
      send({ ok: true, port: server.port });
    }, fail);
  } else {
    process.once('message', (req: ClientRequest) => {
      probeClient(req).then((result) => process.send?.({ ok: true, result }, () => process.disconnect()), fail);
    });
  }
}
