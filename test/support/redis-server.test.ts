import { createConnection } from 'node:net';

import { createClient } from '@redis/client';
import { afterAll, describe, expect, it } from 'vitest';

import { RedisServer } from './redis-server.js';

function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().trim());
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});

describe('private redis-server for tests', () => {
  it('starts on a free port, can be killed like an outage and comes back on the same port', async () => {
    redis = await RedisServer.start();
    expect(redis.port).not.toBe(6379);
    expect(await ping(redis.port)).toBe('+PONG');
    await redis.kill();
    expect(await ping(redis.port)).toBe('ECONNREFUSED');
    await redis.resume();
    expect(await ping(redis.port)).toBe('+PONG');
  });

  it('flush empties the database, and brings a killed server back first', async () => {
    redis ??= await RedisServer.start();
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.set('left-over', '1');
    await redis.flush();
    expect(await client.dbSize()).toBe(0);
    await client.close();
    await redis.kill();
    await redis.flush();
    expect(await ping(redis.port)).toBe('+PONG');
  });
});
