import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

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
