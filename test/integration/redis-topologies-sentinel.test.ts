/**
 * The Redis behaviour tests (test/support/redis-topology-suite.ts) against a Sentinel deployment
 * (a primary, a replica, 3 Sentinels; the service as an ACL user), then a failover: the primary
 * killed while the service answers.
 */
import { expect, it, vi } from 'vitest';

import type { Redis } from '../../src/redis/redis.client.js';
import { REDIS } from '../../src/redis/redis.module.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { RedisSentinelTopology } from '../support/redis-topologies.js';
import { describeTopology, FAILOVER_CUSTOMERS } from '../support/redis-topology-suite.js';

let sentinel: RedisSentinelTopology;

describeTopology(
  'Redis Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_MASTER)',
  async () => {
    sentinel = await RedisSentinelTopology.start();
    const users = sentinel.users!;
    return {
      env: { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_MASTER: sentinel.masterName, REDIS_USERNAME: users.service.username, REDIS_PASSWORD: users.service.password },
      aclNodes: () => sentinel.dataNodes,
      flush: async () => {
        await (await sentinel.primary()).command(['FLUSHALL']);
      },
      stop: () => sentinel.stop(),
    };
  },
  (ctx) => {
    it('the primary killed: every look-up is still answered during the failover, and caching resumes on the promoted replica', async () => {
      const s = await ctx().replica();
      const redis = s.app.get<Redis>(REDIS);
      const listener = await ctx().connection();
      let heard!: (message: string) => void;
      const message = new Promise<string>((resolve) => (heard = resolve));
      await listener.subscribe('c360:{failover}:landed', (m) => heard(m));
      // look-ups in flight all along (8 at a time), as under load: some are mid-command when the node dies
      let i = 0;
      const answers: number[] = [];
      const failover = sentinel.killPrimary();
      let done = false;
      void failover.finally(() => (done = true));
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while ((!done || i < 16) && i < FAILOVER_CUSTOMERS.length) answers.push((await s.get(`/v1/customers/${FAILOVER_CUSTOMERS[i++]}`)).status);
        }),
      );
      await failover;
      expect(answers.filter((status) => status !== 200)).toEqual([]);

      if (!redis.isReady) await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
      const first = await s.get(`/v1/customers/${DEMO.decimalTrap}`);
      await ctx().written(s);
      // another replica (nothing of this customer in its own near cache) reads it from the promoted node
      const other = await ctx().replica();
      const second = await other.get(`/v1/customers/${DEMO.decimalTrap}`);
      expect(Object.values(second.body.sources).map((x) => (x as { cache: string }).cache)).toEqual(['hit', 'hit', 'hit']);
      expect(second.body.balance).toBe(first.body.balance);

      // the subscription made before the failover hears a message sent through the new primary
      const publisher = await ctx().connection();
      await vi.waitFor(async () => expect(await publisher.publish('c360:{failover}:landed', 'after the failover')).toBe(1), { timeout: 15_000, interval: 100 });
      expect(await message).toBe('after the failover');
    }, 60_000);
  },
);
