import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, type Logger, pino } from 'pino';

import { secretSettingValues } from '../config/load-config.js';
import type { LogLevel } from '../config/server.config.js';
import { currentCorrelationId } from './correlation.js';
import { traceLogFields } from './tracing-spans.js';

/** Header and field paths that are always censored, whatever is logged. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

const CENSOR = '[REDACTED]';

/**
 * Keys whose value is a secret wherever they stand one level down in a logged object (what the
 * redact paths `*.password`, … would say). Not left to pino's wildcard redaction: that runs its
 * cloning redactor on every field of every line, a request line's strings and numbers included
 * (~9 µs a line against ~2.5 µs for the whole line without it).
 */
const SECRET_KEYS = ['password', 'clientSecret', 'client_secret', 'access_token', 'refresh_token', 'apiKey'] as const;

/**
 * pino's `formatters.log`: one level down in the logged object, every SECRET_KEYS value censored.
 * Only a field that is an object holding such a key is copied (an error is serialized first, as
 * pino would); the object given is never changed, and a line without one costs a look at each field.
 */
export function redactSecretKeys(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  for (const key in fields) {
    const value: unknown = fields[key];
    if (typeof value !== 'object' || value === null || !SECRET_KEYS.some((k) => Object.hasOwn(value, k))) continue;
    // an error: serialized as pino does, on an object of the error's own class, so that pino's
    // serializer (which runs after this) still names its type
    const copy: Record<string, unknown> = value instanceof Error ? Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>, pino.stdSerializers.err(value)) : { ...(value as Record<string, unknown>) };
    for (const k of SECRET_KEYS) if (Object.hasOwn(copy, k)) copy[k] = CENSOR;
    if (out === fields) out = { ...fields };
    out[key] = copy;
  }
  return out;
}

/** What the logger reads of the loaded configuration (its sections' secret settings included). */
export interface LoggedConfig {
  readonly server: { readonly logLevel: LogLevel };
  readonly redis: { readonly url?: string };
}

/** The values of every configured secret, so they are scrubbed from any log line that carries one. */
export function secretValues(config: LoggedConfig): string[] {
  const values = secretSettingValues(config);
  // a Redis URL's password alone, too
  const redis = config.redis.url;
  if (redis) {
    try {
      const password = decodeURIComponent(new URL(redis).password);
      if (password.length >= 4) values.push(password);
    } catch {
      /* validated elsewhere */
    }
  }
  return values;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The fields a log line written now carries: none outside a request. */
export function requestLogFields(): Record<string, string> {
  const correlationId = currentCorrelationId();
  const trace = traceLogFields();
  if (trace) return correlationId === undefined ? trace : { correlationId, ...trace };
  return correlationId === undefined ? {} : { correlationId };
}

export function createLogger(config: LoggedConfig, destination?: DestinationStream): Logger {
  // longest first, so a secret that starts with another secret is scrubbed whole
  const secrets = secretValues(config).sort((a, b) => b.length - a.length);
  const scrub = secrets.length > 0 ? new RegExp(secrets.map((s) => escapeRegExp(JSON.stringify(s).slice(1, -1))).join('|'), 'g') : undefined;
  return pino(
    {
      level: config.server.logLevel,
      base: { service: 'customer360' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { level: (label) => ({ level: label }), log: redactSecretKeys },
      // every line written while serving a request carries its correlation id and, with tracing on,
      // the active span's trace_id, span_id and trace_flags (the OpenTelemetry log data model's names)
      mixin: requestLogFields,
      // no secrets configured (development): no hook at all — pino rejects `hooks: undefined`
      ...(scrub ? { hooks: { streamWrite: (line: string) => line.replace(scrub, '[REDACTED]') } } : {}),
    },
    // stdout written asynchronously: lines that come while a write is under way go out together in
    // the next one (a burst costs a few system calls, not one per line); flushed at exit
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** Nest's logger interface on top of pino, so framework messages are JSON lines too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, traceOrContext?: string, context?: string): void {
    this.write('error', message, context ?? traceOrContext);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string): void {
    // Nest's Logger passes every call on: a disabled level costs nothing past this check
    if (!this.logger.isLevelEnabled(level)) return;
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
