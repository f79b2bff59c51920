import { ArrayMaxSize, IsInt, IsString, Max, Min, Validate, ValidateIf, type ValidationArguments, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';

import { Env } from '../../config/env.decorator.js';
import { isCidr } from './cidr.js';

/** A list whose every entry is an IPv4 or IPv6 network (`10.0.0.0/8`, `2001:db8::/32`, or one address). */
@ValidatorConstraint({ name: 'isCidrList' })
export class IsCidrList implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Array.isArray(value) && value.every((v) => typeof v === 'string' && isCidr(v));
  }

  defaultMessage(args: ValidationArguments): string {
    const bad = Array.isArray(args.value) ? args.value.find((v) => typeof v !== 'string' || !isCidr(v)) : args.value;
    return `$property must be comma-separated CIDRs such as 10.0.0.0/8 or 2001:db8::/32; not a CIDR: "${String(bad).slice(0, 60)}"`;
  }
}

export class IpAllowlistConfig {
  @Env('GENESYS_ALLOWED_CIDRS', { doc: 'Networks (IPv4/IPv6 CIDRs, comma-separated) allowed to call the Genesys-facing endpoints; empty and no IP-range refresh = no IP allowlist', type: 'list' })
  @Validate(IsCidrList)
  @ArrayMaxSize(1000)
  allowedCidrs: string[] = [];

  @Env('GENESYS_IPRANGES_REFRESH_MS', { doc: 'How often to fetch Genesys /api/v2/ipranges and allow its ranges (e.g. 3600000); 0 = never. Turns the IP allowlist on' })
  @ValidateIf((c: IpAllowlistConfig) => c.iprangesRefreshMs !== 0)
  @IsInt()
  @Min(10_000, { message: '$property must be 0 (off) or at least 10000' })
  @Max(7 * 86_400_000)
  iprangesRefreshMs = 0;

  @Env('GENESYS_IPRANGES_SERVICES', { doc: 'Which /api/v2/ipranges services to allow (comma-separated)', type: 'list' })
  @IsString({ each: true })
  iprangesServices: string[] = ['data-actions'];

  @Env('TRUSTED_PROXY_CIDRS', { doc: 'Proxies/load balancers (CIDRs) whose X-Forwarded-For is believed; empty = trust none, the socket address is the client', type: 'list' })
  @Validate(IsCidrList)
  @ArrayMaxSize(1000)
  trustedProxyCidrs: string[] = [];

  /** The allowlist applies when networks are configured or Genesys's ranges are fetched. */
  get enabled(): boolean {
    return this.allowedCidrs.length > 0 || this.iprangesRefreshMs > 0;
  }
}
