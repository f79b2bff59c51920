import { BadRequestException, Body, ConflictException, Controller, HttpCode, NotFoundException, Param, Patch, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';

import { Authenticated } from '../auth/inbound-auth.guard.js';
import { InvalidationDeferred } from '../cache/source-cache.js';
import { BillingWriter } from '../connectors/connector.js';
import { StateWhenUnavailable } from '../observability/stated-unavailable.exception.js';
import { AggregationService } from './aggregation.service.js';
import { Customer360 } from './customer360.schema.js';
import { CustomerIdParams } from './dto/customer-lookup.dto.js';
import { UpdateBillingDto } from './dto/update-billing.dto.js';

const WRITTEN_NOT_REFRESHED = 'The change was written to SAP, but the cached view could not be refreshed yet; it is refreshed automatically, reload shortly';

/**
 * Write-through: billing changes go to SAP (the BillingWriter) first; only when SAP accepted them
 * is the customer's cached profile dropped on every replica, and the fresh view is returned. SAP
 * not answering is a 503 (nothing written); when the cache cannot be cleared (Redis down or
 * stalled) the answer is a 503 saying the change is in SAP.
 */
@ApiTags('customers')
@Controller({ path: 'customers', version: '1' })
export class BillingController {
  constructor(
    private readonly billing: BillingWriter,
    private readonly aggregation: AggregationService,
  ) {}

  @Patch(':customerId/billing')
  @Authenticated('internal', 'customer:write')
  @HttpCode(200)
  // SAP has the change; only the cache is behind (and is brought up to date in the background)
  @StateWhenUnavailable(InvalidationDeferred, WRITTEN_NOT_REFRESHED)
  @ApiOperation({ summary: 'Change billing data in SAP and return the refreshed Customer 360' })
  @ApiOkResponse({ type: Customer360 })
  @ApiBadRequestResponse({ description: 'Invalid fields, or none given' })
  @ApiConflictResponse({ description: 'Changed in SAP by someone else meanwhile; reload and retry' })
  @ApiServiceUnavailableResponse({ description: 'SAP unavailable (nothing written), or written to SAP but the cached view not refreshed yet (the message says which)' })
  async update(@Param() params: CustomerIdParams, @Body() body: UpdateBillingDto): Promise<Customer360> {
    if (body.billingName === undefined && body.paymentTerms === undefined && body.billingBlocked === undefined) {
      throw new BadRequestException({ message: ['give at least one of billingName, paymentTerms, billingBlocked'] });
    }
    if (!this.billing.enabled) throw new ServiceUnavailableException('SAP is disabled');
    const outcome = await this.billing.updateBilling(params.customerId, body, AbortSignal.timeout(5000));
    if (outcome === 'unknown_customer') throw new NotFoundException(`Customer ${params.customerId} is not known to SAP`);
    if (outcome === 'conflict') throw new ConflictException('The customer was changed in SAP meanwhile; reload and retry');
    if (outcome === 'refused') throw new BadRequestException('SAP refused the change');
    await this.aggregation.invalidate(params.customerId);
    return (await this.aggregation.getProfile(params.customerId)).view;
  }
}
