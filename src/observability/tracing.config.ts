import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Env } from '../config/env.decorator.js';

export const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TracesExporter = (typeof TRACES_EXPORTERS)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/**
 * OpenTelemetry tracing, configured with the variables the OpenTelemetry specification defines
 * (what every collector, APM agent and operator already knows). Read here like every other setting,
 * then handed to the SDK explicitly; tracing stays off (nothing loaded, nothing on the request path)
 * until an endpoint or an exporter is named.
 */
export class TracingConfig {
  @Env('OTEL_SDK_DISABLED', { doc: 'true = no tracing whatever the other OTEL_* settings say' })
  @IsBoolean()
  sdkDisabled = false;

  @Env('OTEL_TRACES_EXPORTER', { doc: 'otlp, console (stdout, for debugging) or none (W3C propagation only, nothing exported); unset = otlp when an OTLP endpoint is set, else tracing off' })
  @IsOptional()
  @IsIn(TRACES_EXPORTERS)
  exporter?: TracesExporter;

  @Env('OTEL_EXPORTER_OTLP_ENDPOINT', { doc: 'Base URL of the OTLP/HTTP receiver (a collector: http://otel-collector:4318); spans go to <url>/v1/traces. Setting it turns tracing on' })
  @IsOptional()
  @Matches(HTTP_URL, { message: '$property must be an http:// or https:// URL without query' })
  endpoint?: string;

  @Env('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { doc: 'Full URL spans are posted to, when not <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces. Setting it turns tracing on' })
  @IsOptional()
  @Matches(HTTP_URL, { message: '$property must be an http:// or https:// URL without query' })
  tracesEndpoint?: string;

  @Env('OTEL_EXPORTER_OTLP_PROTOCOL', { doc: 'http/protobuf or http/json (gRPC is not offered: use the collector\'s HTTP port, 4318)' })
  @IsIn(OTLP_PROTOCOLS)
  protocol: OtlpProtocol = 'http/protobuf';

  @Env('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', { doc: 'Overrides OTEL_EXPORTER_OTLP_PROTOCOL for spans' })
  @IsOptional()
  @IsIn(OTLP_PROTOCOLS)
  tracesProtocol?: OtlpProtocol;

  @Env('OTEL_EXPORTER_OTLP_HEADERS', { doc: 'Headers sent with every export, key=value,… (a vendor\'s API key, e.g. api-key=…)', secret: true })
  @IsOptional()
  @Matches(/^[^=,\s]+=[^,]*(,[^=,\s]+=[^,]*)*$/, { message: 'OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas' })
  headers?: string;

  @Env('OTEL_EXPORTER_OTLP_TIMEOUT', { doc: 'Longest wait for one export (ms); spans that cannot be sent are dropped, requests never wait for them' })
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs = 10_000;

  @Env('OTEL_SERVICE_NAME', { doc: 'service.name of every span (how the APM lists this service)' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  serviceName = 'customer360';

  @Env('OTEL_RESOURCE_ATTRIBUTES', { doc: 'More resource attributes, key=value,… (deployment.environment.name=prod,service.namespace=contact-center); values percent-encoded' })
  @Matches(/^[^=,\s]+=[^,]*$/, { each: true, message: 'OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas' })
  resourceAttributes: string[] = [];

  @Env('OTEL_TRACES_SAMPLER', { doc: 'always_on, always_off, traceidratio or parentbased_* of those (parentbased: follow the caller\'s sampled flag)' })
  @IsIn(SAMPLERS)
  sampler: SamplerName = 'parentbased_always_on';

  @Env('OTEL_TRACES_SAMPLER_ARG', { doc: 'The ratio of traces kept by the *traceidratio samplers, 0…1 (e.g. 0.1); unset = 1' })
  @IsOptional()
  @Matches(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { message: 'OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1' })
  samplerArg?: string;

  /** Whether the SDK is started at all. */
  get enabled(): boolean {
    if (this.sdkDisabled) return false;
    return this.exporter !== undefined || this.endpoint !== undefined || this.tracesEndpoint !== undefined;
  }

  /** The exporter in use (when enabled). */
  get effectiveExporter(): TracesExporter {
    return this.exporter ?? 'otlp';
  }

  /** Where OTLP spans are posted: the signal-specific URL as given, else the base URL + /v1/traces (the spec's rule). */
  get tracesUrl(): string {
    if (this.tracesEndpoint) return this.tracesEndpoint;
    const base = this.endpoint ?? 'http://localhost:4318';
    return `${base.replace(/\/+$/, '')}/v1/traces`;
  }

  get effectiveProtocol(): OtlpProtocol {
    return this.tracesProtocol ?? this.protocol;
  }

  get samplerRatio(): number {
    return this.samplerArg === undefined ? 1 : Number(this.samplerArg);
  }
}
