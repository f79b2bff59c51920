import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOperation, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { HmacSignatureGuard } from '../auth/hmac-signature.guard.js';
import { InvalidationDeferred } from '../cache/source-cache.js';
import { StatedUnavailableException } from '../observability/stated-unavailable.exception.js';
import { AggregationService } from './aggregation.service.js';
import { ChangeNotificationDto, WebhookSourceParams } from './dto/change-notification.dto.js';

/** Change notifications from the CRMs: the customer's cached profile is dropped on every replica. Throttled per client like every route. */
@ApiTags('webhooks')
@Controller({ path: 'webhooks', version: '1' })
export class WebhooksController {
  constructor(private readonly aggregation: AggregationService) {}

  @Post(':source')
  @HttpCode(202)
  @UseGuards(HmacSignatureGuard)
  @ApiOperation({ summary: 'A CRM says a customer changed; invalidates the cached profile' })
  @ApiHeader({ name: 'x-signature', required: true, description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">' })
  @ApiAcceptedResponse({ description: '{"invalidated":"<customerId>"}' })
  @ApiUnauthorizedResponse({ description: '{"error":"Invalid Signature"}' })
  @ApiServiceUnavailableResponse({ description: 'The cache could not be cleared now (Redis unavailable); retried in the background, and a redelivery is welcome' })
  async notify(@Param() _params: WebhookSourceParams, @Body() body: ChangeNotificationDto): Promise<{ invalidated: string }> {
    try {
      await this.aggregation.invalidate(body.customerId);
    } catch (err) {
      // a 5xx makes the CRM deliver again (newly signed); it is also retried here in the background
      if (err instanceof InvalidationDeferred) throw new StatedUnavailableException('The change could not be applied to the cache yet; it is retried automatically');
      throw err;
    }
    return { invalidated: body.customerId };
  }
}
