import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/*
 * A small OTLP/HTTP trace receiver, as a collector's `otlp` receiver on port 4318 behaves: it takes
 * POST /v1/traces in both encodings the service can send (`application/x-protobuf` and
 * `application/json`), decodes them independently of the SDK's own encoder (the protobuf schema
 * below is the opentelemetry-proto trace service, written out for protobufjs), and keeps every
 * span in one plain shape for the test to check.
 */

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

const ExportTraceServiceRequest = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest');

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];
export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;

export interface ReceivedEvent {
  name: string;
  timeNs: bigint;
  attributes: Record<string, AttributeValue>;
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  events: ReceivedEvent[];
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  resource: Record<string, AttributeValue>;
  scope: string;
  /** How it arrived: `protobuf` or `json`. */
  encoding: 'protobuf' | 'json';
}

/* The decoded message, in the camelCase shape both protobufjs (toObject) and OTLP/JSON use. */
interface WireValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: WireValue[] };
  kvlistValue?: { values?: WireKeyValue[] };
  bytesValue?: string;
}
interface WireKeyValue {
  key: string;
  value?: WireValue;
}
interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: WireKeyValue[];
  events?: Array<{ timeUnixNano: string | number; name: string; attributes?: WireKeyValue[] }>;
  status?: { code?: number; message?: string };
}
interface WireRequest {
  resourceSpans?: Array<{ resource?: { attributes?: WireKeyValue[] }; scopeSpans?: Array<{ scope?: { name?: string }; spans?: WireSpan[] }> }>;
}

function value(v: WireValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value);
  if (v.kvlistValue !== undefined) return attributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

function attributes(list: WireKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

function spansOf(request: WireRequest, encoding: ReceivedSpan['encoding']): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ? s.parentSpanId : undefined,
          name: s.name,
          kind: SPAN_KINDS[s.kind ?? 0] ?? 'unspecified',
          startNs: BigInt(s.startTimeUnixNano),
          endNs: BigInt(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, timeNs: BigInt(e.timeUnixNano), attributes: attributes(e.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message || undefined },
          resource,
          scope: ss.scope?.name ?? '',
          encoding,
        });
      }
    }
  }
  return out;
}

/** OTLP/protobuf: bytes fields become lowercase hex (what OTLP/JSON carries), 64-bit numbers decimal strings. */
export function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const message = ExportTraceServiceRequest.decode(body);
  const plain = ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, defaults: false }) as WireRequest;
  // protobufjs gives bytes as base64: OTLP's ids are hex
  const hex = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64').toString('hex') : undefined);
  for (const rs of plain.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        s.traceId = hex(s.traceId) ?? '';
        s.spanId = hex(s.spanId) ?? '';
        s.parentSpanId = hex(s.parentSpanId);
      }
    }
  }
  return spansOf(plain, 'protobuf');
}

/** OTLP/JSON: ids already hex, 64-bit numbers as strings or numbers. */
export function decodeJson(body: Buffer): ReceivedSpan[] {
  return spansOf(JSON.parse(body.toString('utf8')) as WireRequest, 'json');
}

export interface OtlpReceiver {
  /** The base URL (OTEL_EXPORTER_OTLP_ENDPOINT). */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received, in order. */
  contentTypes: string[];
  /** Resolves with the spans of `traceId` once `done` holds for them (checked on every export received). */
  trace(traceId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  let waiters: Array<{ traceId: string; done: (s: ReceivedSpan[]) => boolean; resolve: (s: ReceivedSpan[]) => void }> = [];
  const check = () => {
    waiters = waiters.filter((w) => {
      const of = spans.filter((s) => s.traceId === w.traceId);
      if (!w.done(of)) return true;
      w.resolve(of);
      return false;
    });
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      contentTypes.push(type);
      const body = await bodyOf(req);
      try {
        if (type.startsWith('application/x-protobuf')) spans.push(...decodeProtobuf(body));
        else if (type.startsWith('application/json')) spans.push(...decodeJson(body));
        else {
          res.writeHead(415).end();
          return;
        }
      } catch {
        res.writeHead(400).end();
        return;
      }
      // an empty ExportTraceServiceResponse: full success
      if (type.startsWith('application/json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      check();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    trace: (traceId, done) =>
      new Promise((resolve) => {
        waiters.push({ traceId, done, resolve });
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
