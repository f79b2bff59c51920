import { describe, expect, it } from 'vitest';

import { REQUIRED_SETTINGS as REQUIRED } from '../../test/support/required-settings.js';
import { loadConfig } from '../app.config.js';
import { ConfigError } from '../config/config.errors.js';
import { type Environment, type FileReader } from '../config/load-config.js';
import { redisConnectionSettings } from './redis.config.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB-test-ca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB-test-client\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGH-test-key\n-----END PRIVATE KEY-----\n';
const FILES: Record<string, string> = { '/run/redis/ca.crt': CA, '/run/redis/tls.crt': CERT, '/run/redis/tls.key': KEY, '/run/redis/password': 's3cret-from-file\n' };
const files: FileReader = (path) => {
  if (!(path in FILES)) throw new Error(`no such file: ${path}`);
  return FILES[path];
};

/** A file's text as the loader gives it (the final newline dropped). */
const pem = (text: string) => text.replace(/\n$/, '');

function settings(redis: Record<string, string>) {
  return redisConnectionSettings(loadConfig({ ...REQUIRED, ...redis }, files).redis);
}

/** The problems loadConfig reports for these Redis settings (it must refuse them). */
function problems(redis: Environment): string[] {
  try {
    loadConfig({ ...REQUIRED, ...redis }, files);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('Redis settings: one server', () => {
  it('is off (in-memory) when no topology is set', () => {
    expect(settings({})).toBeUndefined();
  });

  it('takes a rediss:// URL with the ACL user and password in it: TLS on', () => {
    expect(settings({ REDIS_URL: 'rediss://c360:pa%40ss@redis.example.com:6380/0' })).toEqual({
      topology: 'single',
      url: 'rediss://c360:pa%40ss@redis.example.com:6380/0',
      username: undefined,
      password: undefined,
      tls: { ca: undefined, cert: undefined, key: undefined },
    });
  });

  it('takes the user and password apart (the password from a mounted file), and a CA and client certificate for mutual TLS', () => {
    expect(
      settings({
        REDIS_URL: 'rediss://redis.example.com:6380',
        REDIS_USERNAME: 'c360',
        REDIS_PASSWORD_FILE: '/run/redis/password',
        REDIS_TLS_CA_FILE: '/run/redis/ca.crt',
        REDIS_TLS_CERT_FILE: '/run/redis/tls.crt',
        REDIS_TLS_KEY_FILE: '/run/redis/tls.key',
      }),
    ).toEqual({ topology: 'single', url: 'rediss://redis.example.com:6380', username: 'c360', password: 's3cret-from-file', tls: { ca: pem(CA), cert: pem(CERT), key: pem(KEY) } });
  });

  it('keeps TLS off for redis://', () => {
    expect(settings({ REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ topology: 'single', tls: undefined });
  });
});

describe('Redis settings: Sentinel and Cluster', () => {
  it('takes the Sentinels and the primary\'s name, with separate Sentinel credentials and TLS', () => {
    expect(
      settings({
        REDIS_SENTINELS: 'sentinel-0.redis:26379, sentinel-1.redis:26379,[fd00::7]:26379',
        REDIS_SENTINEL_MASTER: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        REDIS_USERNAME: 'c360',
        REDIS_PASSWORD: 'data-secret',
        REDIS_TLS: 'true',
        REDIS_TLS_CA_FILE: '/run/redis/ca.crt',
      }),
    ).toEqual({
      topology: 'sentinel',
      sentinels: [
        { host: 'sentinel-0.redis', port: 26379 },
        { host: 'sentinel-1.redis', port: 26379 },
        { host: 'fd00::7', port: 26379 },
      ],
      masterName: 'mymaster',
      sentinelUsername: undefined,
      sentinelPassword: 'sentinel-secret',
      username: 'c360',
      password: 'data-secret',
      tls: { ca: pem(CA), cert: undefined, key: undefined },
    });
  });

  it('takes Cluster nodes (or one configuration endpoint)', () => {
    expect(settings({ REDIS_CLUSTER_NODES: 'clustercfg.c360.abc123.use1.cache.amazonaws.com:6379', REDIS_TLS: 'true', REDIS_USERNAME: 'c360', REDIS_PASSWORD: 'x-secret' })).toEqual({
      topology: 'cluster',
      nodes: [{ host: 'clustercfg.c360.abc123.use1.cache.amazonaws.com', port: 6379 }],
      username: 'c360',
      password: 'x-secret',
      tls: { ca: undefined, cert: undefined, key: undefined },
    });
  });
});

describe('Redis settings: clear start-up errors', () => {
  it.each([
    ['two topologies: URL and Sentinels', { REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' }, /exactly one Redis topology.*REDIS_URL.*REDIS_SENTINELS/],
    ['two topologies: URL and Cluster', { REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'n:6379' }, /exactly one Redis topology: REDIS_CLUSTER_NODES \(Cluster\) cannot be combined with REDIS_URL/],
    ['two topologies: Sentinels and Cluster', { REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'n:6379' }, /REDIS_CLUSTER_NODES \(Cluster\) cannot be combined with REDIS_SENTINELS/],
    ['Sentinels without the primary\'s name', { REDIS_SENTINELS: 's:26379' }, /REDIS_SENTINELS needs REDIS_SENTINEL_MASTER/],
    ['a primary\'s name without Sentinels', { REDIS_URL: 'redis://r:6379', REDIS_SENTINEL_MASTER: 'm' }, /REDIS_SENTINEL_MASTER only applies with REDIS_SENTINELS/],
    ['a node that is not host:port', { REDIS_CLUSTER_NODES: 'n:6379,redis://n2:6379' }, /REDIS_CLUSTER_NODES must be a list of host:port/],
    ['a password with no Redis to use it', { REDIS_PASSWORD: 'lonely-secret' }, /REDIS_PASSWORD needs a Redis to apply to/],
    ['the password twice', { REDIS_URL: 'redis://:in-url@r:6379', REDIS_PASSWORD: 'apart-too' }, /REDIS_PASSWORD is also given in REDIS_URL/],
    ['the user twice', { REDIS_URL: 'redis://c360:pw@r:6379', REDIS_USERNAME: 'c360' }, /REDIS_USERNAME is also given in REDIS_URL/],
    ['a CA without TLS', { REDIS_URL: 'redis://r:6379', REDIS_TLS_CA_FILE: '/run/redis/ca.crt' }, /REDIS_TLS_CA only applies with TLS/],
    ['REDIS_TLS against a redis:// URL', { REDIS_URL: 'redis://r:6379', REDIS_TLS: 'true' }, /use a rediss:\/\/ URL for TLS/],
    ['a client certificate without its key', { REDIS_URL: 'rediss://r:6380', REDIS_TLS_CERT_FILE: '/run/redis/tls.crt' }, /REDIS_TLS_CERT needs REDIS_TLS_KEY/],
    ['a key that is not a PEM key', { REDIS_URL: 'rediss://r:6380', REDIS_TLS_CERT_FILE: '/run/redis/tls.crt', REDIS_TLS_KEY_FILE: '/run/redis/ca.crt' }, /REDIS_TLS_KEY must hold an unencrypted PEM private key/],
    ['a CA file that cannot be read', { REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA_FILE: '/run/redis/missing.crt' }, /REDIS_TLS_CA_FILE points to a file that cannot be read/],
    ['not a Redis URL', { REDIS_URL: 'http://r:6379' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
  ])('%s', (_case, redis, expected) => {
    expect(problems(redis).join('\n')).toMatch(expected);
  });

  it('never echoes a password or URL in the message', () => {
    const text = problems({ REDIS_URL: 'redis://:hunter2-in-url@r:6379', REDIS_PASSWORD: 'hunter3-apart', REDIS_SENTINEL_MASTER: 'm' }).join('\n');
    expect(text).not.toMatch(/hunter/);
  });
});
