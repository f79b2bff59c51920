import { Controller, Get, NotFoundException, Param, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';

import { customerAnswer } from '../aggregation/answer.js';
import { CustomerLookupService } from '../aggregation/customer-lookup.service.js';
import { Customer360 } from '../aggregation/customer360.schema.js';
import { Authenticated } from '../auth/inbound-auth.guard.js';
import { ConversationCallerService } from './conversation-caller.service.js';
import { ConversationIdParams } from './dto/conversation.dto.js';

/** The caller of a Genesys conversation as a Customer 360 view: what the side panel needs from {{gcConversationId}} alone. */
@ApiTags('customers')
@Authenticated('internal', 'customer:read')
@Controller({ path: 'conversations', version: '1' })
export class ConversationCustomerController {
  constructor(
    private readonly callers: ConversationCallerService,
    private readonly lookup: CustomerLookupService,
  ) {}

  @Get(':conversationId/customer')
  @ApiOperation({ summary: "Customer 360 of a Genesys Cloud conversation's caller: the customer participant's ANI, looked up by phone" })
  @ApiOkResponse({ type: Customer360 })
  @ApiBadRequestResponse({ description: 'Not a conversation id' })
  @ApiNotFoundResponse({ description: 'Genesys does not know the conversation, the number is withheld, or no customer has it' })
  @ApiServiceUnavailableResponse({ description: 'Genesys or every CRM could not answer (or no Genesys OAuth client is configured)' })
  async byConversation(@Param() params: ConversationIdParams): Promise<Customer360> {
    if (!this.callers.enabled) throw new ServiceUnavailableException();
    // Genesys or the directory not answering (UpstreamError) is a 503 on the one error path
    const caller = await this.callers.callerOf(params.conversationId);
    if (caller.conversation === 'unknown') throw new NotFoundException('Genesys Cloud does not know this conversation');
    if (caller.e164 === undefined) throw new NotFoundException("The caller's number is withheld or not a phone number");
    const result = await this.lookup.byPhone(caller.e164);
    if (!result) throw new NotFoundException("No customer matches the caller's number");
    return customerAnswer(result);
  }
}
