import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/**
 * Tracing for the process: started by main before it imports the application, so the
 * instrumentations are in place when `http`, `https` and `@redis/client` are first loaded.
 *
 * Off (no OTLP endpoint and no OTEL_TRACES_EXPORTER, or OTEL_SDK_DISABLED=true): nothing is loaded,
 * no loader hook is registered, and the span helpers stay inert. On: the ESM loader hook of
 * import-in-the-middle is registered for the instrumented modules only (this is an ES module
 * application: without it `import` would bypass the instrumentations), then the SDK starts.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** Sends the spans still buffered (bounded by the export timeout) and stops the SDK. */
  shutdown(): Promise<void>;
}

/** Longest a shutdown waits for the last spans to be sent (the pod's grace period is not theirs). */
const FLUSH_LIMIT_MS = 2000;

const OFF: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

export async function startTracing(config: AppConfig, logger: Logger): Promise<Tracing> {
  if (!config.tracing.enabled) return OFF;
  const { register } = await import('node:module');
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const { startSdk } = await import('./tracing-sdk.js');
  const sdk = startSdk(config, logger);
  // the loader thread knows every module the instrumentations asked for before the application is imported
  await waitForAllMessagesAcknowledged();
  logger.info(
    { exporter: config.tracing.effectiveExporter, protocol: config.tracing.effectiveExporter === 'otlp' ? config.tracing.effectiveProtocol : undefined, sampler: config.tracing.sampler, samplerArg: config.tracing.samplerArg },
    'tracing on (OpenTelemetry)',
  );
  let stopping: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), FLUSH_LIMIT_MS);
      timer.unref();
    });
    try {
      if ((await Promise.race([sdk.shutdown(), gaveUp])) === 'late') logger.warn({ ms: FLUSH_LIMIT_MS }, 'tracing: the last spans could not be sent in time');
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'tracing: the last spans could not be sent');
    } finally {
      clearTimeout(timer);
    }
  };
  return { enabled: true, shutdown: () => (stopping ??= flush()) };
}
