import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SANDBOX_QUEUE } from '../sandbox/genesys/genesys.data.js';
import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators, startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess, spawnService } from '../support/service-process.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';

/**
 * Two service processes sharing one Redis: the holder of the subscription lease is killed outright
 * (SIGKILL: no release) or terminated (SIGTERM: released on the way out), and the other takes over
 * the Genesys subscription within a few seconds and pre-fetches the next caller.
 */
const HOLDS = 'this replica holds the Genesys notification subscription now';
const LEASE_TTL_MS = 2000;
const RENEW_MS = 250;

let redis: RedisServer;
let sims: Simulators;
let replicas: ServiceProcess[] = [];

beforeAll(async () => {
  [redis, sims] = await Promise.all([RedisServer.start(), startSimulators()]);
});
afterAll(async () => {
  await stopSimulators(sims);
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
  replicas = [];
  resetSimulators(sims);
  await redis.flush();
});

async function startPair(): Promise<{ holder: ServiceProcess; standby: ServiceProcess }> {
  const env = sandboxEnv(sims, {
    REDIS_URL: redis.url,
    ...GENEROUS_LIMITS,
    ...OPEN_AUTH,
    CACHE_OP_TIMEOUT_MS: '1000',
    GENESYS_NOTIFICATIONS_ENABLED: 'true',
    GENESYS_NOTIFICATIONS_LEASE_TTL_MS: String(LEASE_TTL_MS),
    GENESYS_NOTIFICATIONS_LEASE_RENEW_MS: String(RENEW_MS),
    PREFETCH_RETRY_MS: '100',
  });
  replicas = await Promise.all([spawnService(env), spawnService(env)]);
  const holder = await Promise.race(replicas.map((r) => r.whenOutput(HOLDS).then(() => r)));
  const standby = replicas.find((r) => r !== holder) as ServiceProcess;
  return { holder, standby };
}

const caller = demoCustomer(DEMO.healthy);

/** A call placed into a queue is pre-fetched (nobody else looks the caller up by phone here), and the panel then needs no Genesys call. */
async function expectPrefetched(panel: ServiceProcess): Promise<void> {
  const searches = sims.salesforce.callCount('search');
  const id = sims.genesys.placeInboundCall({ ani: `tel:${caller.phone}`, queueId: SANDBOX_QUEUE.customerCare });
  await sims.salesforce.whenCallsAtLeast(searches + 1, 'search');
  const res = await fetch(`${panel.url}/v1/conversations/${id}/customer`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { customerId: string }).customerId).toBe(caller.customerId);
  expect(sims.genesys.callCount('conversation')).toBe(0);
}

describe('the subscription moves to another replica', () => {
  it('when the holder is killed (SIGKILL), the other takes over once the lease expires: within a few seconds', async () => {
    const { holder, standby } = await startPair();
    // one holder at a time: never a second channel (the holder's may still be on its way)
    expect(sims.genesys.notifications.stats().channels).toBeLessThanOrEqual(1);
    const from = standby.output().length;
    const killedAt = Date.now();
    await holder.stop('SIGKILL');
    await standby.whenOutput(HOLDS, from);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(LEASE_TTL_MS + 3 * RENEW_MS + 1000);
    await standby.whenOutput('took over the Genesys notification subscription', from);
    await expectPrefetched(standby);
  });

  it('when the holder is terminated (SIGTERM), it releases the lease and the other takes over without waiting for it to expire', async () => {
    const { holder, standby } = await startPair();
    const from = standby.output().length;
    const terminatedAt = Date.now();
    expect(await holder.stop('SIGTERM')).toBe(0);
    await standby.whenOutput(HOLDS, from);
    expect(Date.now() - terminatedAt).toBeLessThan(LEASE_TTL_MS);
    // logged once its channel is live (with the handover gap)
    await standby.whenOutput('took over the Genesys notification subscription', from);
    await expectPrefetched(standby);
  });
});
