import { AggregationConfig } from './aggregation/aggregation.config.js';
import { AuthConfig } from './auth/auth.config.js';
import { IpAllowlistConfig } from './auth/ip-allowlist/ip-allowlist.config.js';
import { CacheConfig } from './cache/cache.config.js';
import { GenesysConfig } from './config/genesys.config.js';
import { bindingsOf, type ConfigOf, type Environment, type FileReader, loadSections, readFileUtf8 } from './config/load-config.js';
import { processEnv } from './config/process-env.js';
import { ServerConfig } from './config/server.config.js';
import type { ConnectorRegistration } from './connectors/connector-registration.js';
import { CONNECTOR_REGISTRY } from './connectors/connector-registry.js';
import { NotificationsConfig } from './genesys/notifications/notifications.config.js';
import { GenesysPlatformConfig } from './genesys/platform/genesys-platform.config.js';
import { TracingConfig } from './observability/tracing.config.js';
import { RedisConfig } from './redis/redis.config.js';
import { ResilienceConfig } from './resilience/resilience.config.js';
import { WidgetConfig } from './widget/widget.config.js';

/**
 * The configuration registry: every section, keyed by the module that owns it. Each section is a
 * class whose properties are bound to environment variables with `@Env` and validated with
 * class-validator; the loader, the README table and the Helm consistency check all read this.
 * Each registered system's section comes from its registration (CONNECTOR_REGISTRY).
 */
const BEFORE_CONNECTORS = { server: ServerConfig, redis: RedisConfig, cache: CacheConfig, auth: AuthConfig, aggregation: AggregationConfig, resilience: ResilienceConfig } as const;
const AFTER_CONNECTORS = { genesys: GenesysConfig, genesysPlatform: GenesysPlatformConfig, genesysNotifications: NotificationsConfig, ipAllowlist: IpAllowlistConfig, widget: WidgetConfig, tracing: TracingConfig } as const;

type Registry = typeof CONNECTOR_REGISTRY;
type ConnectorSections = { readonly [R in Registry[number] as R['source']]: R['config'] };

/** The sections of a service running `connectors` (by default the registered systems). */
export function configSections(connectors: readonly ConnectorRegistration[] = CONNECTOR_REGISTRY): typeof BEFORE_CONNECTORS & ConnectorSections & typeof AFTER_CONNECTORS {
  const own = Object.fromEntries(connectors.map((c) => [c.source, c.config]));
  const clash = connectors.find((c) => c.source in BEFORE_CONNECTORS || c.source in AFTER_CONNECTORS);
  if (clash) throw new Error(`a system may not be named "${clash.source}": that is a configuration section`);
  return { ...BEFORE_CONNECTORS, ...own, ...AFTER_CONNECTORS } as typeof BEFORE_CONNECTORS & ConnectorSections & typeof AFTER_CONNECTORS;
}

export const CONFIG_SECTIONS = configSections();

export type AppConfig = ConfigOf<typeof CONFIG_SECTIONS>;

/**
 * Builds and validates the whole configuration from an environment. Throws a ConfigError whose
 * message names every bad variable and what is expected (never a secret's value).
 */
export function loadConfig(env: Environment, readFile: FileReader = readFileUtf8, connectors: readonly ConnectorRegistration[] = CONNECTOR_REGISTRY): AppConfig {
  return loadSections(configSections(connectors), env, readFile, (config) => [...crossSectionProblems(config), ...productionProblems(config)]);
}

/** The configuration of this process (`process.env`, and `*_FILE` secrets read from their files). */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(processEnv());
}

/** Every variable the service understands (with `connectors`' settings), for docs and consistency checks. */
export function allBindings(connectors: readonly ConnectorRegistration[] = CONNECTOR_REGISTRY) {
  return bindingsOf(configSections(connectors));
}

/** Settings of different sections that only make sense together. */
function crossSectionProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  const agents = config.auth.internalAuth.includes('genesys-agent');
  if (agents && !config.genesys.orgId) problems.push('INTERNAL_AUTH genesys-agent needs GENESYS_ORG_ID (the organization whose agents are accepted)');
  if (config.genesys.agentOauthClientId && !agents) problems.push('WIDGET_OAUTH_CLIENT_ID needs genesys-agent in INTERNAL_AUTH (the service must accept the tokens the side panel signs in with)');
  if (config.auth.jwtTtlSeconds > config.auth.jwtMaxLifetimeSeconds) {
    problems.push(`JWT_TTL_SECONDS (${config.auth.jwtTtlSeconds}) must not exceed JWT_MAX_LIFETIME_SECONDS (${config.auth.jwtMaxLifetimeSeconds}): the service would refuse its own tokens`);
  }
  return problems;
}

/** Settings that are fine in a sandbox but never in production. */
function productionProblems(config: AppConfig): string[] {
  if (config.server.mode !== 'production') return [];
  const problems: string[] = [];
  if (config.auth.genesysAuth.includes('none')) problems.push('GENESYS_AUTH must not include none when NODE_ENV=production');
  if (config.auth.internalAuth.includes('none')) problems.push('INTERNAL_AUTH must not be none when NODE_ENV=production');
  if (!config.auth.jwtSigningKey && config.auth.tokenClientId) problems.push('JWT_SIGNING_KEY is required when NODE_ENV=production and TOKEN_CLIENT_ID is set');
  return problems;
}
