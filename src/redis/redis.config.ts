import { IsBoolean, IsOptional, IsString, Matches, Validate, type ValidationArguments, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';

import { Env } from '../config/env.decorator.js';

/** `host:port` (a name, an IPv4 address or a bracketed IPv6 address). */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (RSA |EC )?PRIVATE KEY-----/;

type Topology = 'single' | 'sentinel' | 'cluster';

/** The topologies the settings name (more than one is a configuration error). */
function topologiesOf(c: RedisConfig): Topology[] {
  const named: Topology[] = [];
  if (c.url !== undefined) named.push('single');
  if (c.sentinels.length > 0) named.push('sentinel');
  if (c.clusterNodes.length > 0) named.push('cluster');
  return named;
}

function urlCredentials(url: string | undefined): { username: string; password: string } {
  if (!url) return { username: '', password: '' };
  try {
    const parsed = new URL(url);
    return { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  } catch {
    return { username: '', password: '' };
  }
}

/**
 * The rules that tie the Redis settings together, each reported against the setting that breaks
 * it: exactly one topology, the settings that only mean something with another, TLS files only
 * with TLS, a certificate only with its key.
 */
@ValidatorConstraint({ name: 'redisSettings' })
class RedisSettingsRule implements ValidatorConstraintInterface {
  validate(_value: unknown, args: ValidationArguments): boolean {
    return problemOf(args.property as keyof RedisConfig, args.object as RedisConfig) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return problemOf(args.property as keyof RedisConfig, args.object as RedisConfig) ?? '';
  }
}

function problemOf(property: keyof RedisConfig, c: RedisConfig): string | undefined {
  const topologies = topologiesOf(c);
  const none = topologies.length === 0;
  const needsTopology = (name: string) => (none ? `${name} needs a Redis to apply to: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES` : undefined);
  const tls = c.url?.startsWith('rediss://') || c.tls;
  switch (property) {
    case 'sentinels':
      if (c.sentinels.length === 0) return undefined;
      if (c.url !== undefined) return 'set exactly one Redis topology: REDIS_URL (one server) or REDIS_SENTINELS (Sentinel), not both';
      if (!c.sentinelMaster) return 'REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the name the Sentinels monitor the primary under)';
      return undefined;
    case 'clusterNodes':
      if (c.clusterNodes.length === 0) return undefined;
      if (topologies.length > 1) return `set exactly one Redis topology: REDIS_CLUSTER_NODES (Cluster) cannot be combined with ${c.url !== undefined ? 'REDIS_URL' : 'REDIS_SENTINELS'}`;
      return undefined;
    case 'sentinelMaster':
    case 'sentinelUsername':
    case 'sentinelPassword':
      return c.sentinels.length === 0 ? `${envName(property)} only applies with REDIS_SENTINELS` : undefined;
    case 'username':
    case 'password': {
      const inUrl = urlCredentials(c.url)[property === 'username' ? 'username' : 'password'];
      if (inUrl) return `${envName(property)} is also given in REDIS_URL: set it in one place`;
      return needsTopology(envName(property));
    }
    case 'tls':
      if (c.tls && c.url?.startsWith('redis://')) return 'REDIS_TLS is on but REDIS_URL says redis://: use a rediss:// URL for TLS';
      return c.tls ? needsTopology('REDIS_TLS') : undefined;
    case 'tlsCa':
      if (!CERTIFICATE.test(c.tlsCa ?? '')) return 'REDIS_TLS_CA must hold PEM certificates (-----BEGIN CERTIFICATE-----)';
      return tls ? undefined : 'REDIS_TLS_CA only applies with TLS: a rediss:// REDIS_URL, or REDIS_TLS=true';
    case 'tlsCert':
      if (!CERTIFICATE.test(c.tlsCert ?? '')) return 'REDIS_TLS_CERT must hold a PEM certificate (-----BEGIN CERTIFICATE-----)';
      if (!c.tlsKey) return 'REDIS_TLS_CERT needs REDIS_TLS_KEY (the client certificate and its key go together)';
      return tls ? undefined : 'REDIS_TLS_CERT only applies with TLS: a rediss:// REDIS_URL, or REDIS_TLS=true';
    case 'tlsKey':
      if (!PRIVATE_KEY.test(c.tlsKey ?? '')) return 'REDIS_TLS_KEY must hold an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)';
      if (!c.tlsCert) return 'REDIS_TLS_KEY needs REDIS_TLS_CERT (the client certificate and its key go together)';
      return undefined;
    default:
      return undefined;
  }
}

const NAMES: Partial<Record<keyof RedisConfig, string>> = {
  sentinelMaster: 'REDIS_SENTINEL_MASTER',
  sentinelUsername: 'REDIS_SENTINEL_USERNAME',
  sentinelPassword: 'REDIS_SENTINEL_PASSWORD',
  username: 'REDIS_USERNAME',
  password: 'REDIS_PASSWORD',
};
const envName = (property: keyof RedisConfig) => NAMES[property] ?? property;

/**
 * Where the shared Redis is and how to reach it. Exactly one topology, or none (each process then
 * caches and counts on its own):
 * - one server: `REDIS_URL` (`redis://` or `rediss://` for TLS, user and password in it or apart);
 * - Sentinel: `REDIS_SENTINELS` and `REDIS_SENTINEL_MASTER`;
 * - Cluster: `REDIS_CLUSTER_NODES` (any of the nodes, or a managed service's configuration endpoint).
 * TLS (`rediss://` or `REDIS_TLS`) takes a CA to trust and, for mutual TLS, a client certificate
 * and key, each usually given as a mounted file (`REDIS_TLS_CA_FILE`, …).
 */
export class RedisConfig {
  @Env('REDIS_URL', { doc: 'One Redis server: redis://[user:password@]host:6379/0, or rediss:// for TLS; unset (and no Sentinel or Cluster) = in-memory cache, one process only', secret: true })
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: '$property must be a redis:// or rediss:// URL' })
  url?: string;

  @Env('REDIS_SENTINELS', { doc: 'Redis Sentinel: the Sentinels as host:port,host:port,… (with REDIS_SENTINEL_MASTER)', type: 'list' })
  @Matches(HOST_PORT, { each: true, message: '$property must be a list of host:port' })
  @Validate(RedisSettingsRule)
  sentinels: string[] = [];

  @Env('REDIS_SENTINEL_MASTER', { doc: 'The name the Sentinels monitor the primary under (sentinel monitor <name> …)' })
  @IsOptional()
  @IsString()
  @Validate(RedisSettingsRule)
  sentinelMaster?: string;

  @Env('REDIS_SENTINEL_USERNAME', { doc: 'User for the Sentinels themselves, when they require one (the data nodes take REDIS_USERNAME)' })
  @IsOptional()
  @IsString()
  @Validate(RedisSettingsRule)
  sentinelUsername?: string;

  @Env('REDIS_SENTINEL_PASSWORD', { doc: 'Password for the Sentinels themselves, when they require one', secret: true })
  @IsOptional()
  @IsString()
  @Validate(RedisSettingsRule)
  sentinelPassword?: string;

  @Env('REDIS_CLUSTER_NODES', { doc: 'Redis Cluster: some of its nodes (or a configuration endpoint) as host:port,…; the rest are discovered', type: 'list' })
  @Matches(HOST_PORT, { each: true, message: '$property must be a list of host:port' })
  @Validate(RedisSettingsRule)
  clusterNodes: string[] = [];

  @Env('REDIS_USERNAME', { doc: 'Redis ACL user (instead of the user in REDIS_URL; for Sentinel and Cluster, the data nodes\' user)' })
  @IsOptional()
  @IsString()
  @Validate(RedisSettingsRule)
  username?: string;

  @Env('REDIS_PASSWORD', { doc: 'Redis password (instead of the one in REDIS_URL; for Sentinel and Cluster, the data nodes\' password)', secret: true })
  @IsOptional()
  @IsString()
  @Validate(RedisSettingsRule)
  password?: string;

  @Env('REDIS_TLS', { doc: 'TLS to Sentinel or Cluster nodes (and Sentinels); with one server, use a rediss:// URL instead' })
  @IsBoolean()
  @Validate(RedisSettingsRule)
  tls = false;

  @Env('REDIS_TLS_CA', { doc: 'PEM CA certificate(s) Redis\'s TLS certificate is checked against, usually as REDIS_TLS_CA_FILE (a mounted file; not secret itself); unset = the system CAs', secret: true })
  @IsOptional()
  @Validate(RedisSettingsRule)
  tlsCa?: string;

  @Env('REDIS_TLS_CERT', { doc: 'Mutual TLS: the client certificate (PEM) shown to Redis, usually as REDIS_TLS_CERT_FILE; with REDIS_TLS_KEY', secret: true })
  @IsOptional()
  @Validate(RedisSettingsRule)
  tlsCert?: string;

  @Env('REDIS_TLS_KEY', { doc: 'Mutual TLS: the client certificate\'s private key (unencrypted PEM), usually as REDIS_TLS_KEY_FILE', secret: true })
  @IsOptional()
  @Validate(RedisSettingsRule)
  tlsKey?: string;
}

/** A `host:port` setting as a socket address. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisTlsSettings {
  /** Trusted CAs (PEM); undefined = the system's. */
  ca?: string;
  /** Client certificate and key (PEM), for mutual TLS. */
  cert?: string;
  key?: string;
}

interface Common {
  username?: string;
  password?: string;
  /** Off when undefined. */
  tls?: RedisTlsSettings;
}

/** How to reach the configured Redis, one variant per topology. */
export type RedisConnectionSettings =
  | (Common & { topology: 'single'; url: string })
  | (Common & { topology: 'sentinel'; sentinels: RedisNodeAddress[]; masterName: string; sentinelUsername?: string; sentinelPassword?: string })
  | (Common & { topology: 'cluster'; nodes: RedisNodeAddress[] });

export type RedisTopology = RedisConnectionSettings['topology'];

function address(hostPort: string): RedisNodeAddress {
  const at = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(hostPort.slice(at + 1)) };
}

/** The validated settings as connection settings; undefined when no Redis is configured (in-memory mode). */
export function redisConnectionSettings(c: RedisConfig): RedisConnectionSettings | undefined {
  const tlsOn = c.url ? c.url.startsWith('rediss://') : c.tls;
  const common: Common = {
    username: c.username,
    password: c.password,
    tls: tlsOn ? { ca: c.tlsCa, cert: c.tlsCert, key: c.tlsKey } : undefined,
  };
  if (c.url) return { ...common, topology: 'single', url: c.url };
  if (c.sentinels.length > 0) {
    return { ...common, topology: 'sentinel', sentinels: c.sentinels.map(address), masterName: c.sentinelMaster ?? '', sentinelUsername: c.sentinelUsername, sentinelPassword: c.sentinelPassword };
  }
  if (c.clusterNodes.length > 0) return { ...common, topology: 'cluster', nodes: c.clusterNodes.map(address) };
  return undefined;
}
