import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { CUSTOMER_NUMBER } from '../../connectors/identifiers.js';

export const ACTION_TYPES = ['customerLookup', 'clickToDial'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/**
 * The custom action's input. Genesys requires a flat object of primitives (no nesting, no $ref,
 * names starting with a letter, none of orgId/integrationId/rawRequest), and the data action
 * definition's input contract is generated from this class.
 */
export class CustomActionRequest {
  @ApiPropertyOptional({ description: 'Enterprise customer number, if the flow knows it', example: '0010100001' })
  @IsOptional()
  @IsString()
  @Matches(CUSTOMER_NUMBER, { message: 'customerId must be 1-64 letters, digits, ".", "_" or "-"' })
  customerId?: string;

  @ApiPropertyOptional({ description: "Caller's phone number (ANI), any notation", example: '+14155550100' })
  @IsOptional()
  @IsString()
  @MaxLength(32, { message: 'phone must be at most 32 characters' })
  phone?: string;

  @ApiProperty({ description: 'customerLookup: the caller\'s view; clickToDial: place a call to phone (or the customer\'s phone) through Genesys', enum: ACTION_TYPES, default: 'customerLookup' })
  @IsOptional()
  @IsIn(ACTION_TYPES, { message: `actionType must be one of: ${ACTION_TYPES.join(', ')}` })
  actionType?: ActionType;
}

/** The flat view a Genesys flow or script reads (the data action's output contract is generated from it). */
export class CustomerView {
  @ApiProperty({ description: 'Enterprise customer number' })
  customerId: string;

  @ApiProperty({ description: 'Account name', nullable: true, type: String })
  name: string | null;

  @ApiProperty({ description: 'Loyalty tier', nullable: true, type: String })
  loyaltyTier: string | null;

  @ApiProperty({ description: 'Open balance as an exact decimal string when it is in one currency ("0" when nothing is open); empty when it is in several (see balanceSummary)', nullable: true, type: String })
  balance: string | null;

  @ApiProperty({ description: 'ISO 4217 currency of the balance (one currency only)', nullable: true, type: String })
  currency: string | null;

  @ApiProperty({ description: 'The open balance to show or read out, one "amount CODE" per currency, e.g. "1,150.25 EUR; 80.01 USD" ("0" when nothing is open)', nullable: true, type: String })
  balanceSummary: string | null;

  @ApiProperty({ description: 'Currencies the open balance is in: 0 nothing open, 1 see balance and currency, 2 or more see balanceSummary', nullable: true, type: 'integer' })
  balanceCurrencies: number | null;

  @ApiProperty({ description: 'Open (active) tickets', nullable: true, type: 'integer' })
  openTickets: number | null;

  @ApiProperty({ description: 'Date of the last recorded interaction: ISO 8601 calendar date (YYYY-MM-DD)', nullable: true, type: String, format: 'date' })
  lastInteractionDate: string | null;

  @ApiProperty({ description: 'Comma-separated sources that did not answer fresh (empty when all did)' })
  degradedSources: string;

  @ApiProperty({ description: 'True when any source is stale or missing' })
  isDegraded: boolean;
}

export class CustomActionData {
  @ApiProperty({ type: CustomerView, nullable: true })
  customerView: CustomerView | null;

  @ApiPropertyOptional({ description: 'clickToDial: the Genesys conversation that was created' })
  conversationId?: string;
}

export class CustomActionResponse {
  @ApiProperty({ enum: ['ok', 'degraded', 'not_found'], description: 'ok: all sources fresh; degraded: some data stale or missing; not_found: no system knows the caller' })
  status: 'ok' | 'degraded' | 'not_found';

  @ApiProperty({ type: CustomActionData })
  data: CustomActionData;
}
