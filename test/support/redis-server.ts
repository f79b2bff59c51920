import { type ChildProcess,spawn } from 'node:child_process';

import { createClient } from '@redis/client';

import { freePort } from './free-port.js';

/**
 * A private `redis-server` on a free port, with nothing persisted, that a test can stop (to
 * simulate an outage) and start again on the same port.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The redis-server process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (or restarts after `kill`) the server on the same port and waits until it answers PING. */
  async resume(): Promise<void> {
    if (this.child) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice', '--enable-debug-command', 'yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    // Ready when redis says so in its log (an event, not a polling loop).
    const ready = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout?.off('data', onData);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
    });
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`))));
    await Promise.race([ready, exited]);
    child.stdout?.resume();
    child.removeAllListeners('exit');
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  /**
   * Empties the database (starting it first if a test left it down), so that a test starts from no
   * cached parts, locks, rate-limit counts or replay marks whatever ran before it.
   */
  async flush(): Promise<void> {
    await this.resume();
    const client = createClient({ url: this.url });
    await client.connect();
    try {
      await client.flushDb();
    } finally {
      await client.close();
    }
  }

  /** Kills the server abruptly (SIGKILL): an outage, not a clean shutdown. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}
