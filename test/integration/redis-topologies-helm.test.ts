/**
 * The chart's Redis examples (helm/examples/values-redis-*.yaml), one per topology: each passes
 * the values schema and, rendered into the environment the chart gives the pod (config keys, and
 * <SETTING>_FILE for each mapped secret), yields the topology it promises. The schema refuses two
 * topologies at once. helm is not needed to run these checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { loadConfig } from '../../src/app.config.js';
import { redisConnectionSettings } from '../../src/redis/redis.config.js';
import { SITE_VALUES } from '../deployment/artefacts.js';

type Tree = Record<string, unknown>;

const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const chartValues = parseYaml(read('helm/customer360/values.yaml')) as Tree;
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(read('helm/customer360/values.schema.json')) as Tree);
const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of user values over the chart's: maps merge, anything else replaces. */
function withValues(patch: Tree, base: Tree = chartValues): Tree {
  const out: Tree = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) out[k] = isMap(v) && isMap(out[k]) ? withValues(v, out[k]) : v;
  return out;
}

const errorsOf = (v: Tree): string => (validate(v) ? 'No errors' : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`).join('\n'));

/** The configuration the service loads from the pod's environment, each mounted secret file holding `contents(name)`. */
function serviceConfig(values: Tree, contents: (setting: string) => string) {
  const config = values.config as Record<string, string | number | boolean>;
  const secrets = values.secrets as { mountPath: string; files: Record<string, string> };
  const env: Record<string, string> = { NODE_ENV: 'production', EXPECTED_REPLICAS: '3' };
  for (const [name, value] of Object.entries(config)) if (value !== '') env[name] = String(value);
  Object.assign(env, SITE_VALUES);
  const files: Record<string, string> = {};
  for (const [name, key] of Object.entries(secrets.files)) {
    if (!key) continue;
    env[`${name}_FILE`] = `${secrets.mountPath}/${key}`;
    files[env[`${name}_FILE`]] = contents(name);
  }
  return loadConfig(env, (path) => {
    if (!(path in files)) throw new Error(`no such file ${path}`);
    return files[path];
  });
}

const PEM_CA = '-----BEGIN CERTIFICATE-----\nMIIB-ca\n-----END CERTIFICATE-----\n';
const fileText = (urls: Record<string, string>) => (setting: string) => urls[setting] ?? (setting === 'REDIS_TLS_CA' ? PEM_CA : `${setting.toLowerCase()}-0123456789abcdef0123456789\n`);

describe('the chart\'s Redis examples', () => {
  it('one managed server over TLS as an ACL user: a rediss:// URL from the Secret, the user in config, the password and CA as files', () => {
    const values = withValues(parseYaml(read('helm/examples/values-redis-tls-acl.yaml')) as Tree);
    expect(errorsOf(values)).toBe('No errors');
    const settings = redisConnectionSettings(serviceConfig(values, fileText({ REDIS_URL: 'rediss://c360-redis.redis.cache.windows.net:6380/0\n' })).redis);
    expect(settings).toMatchObject({ topology: 'single', url: 'rediss://c360-redis.redis.cache.windows.net:6380/0', username: 'c360', password: 'redis_password-0123456789abcdef0123456789', tls: { ca: PEM_CA.trimEnd() } });
  });

  it('Sentinel: the Sentinels and the primary\'s name in config, the passwords as files, the Sentinel port open', () => {
    const values = withValues(parseYaml(read('helm/examples/values-redis-sentinel.yaml')) as Tree);
    expect(errorsOf(values)).toBe('No errors');
    const settings = redisConnectionSettings(serviceConfig(values, fileText({})).redis);
    expect(settings).toMatchObject({ topology: 'sentinel', masterName: 'mymaster', sentinelPassword: 'redis_sentinel_password-0123456789abcdef0123456789', tls: undefined });
    expect(settings?.topology === 'sentinel' && settings.sentinels).toHaveLength(3);
    expect(((values.networkPolicy as Tree).egress as { redis: { extraPorts: number[] } }).redis.extraPorts).toEqual([26379]);
  });

  it('Cluster: a configuration endpoint over TLS, the ACL user\'s password as a file', () => {
    const values = withValues(parseYaml(read('helm/examples/values-redis-cluster.yaml')) as Tree);
    expect(errorsOf(values)).toBe('No errors');
    const settings = redisConnectionSettings(serviceConfig(values, fileText({})).redis);
    expect(settings).toMatchObject({ topology: 'cluster', nodes: [{ host: 'clustercfg.c360.abc123.use1.cache.amazonaws.com', port: 6379 }], username: 'c360', tls: {} });
  });
});

describe('the values schema and Redis', () => {
  it.each([
    ['a URL and Sentinels', { config: { REDIS_SENTINELS: 's-0:26379', REDIS_SENTINEL_MASTER: 'mymaster' } }],
    ['a URL and Cluster nodes', { config: { REDIS_CLUSTER_NODES: 'n-0:6379' } }],
    ['Sentinels without the primary\'s name', { config: { REDIS_SENTINELS: 's-0:26379' }, secrets: { files: { REDIS_URL: '' } } }],
    ['several replicas and no Redis at all', { secrets: { files: { REDIS_URL: '' } } }],
  ])('refuses %s', (_what, patch) => {
    expect(errorsOf(withValues(patch as Tree))).not.toBe('No errors');
  });

  it('accepts several replicas on Sentinel or Cluster without a URL', () => {
    expect(errorsOf(withValues({ config: { REDIS_SENTINELS: 's-0:26379', REDIS_SENTINEL_MASTER: 'mymaster' }, secrets: { files: { REDIS_URL: '' } } }))).toBe('No errors');
    expect(errorsOf(withValues({ config: { REDIS_CLUSTER_NODES: 'n-0:6379' }, secrets: { files: { REDIS_URL: '' } } }))).toBe('No errors');
  });
});
