import { AggregationConfig } from '../aggregation/aggregation.config.js';
import { AuthConfig } from '../auth/auth.config.js';
import { IpAllowlistConfig } from '../auth/ip-allowlist/ip-allowlist.config.js';
import { CacheConfig } from '../cache/cache.config.js';
import { SalesforceConfig } from '../connectors/salesforce/salesforce.config.js';
import { SapConfig } from '../connectors/sap/sap.config.js';
import { ServiceNowConfig } from '../connectors/servicenow/servicenow.config.js';
import { GenesysConfig } from '../genesys/genesys.config.js';
import { NotificationsConfig } from '../genesys/notifications/notifications.config.js';
import { GenesysPlatformConfig } from '../genesys/platform/genesys-platform.config.js';
import { TracingConfig } from '../observability/tracing.config.js';
import { ResilienceConfig } from '../resilience/resilience.config.js';
import { RedisConfig } from '../redis/redis.config.js';
import { WidgetConfig } from '../widget/widget.config.js';
import { ServerConfig } from './server.config.js';

/**
 * Every configuration section, keyed by the module that owns it. Each section is a class whose
 * properties are bound to environment variables with `@Env` and validated with class-validator;
 * the loader, the README table and the Helm consistency check all read this one list.
 */
export const CONFIG_SECTIONS = {
  server: ServerConfig,
  redis: RedisConfig,
  cache: CacheConfig,
  auth: AuthConfig,
  aggregation: AggregationConfig,
  resilience: ResilienceConfig,
  salesforce: SalesforceConfig,
  sap: SapConfig,
  servicenow: ServiceNowConfig,
  genesys: GenesysConfig,
  genesysPlatform: GenesysPlatformConfig,
  genesysNotifications: NotificationsConfig,
  ipAllowlist: IpAllowlistConfig,
  widget: WidgetConfig,
  tracing: TracingConfig,
} as const;

export type SectionName = keyof typeof CONFIG_SECTIONS;

export type AppConfig = { readonly [K in SectionName]: InstanceType<(typeof CONFIG_SECTIONS)[K]> };
