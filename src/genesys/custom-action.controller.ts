import { BadRequestException, Body, Controller, Get, HttpCode, Post, ServiceUnavailableException, UseFilters, UseGuards, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';

import { CustomerLookupService } from '../aggregation/customer-lookup.service.js';
import { DirectoryService } from '../aggregation/directory.service.js';
import { Authenticated } from '../auth/inbound-auth.guard.js';
import { IpAllowlistGuard } from '../auth/ip-allowlist/ip-allowlist.guard.js';
import { GenesysConfig } from '../config/genesys.config.js';
import { toCustomActionResponse } from './custom-action.mapper.js';
import { dataActionDefinition } from './data-action.definition.js';
import { CustomActionRequest, CustomActionResponse } from './dto/custom-action.dto.js';
import { GenesysErrorFilter } from './genesys-error.filter.js';
import { GenesysApiClient } from './platform/genesys-api.client.js';

/** What Genesys Cloud calls while a call rings (a Web Services data action / custom action). */
@ApiTags('genesys')
@Controller({ path: 'genesys/v1', version: VERSION_NEUTRAL })
@UseFilters(GenesysErrorFilter)
@UseGuards(IpAllowlistGuard)
export class CustomActionController {
  constructor(
    private readonly lookup: CustomerLookupService,
    private readonly config: GenesysConfig,
    private readonly genesysApi: GenesysApiClient,
    private readonly directory: DirectoryService,
  ) {}

  @Post('customer-lookup')
  @Authenticated('genesys', 'genesys:action')
  @HttpCode(200)
  @ApiOperation({ summary: 'Genesys custom action: the caller\'s consolidated view by customerId or phone' })
  @ApiOkResponse({ type: CustomActionResponse })
  @ApiBadRequestResponse({ description: '{status:"error", message, details}' })
  @ApiServiceUnavailableResponse({ description: '{status:"error", message:"Service temporarily unavailable"}' })
  async customerLookup(@Body() input: CustomActionRequest): Promise<CustomActionResponse> {
    const hasId = input.customerId !== undefined && input.customerId !== '';
    const hasPhone = input.phone !== undefined && input.phone !== '';
    if (!hasId && !hasPhone) throw new BadRequestException({ message: ['give customerId or phone'] });
    if (input.actionType === 'clickToDial') return this.clickToDial(input.customerId, input.phone);
    // a system that cannot answer (UpstreamError) becomes the flow's 503 in GenesysErrorFilter
    const result = hasId ? await this.lookup.byId(input.customerId as string) : await this.lookup.byPhone(input.phone as string);
    if (result?.verdict === 'unavailable') throw new ServiceUnavailableException();
    return toCustomActionResponse(result);
  }

  /** Places a call through the Genesys Platform API (token refreshed before expiry; 401s retried with 1 s, 2 s, 4 s backoff; then 503). */
  private async clickToDial(customerId: string | undefined, phone: string | undefined): Promise<CustomActionResponse> {
    if (!this.genesysApi.enabled) throw new ServiceUnavailableException();
    let e164 = phone ? this.directory.normalizePhone(phone) : undefined;
    if (phone && !e164) throw new BadRequestException({ message: ['phone must be a valid phone number'] });
    if (!e164 && customerId) e164 = (await this.lookup.byId(customerId)).view.phone ?? undefined;
    if (!e164) throw new BadRequestException({ message: ['no phone number known for that customer'] });
    const { conversationId } = await this.genesysApi.createCall(e164, AbortSignal.timeout(20_000));
    return { status: 'ok', data: { customerView: null, conversationId } };
  }

  @Get('data-action')
  @ApiOperation({ summary: 'The importable Genesys data action definition (JSON), generated from the endpoint\'s DTOs' })
  definition(): Record<string, unknown> {
    return dataActionDefinition(this.config.publicBaseUrl);
  }
}
