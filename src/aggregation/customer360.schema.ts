import { ApiExtraModels, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const SOURCE_STATUSES = ['ok', 'stale', 'timeout', 'rate_limited', 'unavailable', 'not_found', 'disabled'] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

export class SourceState {
  @ApiProperty({
    enum: SOURCE_STATUSES,
    description:
      'ok: fresh data; stale: an older copy served because the source failed now (with ageMs and reason); not_found: the source does not know the customer (when reason is set, that was its last answer, ageMs old, and it failed now); timeout, rate_limited, unavailable: no data from this source (reason says why); disabled: not configured',
  })
  status: SourceStatus;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-11-20T14:03:11.000Z', description: 'When the data shown from this source was fetched: an ISO 8601 instant in UTC' })
  fetchedAt?: string;

  @ApiPropertyOptional({ description: 'Age of stale data in ms' })
  ageMs?: number;

  @ApiPropertyOptional({ description: 'Time this request spent waiting for the source, in ms (0 when served from cache)' })
  latencyMs?: number;

  @ApiPropertyOptional({ enum: ['hit', 'miss', 'wait'], description: 'hit: from the cache; miss: called the source; wait: another replica was calling, its result was used' })
  cache?: 'hit' | 'miss' | 'wait';

  @ApiPropertyOptional({ description: 'Why the source gave no fresh data: timeout, rate_limited, unavailable, auth, bad_response, circuit_open' })
  reason?: string;
}

/** One currency's part of the open balance. */
export class Balance {
  @ApiProperty({ example: '1250.50', description: "Exact decimal string in the currency's minor units (never \"-0.00\")" })
  amount: string;

  @ApiProperty({ example: 'USD', description: 'ISO 4217' })
  currency: string;
}

@ApiExtraModels(SourceState) // `sources` refers to it by $ref: without this the document names a schema it lacks
export class Customer360 {
  @ApiProperty({ example: '0010100001', description: 'Enterprise customer number (the canonical id)' })
  customerId: string;

  @ApiPropertyOptional({ example: 'Acme Corp', nullable: true, type: String })
  accountName: string | null;

  @ApiPropertyOptional({ example: 'Gold', nullable: true, type: String })
  loyaltyTier: string | null;

  @ApiPropertyOptional({
    example: '1250.50',
    nullable: true,
    type: String,
    description: 'The open balance when it is one amount: exact decimal string in the currency\'s minor units; "0" when nothing is open; null when the open items are in several currencies (see balances) or SAP gave no data',
  })
  balance: string | null;

  @ApiPropertyOptional({ example: 'USD', nullable: true, type: String, description: 'ISO 4217 currency of balance; null when nothing is open, when there are several currencies, or SAP gave no data' })
  currency: string | null;

  @ApiPropertyOptional({
    type: [Balance],
    nullable: true,
    example: [{ amount: '1150.25', currency: 'EUR' }, { amount: '80.01', currency: 'USD' }],
    description: 'The open balance, one exact amount per currency of the open items, ordered by currency code ([] when nothing is open; null when SAP gave no data)',
  })
  balances: Balance[] | null;

  @ApiPropertyOptional({ example: 3, nullable: true, type: Number })
  openTickets: number | null;

  @ApiPropertyOptional({ example: '2026-10-12', nullable: true, type: String, format: 'date', description: 'ISO 8601 calendar date (YYYY-MM-DD) of the last recorded interaction' })
  lastInteractionDate: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  email: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'E.164' })
  phone: string | null;

  @ApiProperty({ type: [String], example: ['salesforce', 'sap', 'servicenow'], description: 'Sources whose data (fresh or stale) is in this view' })
  sourceSystems: string[];

  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/SourceState' }, description: 'Per-source status, keyed by source name' })
  sources: Record<string, SourceState>;

  @ApiProperty({ description: 'True when any source could not give a current answer in this request (it has a reason); a source that does not know the customer is not a degradation' })
  degraded: boolean;

  @ApiProperty({ format: 'date-time', example: '2026-11-20T14:03:11.000Z', description: 'When this view was assembled: an ISO 8601 instant in UTC' })
  lastUpdated: string;
}
