import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { AggregationService } from '../../src/aggregation/aggregation.service.js';
import { loadConfig } from '../../src/app.config.js';
import { signatureHeader } from '../../src/auth/signature.js';
import type { Redis } from '../../src/redis/redis.client.js';
import { redisConnectionSettings } from '../../src/redis/redis.config.js';
import { createRedis } from '../../src/redis/redis.module.js';
import { SharedRateLimiter } from '../../src/resilience/shared-rate-limiter.js';
import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO, seededCustomers } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators, startSimulators, stopSimulators } from '../sandbox/simulators.js';
import type { RedisProcess } from './redis-process.js';
import { heardInvalidations, startService, type TestService } from './test-app.js';

/** A Redis deployment started for a test file, and what the shared behaviour tests need of it. */
export interface TopologyUnderTest {
  /** The service's settings for it (REDIS_URL, or REDIS_SENTINELS…, or REDIS_CLUSTER_NODES…, with the ACL user and TLS files). */
  env: Record<string, string>;
  /** The data nodes whose ACL log must stay empty: nothing the service sends may be refused (none without an ACL user). */
  aclNodes(): RedisProcess[];
  /** Empties every data node (as the admin). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** What a test file may use beside the shared tests (its own failover test, say). */
export interface TopologyContext {
  readonly topology: TopologyUnderTest;
  readonly sims: Simulators;
  /** One service replica (in this process) on this Redis; closed after the test. */
  replica(env?: Record<string, string>): Promise<TestService>;
  /** Resolves once the replica's answers have been written to the cache (answers never wait for their writes). */
  written(s: TestService): Promise<void>;
  /** Fails the test when a data node refused the service's user anything (ACL LOG). */
  expectNothingRefused(): Promise<void>;
  /** A connection of the service's own kind to this Redis, closed after the test. */
  connection(): Promise<Redis>;
}

/**
 * After a failover: caching works on the promoted node (what one replica fetched, another replica
 * with nothing of it in its own near cache reads as a hit), and a subscription made before the
 * failover hears a message published through the new primary on `channel`.
 */
export async function expectRecoveredAfterFailover(context: TopologyContext, s: TestService, channel: string, message: Promise<string>): Promise<void> {
  const first = await s.get(`/v1/customers/${DEMO.decimalTrap}`);
  await context.written(s);
  const other = await context.replica();
  const second = await other.get(`/v1/customers/${DEMO.decimalTrap}`);
  expect(Object.values(second.body.sources).map((x) => (x as { cache: string }).cache)).toEqual(['hit', 'hit', 'hit']);
  expect(second.body.balance).toBe(first.body.balance);
  const publisher = await context.connection();
  await vi.waitFor(async () => expect(await publisher.publish(channel, 'after the failover')).toBe(1), { timeout: 15_000, interval: 100 });
  expect(await message).toBe('after the failover');
}

/** Customers the simulators hold here: the 60 demo customers, then generated ones. */
const SEEDED = 1000;

/**
 * Customers for look-ups during a failover, each asked for once: a call in flight when the node
 * dies leaves its cross-replica lock behind on the promoted replica (its release failed) until the
 * lock expires, and a later look-up of that customer waits for it (an open issue of the replica
 * lock, not of the connection); distinct customers keep these tests about the connection.
 */
export const FAILOVER_CUSTOMERS: readonly string[] = seededCustomers(SEEDED).slice(60).map((c) => c.customerId);

/**
 * Settings for every replica here: Redis gets 1 s per operation and a request 3 s, since on a busy
 * 2-core test machine a 100 ms bound can expire, and a replica whose lock attempt times out
 * proceeds without it (fail open, by design) — these tests are about Redis's behaviour, not speed.
 */
const PATIENT = { CACHE_OP_TIMEOUT_MS: '1000', AGGREGATION_DEADLINE_MS: '3000', SAP_TIMEOUT_MS: '2500' };

/**
 * The behaviour every Redis topology must give the service, as one `describe` block: a shared
 * cache, single-flight across replicas (the lock and its "landed" message), invalidation by a
 * signed webhook seen by every replica, replay protection across replicas, one outbound rate limit
 * for several connections, and no command refused to the service's ACL user. The topology is
 * started once for the file; `extra` adds the file's own tests in the same block.
 */
export function describeTopology(name: string, start: () => Promise<TopologyUnderTest>, extra?: (ctx: () => TopologyContext) => void): void {
  describe(name, () => {
    let topology: TopologyUnderTest | undefined;
    let sims: Simulators | undefined;
    const services: TestService[] = [];
    const connections: Redis[] = [];

    beforeAll(async () => {
      Logger.overrideLogger(false); // the limiter's own connections log nothing the tests read
      // the demo customers and more: a failover test asks for each customer once (see FAILOVER_CUSTOMERS)
      [topology, sims] = await Promise.all([start(), startSimulators({}, { customers: seededCustomers(SEEDED) })]);
    }, 90_000);
    afterAll(async () => {
      await Promise.all([topology?.stop(), sims && stopSimulators(sims)]);
    });
    beforeEach(async () => {
      resetSimulators(context.sims);
      await context.topology.flush();
      await Promise.all(context.topology.aclNodes().filter((n) => n.running).map((n) => n.command(['ACL', 'LOG', 'RESET'])));
    });
    afterEach(async () => {
      await Promise.all(services.splice(0).map((s) => s.close()));
      await Promise.all(connections.splice(0).map((c) => c.close()));
    });

    const context: TopologyContext = {
      get topology() {
        if (!topology) throw new Error('the topology starts in beforeAll');
        return topology;
      },
      get sims() {
        if (!sims) throw new Error('the simulators start in beforeAll');
        return sims;
      },
      async replica(env = {}) {
        const s = await startService({ sims: context.sims, env: { ...PATIENT, ...context.topology.env, ...env } });
        services.push(s);
        return s;
      },
      written: (s) => s.app.get(AggregationService).whenIdle(),
      async expectNothingRefused() {
        const refused: string[] = [];
        for (const node of context.topology.aclNodes().filter((n) => n.running)) {
          for (const entry of (await node.command(['ACL', 'LOG'])) as unknown[][]) {
            const fields = new Map<string, string>();
            for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), String(entry[i + 1]));
            refused.push(`${node.address}: ${fields.get('reason')} ${fields.get('object')} (${fields.get('username')})`);
          }
        }
        expect(refused).toEqual([]);
      },
      async connection() {
        const settings = redisConnectionSettings(loadConfig(sandboxEnv(context.sims, context.topology.env)).redis);
        if (!settings) throw new Error('the topology gave the service no Redis settings');
        const redis = createRedis(settings, new Logger('test'));
        connections.push(redis);
        if (!redis.isReady) await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
        return redis;
      },
    };

    const crmCalls = () => context.sims.salesforce.callCount('query') + context.sims.sap.callCount('openItems') + context.sims.servicenow.callCount('table');

    it('caches a look-up in Redis: the second GET, on another replica, calls no CRM', async () => {
      const [a, b] = [await context.replica(), await context.replica()];
      const first = await a.get(`/v1/customers/${DEMO.healthy}`);
      expect(first.status).toBe(200);
      expect(Object.values(first.body.sources).map((s) => (s as { cache: string }).cache)).toEqual(['miss', 'miss', 'miss']);
      await context.written(a);
      const calls = crmCalls();
      const second = await b.get(`/v1/customers/${DEMO.healthy}`);
      expect(second.status).toBe(200);
      expect(second.body.sources).toMatchObject({ salesforce: { status: 'ok', cache: 'hit' }, sap: { status: 'ok', cache: 'hit' }, servicenow: { status: 'ok', cache: 'hit' } });
      expect(second.body.balance).toBe(first.body.balance);
      expect(crmCalls()).toBe(calls);
      await context.expectNothingRefused();
    });

    it('single-flight across replicas: concurrent look-ups of one cold customer on two replicas cost one call per CRM', async () => {
      const [a, b] = [await context.replica(), await context.replica()];
      // the first call stays open while the others arrive; they wait for its "landed" message
      for (const sim of [context.sims.salesforce, context.sims.sap, context.sims.servicenow]) sim.setFaults({ latencyMs: 300 });
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).get(`/v1/customers/${DEMO.manyTickets}`)));
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      expect(answers.flatMap((r) => Object.values(r.body.sources).map((s) => (s as { status: string }).status)).filter((s) => s !== 'ok')).toEqual([]);
      expect(context.sims.salesforce.callCount('query')).toBe(1);
      expect(context.sims.sap.callCount('openItems')).toBe(1);
      expect(context.sims.servicenow.callCount('table')).toBe(1);
      await context.expectNothingRefused();
    });

    it('a signed change webhook invalidates the customer on every replica, and the same notification replayed to another replica is refused', async () => {
      const [a, b] = [await context.replica(), await context.replica()];
      await b.get(`/v1/customers/${DEMO.healthy}`);
      await context.written(b);
      const body = JSON.stringify({ customerId: DEMO.healthy, event: 'account.updated' });
      const signature = signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), body);
      const notify = (s: TestService) => s.app.inject({ method: 'POST', url: '/v1/webhooks/salesforce', payload: body, headers: { 'content-type': 'application/json', 'x-signature': signature } });

      const accepted = await notify(a);
      expect(accepted.statusCode).toBe(202);
      expect(accepted.json()).toEqual({ invalidated: DEMO.healthy });
      await heardInvalidations(b);
      const after = await b.get(`/v1/customers/${DEMO.healthy}`);
      expect(after.body.sources.salesforce).toMatchObject({ status: 'ok', cache: 'miss' });
      expect(context.sims.salesforce.callCount('query')).toBe(2);

      expect((await notify(b)).statusCode).toBe(401);
      expect((await notify(a)).statusCode).toBe(401);
      await context.expectNothingRefused();
    });

    it('one outbound rate limit for several connections: two limiters on their own connections grant the budget once', async () => {
      const at = Date.UTC(2026, 10, 23, 12, 0, 30); // mid-minute: one window for the whole test
      const limiter = (redis: Redis) =>
        new SharedRateLimiter({ source: 'salesforce', points: 6, durationSec: 60, redis, keyPrefix: 'c360', expectedReplicas: 3, maxWaitMs: 0, opTimeoutMs: 1000, maxQueue: 10, now: () => at });
      const [first, second] = [limiter(await context.connection()), limiter(await context.connection())];
      let granted = 0;
      for (const l of [first, second, first, second, first, second, first, second]) {
        await l.acquire().then(
          () => granted++,
          (err: unknown) => expect(err).toMatchObject({ kind: 'rate_limited' }),
        );
      }
      expect(granted).toBe(6);
      await context.expectNothingRefused();
    });

    extra?.(() => context);
  });
}
