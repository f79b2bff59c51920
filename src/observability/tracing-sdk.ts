import type { IncomingMessage } from 'node:http';
import { context, diag, DiagLogLevel, ROOT_CONTEXT, type DiagLogger } from '@opentelemetry/api';
import { CompositePropagator, getRPCMetadata, parseKeyPairsIntoRecord, RPCType, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { hostDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { outsideRequest } from './correlation.js';
import { secretValues } from './logger.js';
import type { TracingConfig } from './tracing.config.js';
import { ScrubbingExporter, secretMatcher, SpanScrubber } from './tracing-scrub.js';
import { activateSpans, ATTR, currentCall } from './tracing-spans.js';

/*
 * The OpenTelemetry SDK as this service runs it. Loaded (by tracing.ts) only when tracing is on,
 * and before the application's modules, so the HTTP and Redis instrumentations see `http`,
 * `https` and `@redis/client` load. Everything comes from TracingConfig; the SDK is given explicit
 * components so it reads nothing else from the environment (no metrics or logs exporters: metrics
 * are Prometheus's, logs are stdout's).
 */

/** Paths whose requests are never traced: probes and scrapes (every few seconds, on every replica). */
const UNTRACED = /^\/(health|metrics)(\/|\?|$)/;

export function sampler(config: TracingConfig): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
  }
}

/** service.name and OTEL_RESOURCE_ATTRIBUTES (OTEL_SERVICE_NAME wins over a service.name given there). */
export function resourceAttributes(config: TracingConfig): Record<string, string> {
  return { ...parseKeyPairsIntoRecord(config.resourceAttributes.join(',')), 'service.name': config.serviceName };
}

function otlpExporter(config: TracingConfig): SpanExporter {
  const options = {
    url: config.tracesUrl,
    headers: config.headers ? parseKeyPairsIntoRecord(config.headers) : undefined,
    timeoutMillis: config.timeoutMs,
  };
  return config.effectiveProtocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtoExporter(options);
}

/** Where spans go: OTLP through the batch processor, the console one by one (debugging), or nowhere (propagation only). */
export function spanProcessors(config: AppConfig): SpanProcessor[] {
  const scrubber = new SpanScrubber(secretMatcher(secretValues(config)));
  switch (config.tracing.effectiveExporter) {
    case 'otlp':
      return [new BatchSpanProcessor(new ScrubbingExporter(otlpExporter(config.tracing), scrubber))];
    case 'console':
      return [new SimpleSpanProcessor(new ScrubbingExporter(new ConsoleSpanExporter(), scrubber))];
    case 'none':
      return [];
  }
}

/** The SDK reports errors as JSON-serialized exceptions: their message is what a reader needs (no stack). */
export function diagMessage(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : message;
  } catch {
    return message;
  }
}

/**
 * The SDK's own complaints (a collector that cannot be reached) as our JSON log lines, warnings and
 * up; written outside any request's context (an export is not part of the request that happened
 * to start the batch timer).
 */
function diagLogger(logger: Logger): DiagLogger {
  const write = (level: 'warn' | 'error' | 'info' | 'debug' | 'trace') => (message: string, ...args: unknown[]) =>
    outsideRequest(() =>
      context.with(ROOT_CONTEXT, () => logger[level]({ detail: args.map((a) => diagMessage(a instanceof Error ? a.message : String(a))).join(' ') || undefined }, `opentelemetry: ${diagMessage(message)}`)),
    );
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('trace') };
}

export interface StartedSdk {
  shutdown(): Promise<void>;
}

export function startSdk(config: AppConfig, logger: Logger): StartedSdk {
  diag.setLogger(diagLogger(logger), DiagLogLevel.WARN);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes(resourceAttributes(config.tracing)),
    resourceDetectors: [hostDetector, processDetector],
    sampler: sampler(config.tracing),
    spanProcessors: spanProcessors(config),
    textMapPropagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED.test(request.url ?? '/'),
        // background work (token refreshes, the IP range refresh) outside any request is not traced
        requireParentforOutgoingSpans: true,
        // the system and the retry a call belongs to (set by the resilience policy around each attempt)
        startOutgoingSpanHook: () => {
          const call = currentCall();
          if (!call) return {};
          return call.attempt > 1 ? { [ATTR.source]: call.source, 'http.request.resend_count': call.attempt - 1 } : { [ATTR.source]: call.source };
        },
      }),
      new RedisInstrumentation({
        requireParentSpan: true,
        // keys carry customer numbers and phone numbers: the command name only
        dbStatementSerializer: (command: string) => command,
      }),
    ],
  });
  sdk.start();
  activateSpans((route) => {
    // the HTTP instrumentation names the server span `<method> <route>` and sets http.route from this
    const rpc = getRPCMetadata(context.active());
    if (rpc?.type === RPCType.HTTP) rpc.route = route;
  });
  return { shutdown: () => sdk.shutdown() };
}
