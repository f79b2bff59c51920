import { IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { Env } from '../config/env.decorator.js';

export class AuthConfig {
  @Env('WEBHOOK_HMAC_SECRET', { doc: 'Key for HMAC-SHA256 signatures on change webhooks (x-signature: t=…,v1=…); unset refuses every webhook', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WEBHOOK_HMAC_SECRET must be at least 16 characters' })
  webhookSecret?: string;

  @Env('WEBHOOK_HMAC_SECRET_PREVIOUS', { doc: 'The previous key, still accepted during a rotation', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WEBHOOK_HMAC_SECRET_PREVIOUS must be at least 16 characters' })
  webhookSecretPrevious?: string;

  @Env('SIGNATURE_TOLERANCE_SECONDS', { doc: 'How old (or early) a signature timestamp may be; also the replay window' })
  @IsInt()
  @Min(5)
  @Max(3600)
  signatureToleranceSeconds = 300;
}
