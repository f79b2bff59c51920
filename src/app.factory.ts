import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { BadRequestException, ValidationPipe, VersioningType, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ValidationError } from 'class-validator';
import type { DestinationStream, Logger } from 'pino';
import helmet from '@fastify/helmet';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { AllExceptionsFilter } from './observability/all-exceptions.filter.js';
import { ErrorSanitizingInterceptor } from './observability/error-sanitizing.interceptor.js';
import { correlationIdFrom } from './observability/correlation.js';
import { createLogger, PinoNestLogger } from './observability/logger.js';

export interface CreateAppOptions {
  /** Where log lines go (tests capture them to prove secrets never appear). */
  logDestination?: DestinationStream;
}

export interface App {
  app: NestFastifyApplication;
  logger: Logger;
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => [
    ...Object.values(e.constraints ?? {}).map((m) => (prefix ? `${prefix}.${m}` : m)),
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
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    rawBody: true,
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
  });
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"], // Swagger UI
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
      },
    },
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });
  app.enableShutdownHooks();
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  app.useGlobalPipes(
    new ValidationPipe({
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
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-correlation-id', request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    logger.info({ correlationId: request.id, method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });
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
