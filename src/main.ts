import { loadConfigFromProcess } from './app.config.js';
import { createApp } from './app.factory.js';
import { ConfigError } from './config/config.errors.js';
import { installGracefulShutdown } from './health/graceful-shutdown.js';
import { startManagementServer } from './health/management-server.js';

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
  const { app, logger } = await createApp(config);
  const { port, host, managementPort, shutdownGraceMs, shutdownDelayMs } = config.server;
  await app.listen({ port, host });
  const management = managementPort > 0 ? await startManagementServer(app, managementPort, host) : undefined;
  installGracefulShutdown(app, { graceMs: shutdownGraceMs, delayMs: shutdownDelayMs, logger, alsoClose: management ? [management] : [] });
  logger.info({ port, managementPort: management ? managementPort : undefined }, 'customer360 listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
