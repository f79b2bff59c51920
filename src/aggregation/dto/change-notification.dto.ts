import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { CUSTOMER_NUMBER } from '../../connectors/identifiers.js';

/** What a CRM (outbound message, business event, business rule) sends when a customer changes. */
export class ChangeNotificationDto {
  @ApiProperty({ example: '0010100001', description: 'Enterprise customer number that changed' })
  @IsString()
  @Matches(CUSTOMER_NUMBER, { message: 'customerId must be 1-64 letters, digits, ".", "_" or "-"' })
  customerId: string;

  @ApiPropertyOptional({ example: 'account.updated' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  event?: string;
}
