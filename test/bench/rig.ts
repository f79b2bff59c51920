/**
 * Everything a scenario runs against: a private redis-server, the simulators in their own
 * process, and 1..n service processes (the built `dist/src/main.js`, as replicas). Redis and the
 * simulators live for the whole bench; the service processes are restarted only when a scenario
 * asks for a different count or environment.
 */
import { type ChildProcess,fork, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createClient } from '@redis/client';

import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import type { CallStats, Faults } from '../sandbox/shared/sim-server.js';
import { sandboxEnv } from '../sandbox/simulators.js';
import { freePort } from '../support/free-port.js';
import { imageNodeFlags } from '../support/image-node-flags.js';
import { RedisServer } from '../support/redis-server.js';
import { type HostCommand, type HostMessage, type HostRequest, SIM_NAMES, type SimName } from './sim-protocol.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const SIM_HOST = fileURLToPath(new URL('./sim-host.js', import.meta.url));
const EXIT_ON_SIGNAL = new URL('./exit-on-signal.js', import.meta.url).href;

export interface RigOptions {
  /** Customers the CRM simulators hold (the 60 demo customers and generated ones). */
  customers: number;
  outDir: string;
  logLevel: string;
  profile: boolean;
  genesysTokenLifetimeSeconds: number;
}

/** The simulators, controlled from the bench process. */
export class SimControl {
  private seq = 0;
  private readonly pending = new Map<number, (m: HostMessage) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly urls: Record<SimName, string>,
  ) {
    child.on('message', (m: HostMessage) => {
      if ('id' in m) {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
  }

  static async start(customers: number, genesysTokenLifetimeSeconds: number): Promise<SimControl> {
    const child = fork(SIM_HOST, [String(customers), String(genesysTokenLifetimeSeconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const urls = await new Promise<Record<SimName, string>>((resolvePromise, reject) => {
      child.once('message', (m: HostMessage) => ('ready' in m ? resolvePromise(m.urls) : reject(new Error('simulator host: unexpected first message'))));
      child.once('exit', (code) => reject(new Error(`simulator host exited (${code}) before it was ready`)));
    });
    child.removeAllListeners('exit');
    return new SimControl(child, urls);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request(op: HostCommand): Promise<void> {
    const id = ++this.seq;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, (m) => ('ok' in m && m.ok ? resolvePromise() : reject(new Error(`simulator host: ${'error' in m ? m.error : 'failed'}`))));
      this.child.send({ ...op, id } as HostRequest);
    });
  }

  /** A real outage: the simulator's port refuses connections until `startSim`. */
  stopSim(sim: SimName): Promise<void> {
    return this.request({ op: 'stop', sim });
  }

  startSim(sim: SimName): Promise<void> {
    return this.request({ op: 'start', sim });
  }

  private async control(sim: SimName, method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.urls[sim]}/__sim/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw new Error(`${sim} /__sim/${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  async setFaults(sim: SimName, faults: Partial<Faults>): Promise<void> {
    await this.control(sim, 'PUT', 'faults', faults);
  }

  /** Fixed latencies (no jitter), per simulator; the others are left as they are. */
  async setLatencies(latencies: Partial<Record<SimName, number>>): Promise<void> {
    await Promise.all(Object.entries(latencies).map(([sim, latencyMs]) => this.setFaults(sim as SimName, { latencyMs, latencyJitterMs: 0 })));
  }

  async healAll(): Promise<void> {
    await Promise.all(SIM_NAMES.map((s) => this.control(s, 'DELETE', 'faults')));
  }

  async calls(sim: SimName): Promise<CallStats> {
    return (await this.control(sim, 'GET', 'calls')) as CallStats;
  }

  async resetCalls(): Promise<void> {
    await Promise.all(SIM_NAMES.map((s) => this.control(s, 'DELETE', 'calls')));
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await this.request({ op: 'close' }).catch(() => this.child.kill('SIGKILL'));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** One service process. */
export interface Replica {
  index: number;
  url: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  startedAt: number;
  /** Epoch ms when the process exited (set on exit). */
  exitedAt?: number;
  /** How it exited: "code 0", "signal SIGTERM" (set on exit). */
  exit?: string;
}

/** Resident set size of a process in bytes, from /proc (undefined once it has gone). */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** What the bench's replicas require for /metrics on their public port (the soak scenario scrapes it). */
export const BENCH_METRICS_TOKEN = 'bench-metrics-scrape-token-0123456789';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux (getconf CLK_TCK)

/** CPU seconds (user + system) a process has used so far, from /proc (undefined once it has gone). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds used by each part of the rig (services summed over the replicas). */
export interface CpuUse {
  service: number;
  simulators: number;
  redis: number;
  bench: number;
}

async function waitUntilLive(url: string, exited: Promise<number | null>, logFile: string, timeoutMs = 30_000): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (gone !== undefined) throw new Error(`service exited (${gone}) before it was live; see ${logFile}:\n${tail(logFile)}`);
    try {
      // ready, not just live: with Redis, a process is ready once Redis has answered (as Kubernetes would route)
      const response = await fetch(`${url}/health/ready`);
      if (response.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`service at ${url} not live after ${timeoutMs} ms; see ${logFile}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

export class Rig {
  replicas: Replica[] = [];
  private replicaEnv: Record<string, string> = {};
  private started = 0;
  private readonly signingKey: string;
  private readonly tokens = new Map<string, string>();
  private readonly lastCpu = new Map<number, number>();
  /** Every service process started, so CPU of replicas that have exited still counts. */
  private readonly servicePids = new Set<number>();
  private readonly redisPids = new Set<number>();

  private constructor(
    readonly options: RigOptions,
    readonly redis: RedisServer,
    readonly sims: SimControl,
  ) {
    // one signing key for every replica, so a token from one is accepted by all (as in production)
    this.signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // this run's service logs only (service-1.log, service-2.log, … in start order)
    rmSync(join(options.outDir, 'logs'), { recursive: true, force: true });
    mkdirSync(join(options.outDir, 'logs'), { recursive: true });
    if (options.profile) mkdirSync(this.profileDir, { recursive: true });
  }

  static async start(options: RigOptions): Promise<Rig> {
    const [redis, sims] = await Promise.all([RedisServer.start(), SimControl.start(options.customers, options.genesysTokenLifetimeSeconds)]);
    return new Rig(options, redis, sims);
  }

  get profileDir(): string {
    return resolve(this.options.outDir, 'profiles');
  }

  /** The environment every bench replica gets: production mode, real Redis, real inbound auth. */
  baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(sandboxEnv({ salesforce: { url: this.sims.urls.salesforce }, sap: { url: this.sims.urls.sap }, servicenow: { url: this.sims.urls.servicenow }, genesys: { url: this.sims.urls.genesys } }))) {
      if (v !== undefined) env[k] = v;
    }
    return {
      ...env,
      NODE_ENV: 'production',
      LOG_LEVEL: this.options.logLevel,
      HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      JWT_SIGNING_KEY: this.signingKey,
      JWT_TTL_SECONDS: '86400',
      JWT_MAX_LIFETIME_SECONDS: '86400',
      // the soak scenario scrapes /metrics on the public port
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
      BENCH_BARE_ROUTE: 'true',
      // the inbound throttle still counts every request (in the process, shared through Redis), but never refuses here
      THROTTLE_LIMIT: '10000000',
      PUBLIC_BASE_URL: 'http://127.0.0.1',
    };
  }

  /**
   * Starts `count` new replicas with `env` on top of the base environment, after stopping any
   * running ones. Always new processes: breakers, in-process single-flight and token caches live
   * in memory, and one scenario's open breaker must not shape the next one's figures.
   */
  async startReplicas(count: number, env: Record<string, string>): Promise<Replica[]> {
    const full = { ...this.baseEnv(), ...env };
    await this.stopReplicas();
    this.tokens.clear();
    this.replicaEnv = full;
    this.replicas = await Promise.all(Array.from({ length: count }, (_, i) => this.spawnReplica(i, full)));
    return this.replicas;
  }

  /** Starts one replica (also used to replace one that a drill terminated). */
  async spawnReplica(index: number, env: Record<string, string> = this.replicaEnv): Promise<Replica> {
    const port = await freePort();
    const logFile = join(this.options.outDir, 'logs', `service-${++this.started}.log`);
    const fd = openSync(logFile, 'w');
    // node's flags as the image gives them (the young generation's size), then profiling when asked
    const args = [...imageNodeFlags(), ...(this.options.profile ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, '--import', EXIT_ON_SIGNAL] : []), MAIN];
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    if (child.pid !== undefined) this.servicePids.add(child.pid);
    await waitUntilLive(url, exited, logFile);
    const replica: Replica = { index, url, pid: child.pid ?? -1, child, logFile, exited, startedAt: Date.now() };
    child.once('exit', (code, signal) => {
      replica.exitedAt = Date.now();
      replica.exit = signal ? `signal ${signal}` : `code ${code}`;
    });
    return replica;
  }

  /** Stops a replica: SIGUSR2 when profiling (exits cleanly so the profile is written), else SIGTERM; SIGKILL after `timeoutMs`. */
  async stopReplica(replica: Replica, timeoutMs = this.options.profile ? 30_000 : 3000): Promise<void> {
    if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
    replica.child.kill(this.options.profile ? 'SIGUSR2' : 'SIGTERM');
    const done = await Promise.race([replica.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
    if (!done) {
      replica.child.kill('SIGKILL');
      await replica.exited;
    }
  }

  async stopReplicas(): Promise<void> {
    await Promise.all(this.replicas.map((r) => this.stopReplica(r)));
    this.replicas = [];
  }

  /** A Bearer token from a replica's own token endpoint (as Genesys's User Defined OAuth credential gets one). */
  async token(replica: Replica = this.replicas[0]): Promise<string> {
    const known = this.tokens.get(replica.url);
    if (known) return known;
    const response = await fetch(`${replica.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SANDBOX_INBOUND.clientId, client_secret: SANDBOX_INBOUND.clientSecret }).toString(),
    });
    if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
    const token = ((await response.json()) as { access_token: string }).access_token;
    this.tokens.set(replica.url, token);
    return token;
  }

  /**
   * CPU used so far by every process of the rig. A process that exits between two readings
   * keeps counting with its last reading (so a scenario's difference stays right).
   */
  cpu(): CpuUse {
    for (const r of this.replicas) this.servicePids.add(r.pid);
    if (this.redis.pid !== undefined) this.redisPids.add(this.redis.pid);
    const sum = (pids: Iterable<number | undefined>) => {
      let total = 0;
      for (const pid of pids) {
        if (pid === undefined) continue;
        const now = cpuSeconds(pid);
        if (now !== undefined) this.lastCpu.set(pid, now);
        total += this.lastCpu.get(pid) ?? 0;
      }
      return total;
    };
    const usage = process.cpuUsage();
    return { service: sum(this.servicePids), simulators: sum([this.sims.pid]), redis: sum(this.redisPids), bench: (usage.user + usage.system) / 1e6 };
  }

  /** Empties Redis (cache, locks, rate-limit windows, throttle counters): the next look-ups are cold. */
  async flushRedis(): Promise<void> {
    const client = createClient({ url: this.redis.url, socket: { reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.flushAll();
    } finally {
      client.destroy();
    }
  }

  /** Back to a known state between scenarios: Redis empty, simulators healthy, counters zero. */
  async reset(): Promise<void> {
    if (!this.redis.running) await this.redis.resume();
    await this.flushRedis();
    await this.sims.healAll();
    await this.sims.resetCalls();
  }

  async close(): Promise<void> {
    await this.stopReplicas();
    await Promise.all([this.sims.close(), this.redis.stop()]);
  }
}
