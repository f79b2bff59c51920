import type { Server } from 'node:http';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';

import { Metrics } from '../observability/metrics.js';
import { ShutdownState } from './shutdown.state.js';

export interface GracefulShutdownOptions {
  /** How long requests in flight get to finish before their connections are closed. */
  graceMs: number;
  /** How long to keep accepting after readiness turns 503 (load balancers catching up). */
  delayMs?: number;
  logger: Logger;
  /** Listeners to close last (the management port, which reports readiness 503 meanwhile). */
  alsoClose?: Server[];
  /** Called with the exit code when done (default: process.exit). */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

async function inFlight(app: NestFastifyApplication): Promise<number> {
  const metric = await app.get(Metrics).httpInFlight.get();
  return metric.values[0]?.value ?? 0;
}

/**
 * SIGTERM (or SIGINT): readiness turns 503 at once; for SHUTDOWN_DELAY_MS new connections are
 * still accepted and served (load balancers catching up); then the listener stops accepting;
 * requests already received — and any that arrive on an open keep-alive connection — are served
 * and answered with `Connection: close`; after SHUTDOWN_GRACE_MS whatever is still open is
 * closed. Then Redis, the outbound keep-alive pools and the management port close, and the
 * process exits 0. A second signal while draining exits at once (1).
 */
export function installGracefulShutdown(app: NestFastifyApplication, options: GracefulShutdownOptions): (signal?: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const logger = options.logger.child({ component: 'shutdown' });
  let running: Promise<void> | undefined;

  const shutdown = (signal = 'SIGTERM'): Promise<void> => {
    if (running) {
      logger.warn({ signal }, 'second signal while draining: exiting now');
      exit(1);
      return running;
    }
    running = (async () => {
      app.get(ShutdownState).draining = true;
      const started = Date.now();
      logger.info({ signal, inFlight: await inFlight(app), graceMs: options.graceMs, delayMs: options.delayMs ?? 0 }, 'shutdown: readiness 503, draining requests in flight');
      // still accepting: whatever a balancer sends before it notices readiness is served
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const server = app.getHttpServer() as Server;
      const force = setTimeout(() => {
        void inFlight(app).then((left) => logger.warn({ inFlight: left }, 'shutdown: grace period over, closing the connections still open'));
        server.closeAllConnections();
      }, options.graceMs);
      force.unref();
      let code = 0;
      try {
        await app.close(); // stops accepting, waits for in-flight requests, then closes Redis and HTTP pools
      } catch (err) {
        code = 1;
        logger.error({ err }, 'shutdown: closing the application failed');
      } finally {
        clearTimeout(force);
      }
      for (const other of options.alsoClose ?? []) {
        other.closeAllConnections();
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
      logger.info({ ms: Date.now() - started }, 'shutdown complete');
      exit(code);
    })();
    return running;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutdown(signal));
  return shutdown;
}
