import { BadRequestException, Body, Controller, HttpCode, Inject, Injectable, Param, type PipeTransform,Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOperation, ApiParam, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';

import { HmacSignatureGuard } from '../auth/hmac-signature.guard.js';
import { InvalidationDeferred } from '../cache/source-cache.js';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
import { CONNECTOR_REGISTRY, sourcesOf } from '../connectors/connector-registry.js';
import { StateWhenUnavailable } from '../observability/stated-unavailable.exception.js';
import { AggregationService } from './aggregation.service.js';
import { ChangeNotificationDto } from './dto/change-notification.dto.js';

/** `:source` must name a registered system (the registry the service runs with, not a list kept here). */
@Injectable()
export class RegisteredSource implements PipeTransform<string, string> {
  private readonly sources: string[];

  constructor(@Inject(CONNECTORS) connectors: CustomerConnector[]) {
    this.sources = connectors.map((c) => c.source);
  }

  transform(source: string): string {
    if (!this.sources.includes(source)) throw new BadRequestException({ message: [`source must be one of: ${this.sources.join(', ')}`] });
    return source;
  }
}

/** Change notifications from the CRMs: the customer's cached profile is dropped on every replica. Throttled per client like every route. */
@ApiTags('webhooks')
@Controller({ path: 'webhooks', version: '1' })
export class WebhooksController {
  constructor(private readonly aggregation: AggregationService) {}

  @Post(':source')
  @HttpCode(202)
  @UseGuards(HmacSignatureGuard)
  // a 5xx makes the CRM deliver again (newly signed); it is also retried here in the background
  @StateWhenUnavailable(InvalidationDeferred, 'The change could not be applied to the cache yet; it is retried automatically')
  @ApiOperation({ summary: 'A CRM says a customer changed; invalidates the cached profile' })
  @ApiParam({ name: 'source', enum: sourcesOf(CONNECTOR_REGISTRY) })
  @ApiHeader({ name: 'x-signature', required: true, description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">' })
  @ApiAcceptedResponse({ description: '{"invalidated":"<customerId>"}' })
  @ApiUnauthorizedResponse({ description: '{"error":"Invalid Signature"}' })
  @ApiServiceUnavailableResponse({ description: 'The cache could not be cleared now (Redis unavailable); retried in the background, and a redelivery is welcome' })
  async notify(@Param('source', RegisteredSource) _source: string, @Body() body: ChangeNotificationDto): Promise<{ invalidated: string }> {
    await this.aggregation.invalidate(body.customerId);
    return { invalidated: body.customerId };
  }
}
