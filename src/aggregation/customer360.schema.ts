import { ApiExtraModels, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const SOURCE_STATUSES = ['ok', 'stale', 'timeout', 'rate_limited', 'unavailable', 'not_found', 'disabled'] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

export class SourceState {
  @ApiProperty({ enum: SOURCE_STATUSES, description: 'ok: fresh data; stale: an older copy served because the source failed; the rest: no data from this source' })
  status: SourceStatus;

  @ApiPropertyOptional({ description: 'When the data shown from this source was fetched (ISO 8601)' })
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

@ApiExtraModels(SourceState) // `sources` refers to it by $ref: without this the document names a schema it lacks
export class Customer360 {
  @ApiProperty({ example: '0010100001', description: 'Enterprise customer number (the canonical id)' })
  customerId: string;

  @ApiPropertyOptional({ example: 'Acme Corp', nullable: true, type: String })
  accountName: string | null;

  @ApiPropertyOptional({ example: 'Gold', nullable: true, type: String })
  loyaltyTier: string | null;

  @ApiPropertyOptional({ example: '1250.50', nullable: true, type: String, description: 'Open balance, exact decimal string in the currency\'s minor units' })
  balance: string | null;

  @ApiPropertyOptional({ example: 'USD', nullable: true, type: String, description: 'ISO 4217' })
  currency: string | null;

  @ApiPropertyOptional({ example: 3, nullable: true, type: Number })
  openTickets: number | null;

  @ApiPropertyOptional({ example: '2026-10-12', nullable: true, type: String })
  lastInteractionDate: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  email: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'E.164' })
  phone: string | null;

  @ApiProperty({ type: [String], example: ['salesforce', 'sap', 'servicenow'], description: 'Sources whose data (fresh or stale) is in this view' })
  sourceSystems: string[];

  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/SourceState' }, description: 'Per-source status, keyed by source name' })
  sources: Record<string, SourceState>;

  @ApiProperty({ description: 'True when any enabled source is not ok' })
  degraded: boolean;

  @ApiProperty({ description: 'When this view was assembled (ISO 8601)' })
  lastUpdated: string;
}
