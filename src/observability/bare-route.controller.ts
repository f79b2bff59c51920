import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';

export const BARE_ROUTE = '/__bench/bare';
export const RAW_ROUTE = '/__bench/raw';

/**
 * `GET /__bench/bare`: a route that does no work, registered only with BENCH_BARE_ROUTE=true.
 * It passes the same global guard (the inbound throttle), pipes, interceptors and hooks as every
 * other route, so `npm run bench` can state the custom action's throughput as a share of what
 * this app serves when a handler costs nothing.
 */
@ApiExcludeController()
@Controller({ path: '__bench', version: VERSION_NEUTRAL })
export class BareRouteController {
  @Get('bare')
  bare(): Record<string, never> {
    return {};
  }
}

/**
 * `GET /__bench/raw` (also only with BENCH_BARE_ROUTE=true): a plain Fastify route beside Nest —
 * no guard, pipe, interceptor or filter, and none of the application's Fastify hooks (security
 * headers, correlation id, trace context, metrics, request log) — the physical limit of this
 * process, against which the bench states both the bare route and the real ones.
 *
 * Fastify gives every route the hooks of its context and the contexts above it, including hooks
 * added later; there is no public way to opt a route out. So the route lives in a context of its
 * own whose per-request hook lists are emptied, and kept empty when the parent adds more. That reaches into
 * Fastify's internals (the `fastify.hooks` symbol); should they change, the route still answers,
 * with the hooks, and the integration test that checks it carries no correlation id says so.
 */
export async function registerRawRoute(fastify: FastifyInstance): Promise<void> {
  await fastify.register((raw: FastifyInstance, _options: unknown, done: (err?: Error) => void) => {
    withoutInheritedHooks(raw);
    raw.get(RAW_ROUTE, (_request, reply) => {
      void reply.send({});
    });
    done();
  });
}

/** The hooks Fastify runs per request (its application hooks — onReady, onRoute, … — are left alone). */
const REQUEST_HOOKS = ['onRequest', 'preParsing', 'preValidation', 'preHandler', 'preSerialization', 'onSend', 'onResponse', 'onError', 'onTimeout', 'onRequestAbort'];

type HookTable = Record<string, unknown[]> & { add(name: string, fn: unknown): void };

function withoutInheritedHooks(instance: FastifyInstance): void {
  const key = Object.getOwnPropertySymbols(instance).find((s) => s.description === 'fastify.hooks');
  if (key === undefined) return;
  const table = (instance as unknown as Record<symbol, HookTable>)[key];
  const add = table.add.bind(table);
  for (const name of REQUEST_HOOKS) if (Array.isArray(table[name])) table[name] = [];
  // the parent's hooks reach a child context when added, also later: these are ignored here
  table.add = (name, fn) => {
    if (!REQUEST_HOOKS.includes(name)) add(name, fn);
  };
}
