/**
 * Static Genesys Cloud data the simulator serves. Genesys holds no customer records of ours, so the
 * only "seed" is the public IP-range list (`GET /api/v2/ipranges`) that a service uses to allow
 * Data Action traffic, plus the loopback ranges so sandbox calls from 127.0.0.1 / ::1 are allowed.
 */

export interface GenesysIpRange {
  cidr: string;
  service: string;
  region: string;
  direction: 'inbound' | 'outbound';
}

export const DEFAULT_IP_RANGES: readonly GenesysIpRange[] = Object.freeze([
  { cidr: '52.129.96.0/20', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '169.150.104.0/21', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '167.234.48.0/20', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '2600:1f18:4b8d:6a00::/56', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '3.122.188.0/24', service: 'data-actions', region: 'eu-central-1', direction: 'outbound' },
  { cidr: '52.129.96.0/21', service: 'smtp', region: 'us-east-1', direction: 'outbound' },
  { cidr: '34.231.240.0/24', service: 'audiohook', region: 'us-east-1', direction: 'outbound' },
  { cidr: '52.129.104.0/22', service: 'api', region: 'us-east-1', direction: 'inbound' },
  // sandbox only: the simulators and the service run on loopback
  { cidr: '127.0.0.1/32', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
  { cidr: '::1/128', service: 'data-actions', region: 'us-east-1', direction: 'outbound' },
]);
