import { ApiProperty,ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { CUSTOMER_NUMBER } from '../../connectors/identifiers.js';

export class CustomerIdParams {
  @ApiProperty({ example: '0010100001', description: 'Enterprise customer number' })
  @IsString()
  @Matches(CUSTOMER_NUMBER, { message: 'customerId must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  customerId: string;
}

export class CustomerSearchQuery {
  @ApiPropertyOptional({ example: '+14155550100', description: 'Phone number, E.164 or national notation (normalized with DEFAULT_PHONE_REGION)' })
  @IsOptional()
  @IsString()
  @MaxLength(32, { message: 'phone must be at most 32 characters' })
  phone?: string;

  @ApiPropertyOptional({ example: 'contact1@acmecorp.example.com' })
  @IsOptional()
  @IsString()
  @MaxLength(254, { message: 'email must be at most 254 characters' })
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  email?: string;
}
