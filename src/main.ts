import { ConfigError } from './config/config.errors.js';
import { loadConfigFromProcess } from './config/process-env.js';
import { createLogger } from './observability/logger.js';
import { startTracing } from './observability/tracing.js';

/*
 * Only the configuration, the logger and the tracing start-up are imported statically: the
 * application (Fastify, Nest, http, the Redis client) is imported once tracing is in place, so the
 * OpenTelemetry instrumentations see those modules load.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const tracing = await startTracing(config, createLogger(config).child({ component: 'tracing' }));
  const { createApp } = await import('./app.factory.js');
  const { installGracefulShutdown } = await import('./health/graceful-shutdown.js');
  const { startManagementServer } = await import('./health/management-server.js');
  const { app, logger } = await createApp(config);
  const { port, host, managementPort, shutdownGraceMs, shutdownDelayMs } = config.server;
  await app.listen({ port, host });
  const management = managementPort > 0 ? await startManagementServer(app, managementPort, host) : undefined;
  installGracefulShutdown(app, {
    graceMs: shutdownGraceMs,
    delayMs: shutdownDelayMs,
    logger,
    alsoClose: management ? [management] : [],
    // a drain that completed sends the spans of its last requests first (bounded); a second signal exits at once
    exit: (code) => (code === 0 ? void tracing.shutdown().finally(() => process.exit(code)) : process.exit(code)),
  });
  logger.info({ port, managementPort: management ? managementPort : undefined, tracing: tracing.enabled }, 'customer360 listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
