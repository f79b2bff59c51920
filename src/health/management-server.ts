import { createServer, type Server, type ServerResponse } from 'node:http';

import { HttpException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { Metrics } from '../observability/metrics.js';
import { HealthController } from './health.controller.js';

function json(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(head ? undefined : JSON.stringify(body));
}

/**
 * A second listener for probes and metrics (MANAGEMENT_PORT), so they can be kept off the
 * Genesys-facing port and ingress. It calls the same health controller and metrics registry as
 * the main port, directly rather than through the HTTP stack, so it keeps answering while the
 * main port drains and closes: readiness can be seen at 503 until the process exits.
 */
export async function startManagementServer(app: NestFastifyApplication, port: number, host: string): Promise<Server> {
  const health = app.get(HealthController);
  const metrics = app.get(Metrics);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return json(res, 405, { statusCode: 405, error: 'Method Not Allowed', message: 'GET or HEAD only' }, false);
    switch (path) {
      case '/health/live':
        return json(res, 200, health.live(), head);
      case '/health/ready':
        health.ready().then(
          (result) => json(res, 200, result, head),
          (err: unknown) => (err instanceof HttpException ? json(res, err.getStatus(), err.getResponse(), head) : json(res, 503, { status: 'error' }, head)),
        );
        return;
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
            res.end(head ? undefined : text);
          },
          () => json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: 'Metrics unavailable' }, head),
        );
        return;
      default:
        return json(res, 404, { statusCode: 404, error: 'Not Found', message: 'Only /health/live, /health/ready and /metrics are served here' }, head);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
