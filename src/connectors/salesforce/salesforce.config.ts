import { IsBoolean, IsInt, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

import { Env } from '../../config/env.decorator.js';
import type { RateLimit } from '../../resilience/resilient.decorator.js';
import type { ConnectorSettings } from '../connector.js';

const SF_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

export class SalesforceConfig implements ConnectorSettings {
  @Env('SALESFORCE_ENABLED', { doc: 'Call Salesforce at all (false marks it "disabled" in every answer)' })
  @IsBoolean()
  enabled = true;

  @Env('SALESFORCE_LOGIN_URL', { doc: 'Your My Domain URL, e.g. https://acme.my.salesforce.com (not login.salesforce.com)' })
  @ValidateIf((c: SalesforceConfig) => c.enabled)
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  loginUrl = '';

  @Env('SALESFORCE_CLIENT_ID', { doc: 'Connected app consumer key (client credentials flow)' })
  @ValidateIf((c: SalesforceConfig) => c.enabled)
  @IsString()
  @MinLength(1)
  clientId = '';

  @Env('SALESFORCE_CLIENT_SECRET', { doc: 'Connected app consumer secret', secret: true })
  @ValidateIf((c: SalesforceConfig) => c.enabled)
  @IsString()
  @MinLength(1)
  clientSecret = '';

  @Env('SALESFORCE_API_VERSION', { doc: 'REST API version' })
  @Matches(/^v\d{2,3}\.0$/)
  apiVersion = 'v66.0';

  @Env('SALESFORCE_CUSTOMER_NUMBER_FIELD', { doc: 'Account field holding the enterprise customer number' })
  @Matches(SF_FIELD)
  customerNumberField = 'Customer_Number__c';

  @Env('SALESFORCE_LOYALTY_TIER_FIELD', { doc: 'Account field holding the loyalty tier' })
  @Matches(SF_FIELD)
  loyaltyTierField = 'Loyalty_Tier__c';

  @Env('SALESFORCE_LAST_INTERACTION_FIELD', { doc: 'Account field holding the last interaction date' })
  @Matches(SF_FIELD)
  lastInteractionField = 'Last_Interaction_Date__c';

  @Env('SALESFORCE_EMAIL_FIELD', { doc: 'Account field searched for e-mail look-ups' })
  @Matches(SF_FIELD)
  emailField = 'Email__c';

  @Env('SALESFORCE_TIMEOUT_MS', { doc: 'Per-call timeout for Salesforce' })
  @IsInt()
  @Min(50)
  @Max(60_000)
  timeoutMs = 700;

  @Env('SALESFORCE_BATCH_MAX_CUSTOMERS', { doc: 'Most customers one Salesforce call carries when look-ups are batched (1 turns batching off); 500 ten-character customer numbers fit SALESFORCE_MAX_URL_BYTES, and one query answer holds up to 2,000 records' })
  @IsInt()
  @Min(1)
  @Max(2000)
  batchMaxCustomers = 500;

  @Env('SALESFORCE_MAX_URL_BYTES', { doc: 'Longest request target sent to Salesforce; a batch is split below it (Salesforce allows 16,384 bytes of URI and headers)' })
  @IsInt()
  @Min(1024)
  @Max(65_536)
  maxUrlBytes = 14000;

  @Env('SALESFORCE_RATE_LIMIT_PER_SEC', { doc: 'Calls per second to Salesforce, shared by all replicas' })
  @IsInt()
  @Min(1)
  @Max(10_000)
  ratePerSec = 5;

  get rateLimit(): RateLimit {
    return { points: this.ratePerSec, windowSec: 1 };
  }
}
