import { HttpException, Injectable, InternalServerErrorException, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { catchError, type Observable, throwError } from 'rxjs';

/**
 * Turns anything a handler throws that is not one of our deliberate HTTP errors (a library's
 * TypeError, an axios or Redis error, …) into a bare 500 before it travels further, logging the
 * detail once with the correlation id. The exception filter then has nothing internal left to leak.
 */
@Injectable()
export class ErrorSanitizingInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Unhandled');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (err instanceof HttpException) return throwError(() => err);
        const request = context.switchToHttp().getRequest<FastifyRequest>();
        this.logger.error({ msg: 'unexpected error in handler', correlationId: request.id, route: request.routeOptions?.url, err });
        return throwError(() => new InternalServerErrorException());
      }),
    );
  }
}
