import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { HmacSignatureGuard } from '../auth/hmac-signature.guard.js';
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
  async notify(@Param() _params: WebhookSourceParams, @Body() body: ChangeNotificationDto): Promise<{ invalidated: string }> {
    await this.aggregation.invalidate(body.customerId);
    return { invalidated: body.customerId };
  }
}
