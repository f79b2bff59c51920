import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class ConversationIdParams {
  @ApiProperty({ example: '5b1f3c2e-8a4d-4e61-9b7a-2f0c1d3e4a01', description: 'Genesys Cloud conversation id (the Interaction Widget\'s {{gcConversationId}})' })
  @IsUUID('all', { message: 'conversationId must be a Genesys conversation id (a UUID)' })
  conversationId: string;
}
