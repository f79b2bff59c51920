/**
 * The Redis behaviour tests (test/support/redis-topology-suite.ts) against a Sentinel deployment
 * (a primary, a replica, 3 Sentinels; the service as an ACL user), then a failover: the primary
 * killed while the service answers.
 */
import { expect, it } from 'vitest';

import type { Redis } from '../../src/redis/redis.client.js';
import { REDIS } from '../../src/redis/redis.module.js';
import { RedisSentinelTopology } from '../support/redis-topologies.js';
import { describeTopology, expectRecoveredAfterFailover, FAILOVER_CUSTOMERS } from '../support/redis-topology-suite.js';

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
      await expectRecoveredAfterFailover(ctx(), s, 'c360:{failover}:landed', message);
    }, 60_000);
  },
);
