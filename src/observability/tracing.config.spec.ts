import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config.errors.js';
import { loadConfig } from '../config/load-config.js';

/** Connectors off: only the tracing settings matter here. */
const BASE = { SALESFORCE_ENABLED: 'false', SAP_ENABLED: 'false', SERVICENOW_ENABLED: 'false' };
const tracing = (env: Record<string, string> = {}, files: Record<string, string> = {}) =>
  loadConfig({ ...BASE, ...env }, (path) => {
    if (!(path in files)) throw new Error(`no file ${path}`);
    return files[path];
  }).tracing;

function problems(env: Record<string, string>): string {
  try {
    tracing(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('TracingConfig', () => {
  it('is off unless an OTLP endpoint or an exporter is named', () => {
    expect(tracing().enabled).toBe(false);
    expect(tracing({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).enabled).toBe(false);
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).enabled).toBe(true);
    expect(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/v1/traces' }).enabled).toBe(true);
    expect(tracing({ OTEL_TRACES_EXPORTER: 'none' })).toMatchObject({ enabled: true, effectiveExporter: 'none' });
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318', OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
  });

  it('posts to <endpoint>/v1/traces, or to the traces endpoint as given', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).tracesUrl).toBe('http://otel-collector:4318/v1/traces');
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp/' }).tracesUrl).toBe('https://otlp.example.com/otlp/v1/traces');
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' }).tracesUrl).toBe('http://b:4318/custom');
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp' }).tracesUrl).toBe('http://localhost:4318/v1/traces');
  });

  it('speaks http/protobuf unless told http/json, for all signals or for traces', () => {
    expect(tracing().effectiveProtocol).toBe('http/protobuf');
    expect(tracing({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).effectiveProtocol).toBe('http/json');
    expect(tracing({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).effectiveProtocol).toBe('http/protobuf');
  });

  it('reads the sampler ratio, 1 when not given', () => {
    expect(tracing().samplerRatio).toBe(1);
    expect(tracing({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).samplerRatio).toBe(0.1);
  });

  it('takes the exporter headers (an API key) from a mounted file, as a secret', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_HEADERS_FILE: '/run/secrets/otlp' }, { '/run/secrets/otlp': 'api-key=abc123\n' }).headers).toBe('api-key=abc123');
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
    [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'just-a-token' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name' }, 'OTEL_RESOURCE_ATTRIBUTES'],
  ])('refuses %o', (env, name) => {
    expect(problems(env)).toContain(name);
  });

  it('never echoes the headers (they hold API keys)', () => {
    expect(problems({ OTEL_EXPORTER_OTLP_HEADERS: 'secret-token-value' })).not.toContain('secret-token-value');
  });
});
