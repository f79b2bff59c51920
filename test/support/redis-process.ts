import { type ChildProcess,spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createClient } from '@redis/client';

import { freePort } from './free-port.js';

/**
 * Building blocks of the Redis topologies in `redis-topologies.ts`: one `redis-server` process
 * (a data node or a Sentinel) that can be killed and started again with the same arguments, a
 * bounded wait for a condition, and a short-lived admin connection.
 */

export const HOST = '127.0.0.1';

/** Kept log output per process is bounded (a restarted node must not grow it without end). */
const MAX_OUTPUT = 256 * 1024;

/** Every child still running, so that a test runner that exits without `stop()` leaves no redis-server behind. */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

/** What an admin connection needs beyond host and port (an ACL user, TLS). */
export interface ConnectOptions {
  username?: string;
  password?: string;
  tls?: { ca: string; cert?: string; key?: string };
}

/**
 * One `redis-server` process on a fixed port. `start()` resolves when the process has logged
 * `readyText` (an event, not a polling loop) and rejects with its output if it exits first.
 */
export class RedisProcess {
  private child: ChildProcess | undefined;
  private log = '';

  constructor(
    readonly port: number,
    private readonly args: readonly string[],
    private readonly readyText: string,
    readonly connectOptions: ConnectOptions = {},
  ) {}

  /** `127.0.0.1:<port>` */
  get address(): string {
    return `${HOST}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** What the process logged (the tail, if it logged much). */
  output(): string {
    return this.log;
  }

  /** Starts the process (once more after `kill`); `extraArgs` override its configuration for this run. */
  async start(extraArgs: string[] = []): Promise<void> {
    if (this.child) return;
    const child = spawn('redis-server', [...this.args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    LIVE.add(child);
    let fresh = ''; // what this run logged before it was ready
    const append = (d: Buffer) => {
      this.log += d.toString();
      if (this.log.length > MAX_OUTPUT) this.log = this.log.slice(-MAX_OUTPUT / 2);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => {
          fresh += d.toString();
          if (fresh.includes(this.readyText)) {
            child.stdout?.off('data', onData);
            child.stderr?.off('data', onData);
            child.off('exit', onExit);
            resolve();
          }
        };
        const onExit = (code: number | null) => reject(new Error(`redis-server on port ${this.port} exited (${code}) before "${this.readyText}":\n${fresh}`));
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', onExit);
      });
    } catch (err) {
      LIVE.delete(child);
      this.child = undefined;
      throw err;
    }
    child.once('exit', () => {
      LIVE.delete(child);
      if (this.child === child) this.child = undefined;
    });
  }

  /** Kills the process abruptly (SIGKILL): a crash, not a clean shutdown. Resolves once it has exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    LIVE.delete(child);
  }

  /**
   * Runs one command on a connection of its own (closed afterwards). Fails at once, rather than
   * waiting, when the process does not answer.
   */
  async command(args: string[]): Promise<unknown> {
    return (await this.commands([args]))[0];
  }

  /** Runs commands in order on one connection (`SET` then `WAIT` must share one), closed afterwards. */
  async commands(list: string[][]): Promise<unknown[]> {
    const { tls, username, password } = this.connectOptions;
    const client = createClient({
      username,
      password,
      disableOfflineQueue: true,
      disableClientInfo: true,
      maintNotifications: 'disabled',
      socket: tls ? { host: HOST, port: this.port, tls: true, ...tls, connectTimeout: 2000, reconnectStrategy: false } : { host: HOST, port: this.port, connectTimeout: 2000, reconnectStrategy: false },
    });
    client.on('error', () => undefined); // the failed command or connect() reports it
    await client.connect();
    try {
      const replies: unknown[] = [];
      for (const args of list) replies.push(await client.sendCommand(args));
      return replies;
    } finally {
      client.destroy();
    }
  }

  /** `INFO <section>` as a map of its fields. */
  async info(section: string): Promise<Map<string, string>> {
    return parseFields(String(await this.command(['INFO', section])), ':');
  }
}

/** `a:1\r\nb:2` (INFO, CLUSTER INFO) as a map. */
export function parseFields(text: string, separator: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(separator);
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + separator.length).trim());
  }
  return fields;
}

/** A flat `[k1, v1, k2, v2]` reply (SENTINEL MASTER and friends) as a map. */
export function pairs(reply: unknown): Map<string, string> {
  const list = Array.isArray(reply) ? reply.map(String) : [];
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) fields.set(list[i], list[i + 1]);
  return fields;
}

/**
 * Polls `check` until it returns something other than `undefined`, at most `timeoutMs`. Used only
 * where Redis announces nothing a test could wait on (a cluster agreeing on its slots, a replica's
 * link coming up). On time-out it says what it waited for and what it saw last.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined>, { timeoutMs = 15_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = 'not yet';
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `n` distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** A private temporary directory, removed by the returned function. */
export async function tempDir(label: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `c360-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** One line of a redis.conf: a directive and its values. */
export type Directive = [string, ...string[]];

/**
 * Writes a redis.conf (mode 0600: it may hold `masterauth`). Settings go through a file rather
 * than the command line so that no password is visible in `ps`.
 */
export async function writeConf(file: string, directives: Directive[]): Promise<string> {
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  await writeFile(file, directives.map(([name, ...values]) => [name, ...values.map(quote)].join(' ')).join('\n') + '\n', { mode: 0o600 });
  return file;
}

/** What every data node shares: loopback only, nothing persisted, no delay before a replica's first sync. */
export function dataNodeDirectives(port: number, dir: string): Directive[] {
  return [
    ['port', String(port)],
    ['bind', HOST],
    ['dir', dir],
    ['save', ''],
    ['appendonly', 'no'],
    ['daemonize', 'no'],
    ['loglevel', 'notice'],
    ['repl-diskless-sync', 'yes'],
    ['repl-diskless-sync-delay', '0'],
    ['repl-diskless-load', 'on-empty-db'],
  ];
}

/** The log line a data node writes once it serves clients. */
export const DATA_NODE_READY = 'Ready to accept connections';
