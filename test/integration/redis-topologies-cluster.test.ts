/**
 * The Redis behaviour tests (test/support/redis-topology-suite.ts) against a Redis Cluster
 * (3 masters, 3 replicas; the service as an ACL user), then a failover: a master killed while the
 * service answers.
 */
import type { RedisClusterType } from '@redis/client';
import { expect, it, vi } from 'vitest';

import { CacheKeys } from '../../src/cache/cache-keys.js';
import { SourceCache } from '../../src/cache/source-cache.js';
import type { Redis } from '../../src/redis/redis.client.js';
import { REDIS } from '../../src/redis/redis.module.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { RedisClusterTopology, type RedisProcess } from '../support/redis-topologies.js';
import { describeTopology, expectRecoveredAfterFailover, FAILOVER_CUSTOMERS } from '../support/redis-topology-suite.js';

let cluster: RedisClusterTopology;

/** How many MGET commands a node has served so far (INFO commandstats, as the admin). */
async function mgetCalls(node: RedisProcess): Promise<number> {
  const stat = (await node.info('commandstats')).get('cmdstat_mget');
  return Number(/calls=(\d+)/.exec(stat ?? '')?.[1] ?? 0);
}

describeTopology(
  'Redis Cluster (REDIS_CLUSTER_NODES)',
  async () => {
    cluster = await RedisClusterTopology.start();
    const users = cluster.users!;
    return {
      env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_USERNAME: users.service.username, REDIS_PASSWORD: users.service.password },
      aclNodes: () => cluster.nodes,
      flush: async () => {
        const masters = (await cluster.view()).filter((n) => n.flags.includes('master') && !n.flags.some((f) => f.startsWith('fail')));
        await Promise.all(masters.map((m) => cluster.node(m.port).command(['FLUSHALL'])));
      },
      stop: () => cluster.stop(),
    };
  },
  (ctx) => {
    it('a customer\'s cached parts and generation are read in one MGET, on the one master that owns the customer\'s slot', async () => {
      const s = await ctx().replica();
      const store = s.app.get(SourceCache);
      expect((await s.get(`/v1/customers/${DEMO.healthy}`)).status).toBe(200);
      await ctx().written(s);
      const sources = ['salesforce', 'sap', 'servicenow'];
      const owner = await cluster.masterOf(store.keys.generation(DEMO.healthy));
      const masters = (await cluster.view()).filter((n) => n.flags.includes('master') && !n.flags.some((f) => f.startsWith('fail'))).map((n) => cluster.node(n.port));
      expect(masters).toHaveLength(3);
      const before = await Promise.all(masters.map(mgetCalls));

      const { parts, generation } = await store.getAll(DEMO.healthy, sources);

      const after = await Promise.all(masters.map(mgetCalls));
      expect([...parts.keys()].sort()).toEqual(sources);
      expect(generation).toBe(''); // read, and never invalidated
      expect(masters.map((m, i) => `${m.port}: +${after[i] - before[i]}`)).toEqual(masters.map((m) => `${m.port}: +${m === owner ? 1 : 0}`));
    });

    it('a master killed: every look-up is still answered during the failover, and caching resumes once its replica took over', async () => {
      const s = await ctx().replica();
      const redis = s.app.get<Redis>(REDIS);
      // the master serving a part of the customer looked up afterwards: caching it needs the promoted replica
      const victim = await cluster.masterOf(s.app.get(SourceCache).key(DEMO.decimalTrap, 'salesforce'));
      // a sharded channel on that master, subscribed before it dies
      let channel = '';
      for (let tag = 0; !channel; tag++) {
        const candidate = new CacheKeys('c360').landed(`customer-${tag}`, 'salesforce');
        if ((await cluster.masterOf(candidate)) === victim) channel = candidate;
      }
      const listener = await ctx().connection();
      let heard!: (message: string) => void;
      const message = new Promise<string>((resolve) => (heard = resolve));
      await listener.subscribe(channel, (m) => heard(m));
      // look-ups in flight all along (8 at a time), as under load: some are mid-command when the node dies
      let i = 0;
      const answers: number[] = [];
      const failover = cluster.killMaster(victim);
      let done = false;
      void failover.finally(() => (done = true));
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while ((!done || i < 16) && i < FAILOVER_CUSTOMERS.length) answers.push((await s.get(`/v1/customers/${FAILOVER_CUSTOMERS[i++]}`)).status);
        }),
      );
      const { promoted } = await failover;
      expect(answers.filter((status) => status !== 200)).toEqual([]);

      // the service's connection learns the new slot owner by itself (no MOVED comes from a dead
      // master, and no event says when it has: a bounded look, as in redis-topologies.test.ts)
      const masters = () => (redis.client as RedisClusterType).masters.map((m) => m.port);
      await vi.waitFor(() => expect(masters()).toContain(promoted.port), { timeout: 15_000, interval: 100 });
      expect(masters()).not.toContain(victim.port);
      await expectRecoveredAfterFailover(ctx(), s, channel, message);
    }, 60_000);
  },
);
