import { createApp } from './app.factory.js';
import { ConfigError } from './config/config.errors.js';
import { loadConfigFromProcess } from './config/process-env.js';

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
  await app.listen({ port: config.server.port, host: config.server.host });
  logger.info({ port: config.server.port }, 'customer360 listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
