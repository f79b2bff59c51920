import 'reflect-metadata';

import type { IncomingMessage, Server } from 'node:http';

import { BadRequestException, type INestApplication, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ValidationError } from 'class-validator';
import type { DestinationStream, Logger } from 'pino';

import type { AppConfig } from './app.config.js';
import { AppModule } from './app.module.js';
import { trustProxy } from './auth/ip-allowlist/client-ip.js';
import type { ConnectorRegistration } from './connectors/connector-registration.js';
import { ShutdownState } from './health/shutdown.state.js';
import { AllExceptionsFilter } from './observability/all-exceptions.filter.js';
import { registerRawRoute } from './observability/bare-route.controller.js';
import { correlationIdFrom, runWithCorrelation } from './observability/correlation.js';
import { ErrorSanitizingInterceptor } from './observability/error-sanitizing.interceptor.js';
import { BodyTooDeepException, nestedDeeperThan } from './observability/json-depth.js';
import { createLogger, PinoNestLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { clientErrorHandler, securityHeaders } from './observability/security-headers.js';
import { serializeReply } from './observability/shared-answer.js';
import { setHttpRoute } from './observability/tracing-spans.js';
import { CompiledValidationPipe } from './observability/validation.pipe.js';

export interface CreateAppOptions {
  /** Where log lines go (tests capture them to prove secrets never appear). */
  logDestination?: DestinationStream;
  /** The systems of record (default CONNECTOR_REGISTRY); the configuration must have been loaded with the same list. */
  connectors?: readonly ConnectorRegistration[];
}

export interface App {
  app: NestFastifyApplication;
  logger: Logger;
}

/** Constraint messages that come from Nest rather than our DTOs, in our words. */
function constraintMessages(e: ValidationError, prefix: string): string[] {
  // the ValidationPipe's own check that a body (or query) is an object at all
  if (!prefix && e.constraints?.isObject && e.children?.length === 0 && Object.keys(e.constraints).length === 1) return [`the ${e.property} must be a JSON object`];
  return Object.values(e.constraints ?? {}).map((m) => (prefix ? `${prefix}.${m}` : m));
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => [
    ...constraintMessages(e, prefix),
    ...flatten(e.children ?? [], prefix ? `${prefix}.${e.property}` : e.property),
  ]);
}


/** Builds the fully configured application (not yet listening). Used by main, the sandbox and tests. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<App> {
  const logger = createLogger(config, options.logDestination);
  const adapter = new FastifyAdapter({
    // Fastify's own per-request lines are silenced (warn level); one line per request is logged below
    loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }),
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: (req: IncomingMessage) => correlationIdFrom(req.headers),
    requestIdHeader: false,
    // request.ip is the real client: X-Forwarded-For is read only through TRUSTED_PROXY_CIDRS
    trustProxy: trustProxy(config.ipAllowlist.trustedProxyCidrs),
    // while draining, requests already on an open connection are still served (see below), not refused
    return503OnClosing: false,
    // what Node's HTTP parser refuses (431 and the like) answers in our shape, with our headers
    clientErrorHandler: clientErrorHandler(logger.child({ component: 'http' })),
    // no Nest middleware here (guards, interceptors and the hooks below do that work), so no
    // @fastify/middie: it runs on every request even with nothing to run (a few µs of each cache
    // hit); Nest middleware added later would fail at start-up without it, not silently
    skipMiddie: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.connectors), adapter, {
    rawBody: true,
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
  });
  // every JSON body: nesting bounded on the raw bytes first, so a hostile body (10,000 nested
  // arrays) is a 400 before the recursive parts of parsing, transformation and validation run
  const jsonParser = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>('application/json', { bodyLimit: config.server.bodyLimitBytes }, (request, body, done) => {
    if (nestedDeeperThan(body, config.server.bodyMaxDepth)) done(new BodyTooDeepException(config.server.bodyMaxDepth), undefined);
    else void jsonParser(request, body as unknown as string, done);
  });
  // SIGTERM/SIGINT are handled by installGracefulShutdown (main), which drains and exits 0
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  app.useGlobalPipes(
    // class-validator's rules, run as compiled checks for flat DTOs and values that pass (see the pipe)
    new CompiledValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => new BadRequestException({ message: flatten(errors) }),
    }),
  );
  app.useGlobalInterceptors(new ErrorSanitizingInterceptor());
  app.useGlobalFilters(new AllExceptionsFilter(logger));

  const fastify = app.getHttpAdapter().getInstance();
  // JSON as Fastify writes it, except that an answer shared by many requests (a cache hit's view)
  // is serialized once; set before the routes are registered (app.init), which take it then
  fastify.setReplySerializer(serializeReply);
  const metrics = app.get(Metrics);
  const shutdown = app.get(ShutdownState);
  // helmet's headers, worked out once; answers carry customer data, so nothing is cached on the
  // way unless a route says otherwise (the side panel's assets, Swagger UI's files set their own)
  const everyAnswer = { ...securityHeaders(), 'cache-control': 'no-store' };
  const slowMs = config.server.logSlowRequestMs;
  const COUNTED = Symbol('inFlight');
  // the route template, read once per request (Fastify's routeOptions builds a new object per read)
  const ROUTE = Symbol('route');
  type Counted = { [COUNTED]?: boolean; [ROUTE]?: string };
  const done = (request: Counted) => {
    if (request[COUNTED]) metrics.requestEnded();
    request[COUNTED] = false;
  };
  fastify.addHook('onRequest', (request, reply, next) => {
    metrics.requestStarted();
    (request as Counted)[COUNTED] = true;
    const route = request.routeOptions.url;
    (request as Counted)[ROUTE] = route;
    void reply.headers(everyAnswer).header('x-correlation-id', request.id);
    // the trace's server span is named after the route (never the path: it holds customer numbers)
    setHttpRoute(route);
    // everything downstream (guards, handlers, CRM calls, log lines) sees this request's correlation id
    runWithCorrelation(request.id, next);
  });
  // draining: every answer still goes out in full, and tells the client to take its next request
  // elsewhere, so keep-alive connections close and the listener can finish closing
  fastify.addHook('onSend', (request, reply, payload, next) => {
    if (shutdown.draining && request.raw.httpVersionMajor === 1) void reply.header('connection', 'close');
    next(null, payload);
  });
  fastify.addHook('onRequestAbort', (request, next) => {
    done(request as Counted);
    next();
  });
  fastify.addHook('onResponse', (request, reply, next) => {
    done(request as Counted);
    const route = (ROUTE in request ? (request as Counted)[ROUTE] : request.routeOptions.url) ?? 'unmatched';
    const status = reply.statusCode;
    const elapsedMs = reply.elapsedTime;
    metrics.httpRequest(request.method, route, status).observe(elapsedMs / 1000);
    // one line per request: at info when it was slow or refused, else at debug (built only if debug is on)
    const notable = status >= 400 || elapsedMs >= slowMs;
    if (notable || logger.isLevelEnabled('debug')) {
      const fields = { correlationId: request.id, method: request.method, route, status, ms: Math.round(elapsedMs * 10) / 10 };
      if (notable) logger.info(fields, 'request');
      else logger.debug(fields, 'request');
    }
    next();
  });
  // the bench's physical limit: a Fastify route outside Nest and outside the hooks above
  if (config.server.benchBareRoute) await registerRawRoute(fastify);
  const document = SwaggerModule.createDocument(
    app as unknown as INestApplication,
    new DocumentBuilder()
      .setTitle('Customer 360 middleware for Genesys Cloud')
      .setDescription('One consolidated caller view from Salesforce, SAP S/4HANA and ServiceNow, for Genesys data actions, the agent side panel and internal consumers.')
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app as unknown as INestApplication, document, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  return { app, logger };
}
