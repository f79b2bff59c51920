import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, Matches } from 'class-validator';

export class UpdateBillingDto {
  @ApiPropertyOptional({ description: 'Billing name (SAP CustomerFullName)', example: 'Acme Corporation Ltd', maxLength: 80 })
  @IsOptional()
  @IsString()
  @Length(1, 80, { message: 'billingName must be 1 to 80 characters' })
  billingName?: string;

  @ApiPropertyOptional({ description: 'SAP payment terms key (4 characters)', example: 'NT30' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z0-9]{4}$/, { message: 'paymentTerms must be 4 upper-case letters or digits' })
  paymentTerms?: string;

  @ApiPropertyOptional({ description: 'Block billing for this customer' })
  @IsOptional()
  @IsBoolean({ message: 'billingBlocked must be true or false' })
  billingBlocked?: boolean;
}
