import { type CallHandler, type ExecutionContext, HttpException, Injectable, InternalServerErrorException, Logger, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { catchError, type Observable, throwError } from 'rxjs';

import { isUpstreamError } from '../upstream/upstream-error.js';
import { STATED_UNAVAILABLE, StatedUnavailableException, type UnavailableStatement } from './stated-unavailable.exception.js';

/**
 * The first step of the one error path, where the route is still known: a failure the route
 * states in its own words (@StateWhenUnavailable) becomes that StatedUnavailableException; our
 * deliberate HTTP errors and upstream failures (UpstreamError: the exception filters answer 503)
 * go on as they are; anything else (a library's TypeError, a Redis error, …) becomes a bare 500
 * before it travels further, its detail logged once with the correlation id. The exception
 * filter then has nothing internal left to leak.
 */
@Injectable()
export class ErrorSanitizingInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Unhandled');

  constructor(private readonly reflector: Reflector = new Reflector()) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (err instanceof HttpException || isUpstreamError(err)) return throwError(() => err);
        const stated = this.reflector.get<UnavailableStatement | undefined>(STATED_UNAVAILABLE, context.getHandler());
        if (stated && err instanceof stated.type) return throwError(() => new StatedUnavailableException(stated.statement));
        const request = context.switchToHttp().getRequest<FastifyRequest>();
        this.logger.error({ msg: 'unexpected error in handler', correlationId: request.id, route: request.routeOptions?.url, err });
        return throwError(() => new InternalServerErrorException());
      }),
    );
  }
}
