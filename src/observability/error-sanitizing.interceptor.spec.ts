import { BadRequestException, type CallHandler, type ExecutionContext, InternalServerErrorException, Logger } from '@nestjs/common';
import { firstValueFrom, throwError } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { UpstreamError } from '../upstream/upstream-error.js';
import { ErrorSanitizingInterceptor } from './error-sanitizing.interceptor.js';
import { StatedUnavailableException, StateWhenUnavailable } from './stated-unavailable.exception.js';

class CacheBehind extends Error {}

class Routes {
  @StateWhenUnavailable(CacheBehind, 'Written, but the view is not refreshed yet')
  stated(): void {}

  plain(): void {}
}

function context(handler: () => void): ExecutionContext {
  return {
    getHandler: () => handler,
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ id: 'corr-1', routeOptions: { url: '/x' } }) }),
  } as unknown as ExecutionContext;
}

/** What the interceptor lets through when the handler throws `err` on `handler`'s route. */
async function passed(err: unknown, handler: () => void): Promise<unknown> {
  const next: CallHandler = { handle: () => throwError(() => err) };
  return firstValueFrom(new ErrorSanitizingInterceptor().intercept(context(handler), next)).catch((e: unknown) => e);
}

beforeAll(() => Logger.overrideLogger(false));

describe('ErrorSanitizingInterceptor: the first step of the one error path', () => {
  it('lets our HTTP errors and upstream failures through for the filters to shape', async () => {
    const bad = new BadRequestException('no');
    expect(await passed(bad, Routes.prototype.plain)).toBe(bad);
    const upstream = new UpstreamError('sap', 'timeout', 'timed out');
    expect(await passed(upstream, Routes.prototype.plain)).toBe(upstream);
  });

  it('states a failure the route names in its own words (a 503 with that message)', async () => {
    const stated = await passed(new CacheBehind('redis down'), Routes.prototype.stated);
    expect(stated).toBeInstanceOf(StatedUnavailableException);
    expect((stated as StatedUnavailableException).statement).toBe('Written, but the view is not refreshed yet');
  });

  it('turns anything else into a bare 500, on routes that state nothing or something else', async () => {
    expect(await passed(new CacheBehind('redis down'), Routes.prototype.plain)).toBeInstanceOf(InternalServerErrorException);
    expect(await passed(new TypeError('x is undefined'), Routes.prototype.stated)).toBeInstanceOf(InternalServerErrorException);
  });
});
