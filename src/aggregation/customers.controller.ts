import { BadRequestException, Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';

import { Authenticated } from '../auth/inbound-auth.guard.js';
import { customerAnswer } from './answer.js';
import { CustomerLookupService } from './customer-lookup.service.js';
import { Customer360, SourceState } from './customer360.schema.js';
import { CustomerIdParams, CustomerSearchQuery } from './dto/customer-lookup.dto.js';

/** The internal REST API: one consolidated customer view. */
@ApiTags('customers')
// Customer360.sources refers to SourceState by $ref (a map), which the document only holds when registered
@ApiExtraModels(SourceState)
@Authenticated('internal', 'customer:read')
@Controller({ path: 'customers', version: '1' })
export class CustomersController {
  constructor(private readonly lookup: CustomerLookupService) {}

  @Get(':customerId')
  @ApiOperation({ summary: 'Customer 360 by enterprise customer number' })
  @ApiOkResponse({ type: Customer360 })
  @ApiBadRequestResponse({ description: 'Invalid customer number' })
  @ApiNotFoundResponse({ description: 'No system knows this customer' })
  @ApiServiceUnavailableResponse({ description: 'No system could answer in time' })
  async byId(@Param() params: CustomerIdParams): Promise<Customer360> {
    return customerAnswer(await this.lookup.byId(params.customerId));
  }

  @Get()
  @ApiOperation({ summary: 'Customer 360 by phone (any notation) or e-mail; the best match, with other matching customer numbers in the X-Other-Matches header' })
  @ApiOkResponse({ type: Customer360 })
  @ApiBadRequestResponse({ description: 'Neither or both of phone and email, or an invalid value' })
  @ApiNotFoundResponse({ description: 'No customer with that phone or e-mail' })
  @ApiServiceUnavailableResponse({ description: 'The directory (or every CRM) could not answer' })
  async search(@Query() query: CustomerSearchQuery): Promise<Customer360> {
    if ((query.phone === undefined) === (query.email === undefined)) {
      throw new BadRequestException({ message: ['give exactly one of phone or email'] });
    }
    // a directory that cannot answer (UpstreamError) is a 503 on the one error path
    const result = query.phone !== undefined ? await this.lookup.byPhone(query.phone) : await this.lookup.byEmail(query.email as string);
    if (!result) throw new NotFoundException('No customer matches that ' + (query.phone !== undefined ? 'phone number' : 'e-mail address'));
    return customerAnswer(result);
  }
}
