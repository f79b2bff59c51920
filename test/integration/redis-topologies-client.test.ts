/**
 * The shared Redis connection's own promises (src/redis/redis.client.ts), on one real server:
 * start-up never waits for Redis, a command is refused at once while Redis is down and the
 * connection comes back by itself, scripts run by hash, subscribing never takes the shared
 * connection from other commands, and closing never hangs. The topology files run the service's
 * behaviour on Sentinel and Cluster.
 */
import { Logger } from '@nestjs/common';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { defineScript, type Redis, RedisUnavailable } from '../../src/redis/redis.client.js';
import { createRedis } from '../../src/redis/redis.module.js';
import { RedisServer } from '../support/redis-server.js';

let server: RedisServer;
const opened: Redis[] = [];

beforeAll(async () => {
  Logger.overrideLogger(false);
  server = await RedisServer.start();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await server.flush();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close(100)));
});

function open(): Redis {
  const redis = createRedis(server.url, new Logger('test'));
  opened.push(redis);
  return redis;
}

const ready = (redis: Redis) => (redis.isReady ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve())));

const adminClient = () => createClient({ url: server.url });

async function admin<T>(run: (client: ReturnType<typeof adminClient>) => Promise<T>): Promise<T> {
  const client = adminClient();
  await client.connect();
  try {
    return await run(client);
  } finally {
    client.destroy();
  }
}

describe('the shared Redis connection', () => {
  it('never holds up start-up: made while Redis is down, it refuses commands and connects once Redis is up', async () => {
    await server.kill();
    const redis = open();
    expect(redis.isReady).toBe(false);
    await expect(redis.get('c360:k')).rejects.toBeInstanceOf(RedisUnavailable);
    await server.resume();
    await ready(redis);
    await redis.set('c360:k', 'v');
    expect(await redis.get('c360:k')).toBe('v');
  });

  it('refuses a command at once while Redis is down (nothing queued for later), and is ready again by itself', async () => {
    const redis = open();
    await ready(redis);
    await server.kill();
    await expect(redis.set('c360:later', 'queued?')).rejects.toThrow();
    expect(redis.isReady).toBe(false);
    await server.resume();
    await ready(redis);
    expect(await redis.get('c360:later')).toBeNull(); // the refused write was not replayed on reconnection
  });

  it('runs a script by its hash, and sends it in full once to a server that does not know it (restarted, promoted)', async () => {
    const redis = open();
    await ready(redis);
    const incr = defineScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    expect(await redis.run(incr, { keys: ['c360:n'], arguments: ['2'] })).toBe(2);
    await admin((c) => c.scriptFlush());
    expect(await redis.run(incr, { keys: ['c360:n'], arguments: ['3'] })).toBe(5);
    expect(await redis.run(incr, { keys: ['c360:n'], arguments: ['4'] })).toBe(9);
    const stats = await admin((c) => c.info('commandstats'));
    expect(stats).toMatch(/cmdstat_evalsha:calls=3,/);
    expect(stats).toMatch(/cmdstat_eval:calls=2,/); // the first run and the one after the flush
  });

  it('subscribes without taking the shared connection from other commands', async () => {
    const [redis, other] = [open(), open()];
    await Promise.all([ready(redis), ready(other)]);
    let heard!: (message: string) => void;
    const message = new Promise<string>((resolve) => (heard = resolve));
    await redis.subscribe('c360:{cust-1}:landed', (m) => heard(m));
    await redis.set('c360:k', 'still serving');
    expect(await redis.get('c360:k')).toBe('still serving');
    expect(await other.publish('c360:{cust-1}:landed', 'ok')).toBe(1);
    expect(await message).toBe('ok');
    await redis.unsubscribe('c360:{cust-1}:landed');
    expect(await other.publish('c360:{cust-1}:landed', 'again')).toBe(0);
  });

  it('closes without hanging when Redis is frozen: forcibly, once the bound has passed', async () => {
    const redis = createRedis(server.url, new Logger('test'));
    await ready(redis);
    await redis.subscribe('c360:x', () => undefined);
    process.kill(server.pid as number, 'SIGSTOP');
    try {
      void redis.get('c360:k').catch(() => undefined); // a reply that will not come before the close
      await redis.close(200);
      expect(redis.isOpen).toBe(false);
      expect(redis.isReady).toBe(false);
    } finally {
      process.kill(server.pid as number, 'SIGCONT');
    }
  });
});
