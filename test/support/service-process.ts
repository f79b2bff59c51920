import { type ChildProcess,spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { freePort } from './free-port.js';

// the built service, whether this file runs from test/ (vitest) or from dist/test/ (the sandbox, the bench)
const MAIN = fileURLToPath(new URL(import.meta.url.includes('/dist/test/') ? '../../src/main.js' : '../../dist/src/main.js', import.meta.url));

/** The compiled service as a separate OS process (a "replica"), ready when it says it listens. */
export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process has written `text` (to stdout or stderr), at or after offset `from` of `output()`. */
  whenOutput(text: string, from?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Kept output is bounded (a long-running sandbox must not grow without end). */
const MAX_OUTPUT = 1024 * 1024;

export interface SpawnOptions {
  /** Fixed port (default: a free one). */
  port?: number;
  /** Also copy the process's output here (the sandbox shows its replicas' logs). */
  echo?: NodeJS.WritableStream;
}

/**
 * Starts the service on `options.port`, or on a free port: a port found free can be taken by
 * another process before the service binds it, so then it is started again on another (a few times).
 */
export async function spawnService(env: Record<string, string | undefined>, options: SpawnOptions = {}): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await spawnOn(port, env, options);
    } catch (err) {
      const lostTheRace = options.port === undefined && attempt < 3 && (err as Error).message.includes(`EADDRINUSE: address already in use 127.0.0.1:${port}`);
      if (!lostTheRace) throw err;
    }
  }
}

async function spawnOn(port: number, env: Record<string, string | undefined>, options: SpawnOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [MAIN], {
    // info at least: readiness is read from the "listening" line
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let waiters: { text: string; from: number; resolve: () => void }[] = [];
  let echoing = false; // start-up lines stay quiet; what follows "listening" is shown
  const append = (chunk: string) => {
    if (echoing) options.echo?.write(chunk);
    output += chunk;
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT / 2);
    const due = waiters.filter((w) => output.includes(w.text, w.from));
    waiters = waiters.filter((w) => !output.includes(w.text, w.from));
    for (const w of due) w.resolve();
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      append(d.toString());
      if (output.includes('customer360 listening')) {
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (more: Buffer) => append(more.toString()));
        echoing = true;
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => append(d.toString()));
    void exited.then((code) => reject(new Error(`service exited (${code}) before listening:\n${output}`)));
  });
  await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    whenOutput: (text: string, from = 0) => (output.includes(text, from) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ text, from, resolve }))),
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
