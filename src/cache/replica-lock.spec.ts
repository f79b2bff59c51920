import { Logger } from '@nestjs/common';
import { createClient } from '@redis/client';
import { Keyv } from 'keyv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { RedisServer } from '../../test/support/redis-server.js';
import { CacheConfig } from './cache.config.js';
import { CacheKeys } from './cache-keys.js';
import { createRedis, type Redis } from './redis.provider.js';
import { type Lease,ReplicaLock } from './replica-lock.js';

/**
 * The lock is Redis semantics through and through (SET NX PX, a compare-and-delete script, pub/sub),
 * so it runs against a real redis-server: a fake would only restate what the test assumes Redis does.
 * Two ReplicaLock instances on two connections stand for two replicas.
 */

const config = Object.assign(new CacheConfig(), { keyPrefix: 'c360', opTimeoutMs: 1000 });
const ID = '0010100001';
/** The names as the cache derives them (their exact format is stated in cache-keys.spec.ts). */
const KEYS = new CacheKeys('c360');
const KEY = KEYS.lock(ID, 'sap');
const CHANNEL = KEYS.landed(ID, 'sap');

let redis: RedisServer;
let probe: ReturnType<typeof createClient>;
const opened: Redis[] = [];
const locks: ReplicaLock[] = [];

beforeAll(async () => {
  Logger.overrideLogger(false);
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  probe = createClient({ url: redis.url });
  probe.on('error', () => undefined); // some tests kill Redis under it
  await probe.connect();
});
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.onApplicationShutdown();
  for (const client of opened.splice(0)) if (client.isOpen) client.destroy();
  if (probe.isOpen) probe.destroy();
});

/** A replica's lock on its own connection, ready. */
async function replica(options: Partial<CacheConfig> = {}): Promise<ReplicaLock> {
  const client = createRedis(redis.url, new Logger('test'));
  opened.push(client);
  if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  const lock = new ReplicaLock(client, Object.assign(new CacheConfig(), config, options));
  locks.push(lock);
  return lock;
}

function isLease(x: Lease | 'held-elsewhere'): x is Lease {
  return x !== 'held-elsewhere';
}

describe('ReplicaLock against Redis', () => {
  it('the locks of one customer asked for in the same turn go in one round trip, each taken or held elsewhere on its own', async () => {
    const [a, b] = [await replica(), await replica()];
    const held = await a.acquire(ID, 'servicenow', 10_000);
    expect(isLease(held)).toBe(true);
    await probe.configResetStat();
    const leases = await Promise.all(['salesforce', 'sap', 'servicenow'].map((source) => b.acquire(ID, source, 10_000)));
    expect(leases.map((l) => (isLease(l) ? 'lease' : l))).toEqual(['lease', 'lease', 'held-elsewhere']);
    const stats = await probe.info('commandstats');
    expect(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
    expect(/cmdstat_set:calls=(\d+)/.exec(stats)?.[1]).toBe('3'); // inside the script, one per lock
    for (const [i, source] of ['salesforce', 'sap'].entries()) expect(await probe.get(KEYS.lock(ID, source))).toBe((leases[i] as Lease).token);
    expect(await probe.pTTL(KEYS.lock(ID, 'sap'))).toBeGreaterThan(9000);
  });

  it('one holder at a time: the first replica gets the lease, the others hear "held-elsewhere"', async () => {
    const [a, b] = [await replica(), await replica()];
    const lease = await a.acquire(ID, 'sap', 60_000);
    expect(isLease(lease)).toBe(true);
    expect(await b.acquire(ID, 'sap', 60_000)).toBe('held-elsewhere');
    expect(await a.acquire(ID, 'sap', 60_000)).toBe('held-elsewhere'); // not re-entrant either
    expect(isLease(await b.acquire('0010100002', 'sap', 60_000))).toBe(true); // another customer, another lock
  });

  it('a holder\'s answer that landed after this replica read the cache is not called for again: the lock is not taken (read it, as a waiter), unless the part there is stale', async () => {
    const [a, b] = [await replica({ freshTtlMs: 30_000 }), await replica({ freshTtlMs: 30_000 })];
    // what the cache keeps (as SourceCache stores it through Keyv): one part fetched just now, one 29.5 s ago (fresh, but not for long)
    const part = (fetchedAt: number) => new Keyv().serializeData({ value: { found: true, data: {}, fetchedAt }, expires: Date.now() + 60_000 });
    await probe.set(KEYS.part(ID, 'sap'), (await part(Date.now())) as string);
    await probe.set(KEYS.part(ID, 'salesforce'), (await part(Date.now() - 29_500)) as string);
    const lease = await a.acquire(ID, 'sap', 10_000);
    expect(lease).toBe('held-elsewhere');
    expect(await probe.get(KEY)).toBeNull(); // nothing held: no holder will announce anything, the part is there to read
    expect(isLease(await b.acquire(ID, 'salesforce', 10_000))).toBe(true); // stale within a second: called for
    await probe.set(KEYS.part(ID, 'servicenow'), 'not what the cache writes');
    expect(isLease(await b.acquire(ID, 'servicenow', 10_000))).toBe(true);
  });

  it('a caller refreshing ahead takes the lock unless the part there stays fresh for the time it asks', async () => {
    const a = await replica({ freshTtlMs: 30_000 });
    const part = (fetchedAt: number) => new Keyv().serializeData({ value: { found: true, data: {}, fetchedAt }, expires: Date.now() + 60_000 });
    await probe.set(KEYS.part(ID, 'sap'), (await part(Date.now() - 25_000)) as string); // 5 s of freshness left
    await probe.set(KEYS.part(ID, 'salesforce'), (await part(Date.now() - 15_000)) as string); // 15 s left
    const [sap, salesforce] = await Promise.all([a.acquire(ID, 'sap', 10_000, 0, 10_000), a.acquire(ID, 'salesforce', 10_000, 0, 10_000)]);
    expect(isLease(sap)).toBe(true); // due for this caller: it calls
    expect(salesforce).toBe('held-elsewhere'); // fresh for longer than it needs: it reads
  });

  it('the lock expires by itself after the time asked for (a holder that dies frees it)', async () => {
    const a = await replica();
    await a.acquire(ID, 'sap', 60_000);
    const ttl = await probe.pTTL(KEY);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('release deletes the lock and tells the waiting replicas how the call ended', async () => {
    const [holder, waiter] = [await replica(), await replica()];
    const lease = await holder.acquire(ID, 'sap', 60_000);
    if (!isLease(lease)) throw new Error('expected the lease');
    const wait = await waiter.subscribe(ID, 'sap');
    await lease.release('rate_limited');
    expect(await wait.landed).toBe('rate_limited');
    expect(await probe.exists(KEY)).toBe(0);
    wait.cancel();
    expect(isLease(await waiter.acquire(ID, 'sap', 60_000))).toBe(true);
  });

  it('every waiter of a replica hears the message, on one subscription per channel', async () => {
    const [holder, waiter] = [await replica(), await replica()];
    const lease = await holder.acquire(ID, 'sap', 60_000);
    if (!isLease(lease)) throw new Error('expected the lease');
    const waits = await Promise.all([1, 2, 3].map(() => waiter.subscribe(ID, 'sap')));
    expect(await probe.pubSubNumSub(CHANNEL)).toEqual({ [CHANNEL]: 1 });
    await lease.release('ok');
    expect(await Promise.all(waits.map((w) => w.landed))).toEqual(['ok', 'ok', 'ok']);
    for (const w of waits) w.cancel();
  });

  it('release is compare-and-delete: a holder whose lock expired cannot delete the next holder\'s lock', async () => {
    const [a, b] = [await replica(), await replica()];
    const stale = await a.acquire(ID, 'sap', 60_000);
    if (!isLease(stale)) throw new Error('expected the lease');
    await probe.del(KEY); // a's lock expired (as if its call outlived the budget)
    const fresh = await b.acquire(ID, 'sap', 60_000);
    expect(isLease(fresh)).toBe(true);
    const bToken = await probe.get(KEY);
    await stale.release('ok');
    expect(await probe.get(KEY)).toBe(bToken); // b still holds it
    expect(await a.acquire(ID, 'sap', 60_000)).toBe('held-elsewhere');
  });

  it('cancel leaves the channel once the last waiter of the replica is gone', async () => {
    const waiter = await replica();
    const [first, second] = [await waiter.subscribe(ID, 'sap'), await waiter.subscribe(ID, 'sap')];
    first.cancel();
    expect(await probe.pubSubNumSub(CHANNEL)).toEqual({ [CHANNEL]: 1 });
    second.cancel();
    // the UNSUBSCRIBE travels on the replica's own connection: wait (bounded) until Redis has it
    await vi.waitFor(async () => expect(await probe.pubSubNumSub(CHANNEL)).toEqual({ [CHANNEL]: 0 }), { timeout: 5000, interval: 10 });
  });

  it('a message that lands for a channel nobody waits on wakes nobody', async () => {
    const waiter = await replica();
    const wait = await waiter.subscribe(ID, 'sap');
    let outcome: string | undefined;
    void wait.landed.then((o) => (outcome = o));
    await probe.publish(KEYS.landed('0010100002', 'sap'), 'ok');
    await probe.publish(CHANNEL, 'timeout'); // sent after, on the same connection: it arrives after
    await wait.landed;
    expect(outcome).toBe('timeout');
    wait.cancel();
  });

  it('shutdown closes the subscriber connection', async () => {
    const waiter = await replica();
    const wait = await waiter.subscribe(ID, 'sap');
    const before = ((await probe.clientList()) as Array<unknown>).length;
    await waiter.onApplicationShutdown();
    await vi.waitFor(async () => expect(((await probe.clientList()) as Array<unknown>).length).toBe(before - 1), { timeout: 5000, interval: 10 });
    wait.cancel();
  });
});

describe('ReplicaLock fails open', () => {
  it('without Redis (REDIS_URL unset): every acquire is a lease, a wait ends at once as "unknown"', async () => {
    const lock = new ReplicaLock(null, config);
    const [a, b] = [await lock.acquire('1', 'sap', 1000), await lock.acquire('1', 'sap', 1000)];
    expect(isLease(a) && isLease(b)).toBe(true);
    await expect(isLease(a) ? a.release('ok') : undefined).resolves.toBeUndefined();
    expect(await (await lock.subscribe('1', 'sap')).landed).toBe('unknown');
  });

  it('with Redis down: every replica proceeds (a lease that releases quietly)', async () => {
    const [a, b] = [await replica(), await replica()];
    await redis.kill();
    const [la, lb] = [await a.acquire(ID, 'sap', 60_000), await b.acquire(ID, 'sap', 60_000)];
    expect(isLease(la) && isLease(lb)).toBe(true);
    await expect(isLease(la) ? la.release('ok') : undefined).resolves.toBeUndefined();
  });

  it('with Redis too slow to answer within CACHE_OP_TIMEOUT_MS: proceeds without the lock', async () => {
    const a = await replica({ opTimeoutMs: 50 });
    const blocker = createClient({ url: redis.url });
    await blocker.connect();
    let redisAwake = false;
    const sleeping = blocker.sendCommand(['DEBUG', 'SLEEP', '1']).then(() => (redisAwake = true));
    const lease = await a.acquire(ID, 'sap', 60_000);
    expect(redisAwake).toBe(false); // decided while Redis was still blocked
    expect(isLease(lease)).toBe(true);
    await sleeping;
    await blocker.close();
  });

  it('with Redis slow but answering within the patience given: its answer decides — held elsewhere is a wait, not a call', async () => {
    const holder = await replica();
    const held = await holder.acquire(ID, 'sap', 60_000);
    expect(isLease(held)).toBe(true);
    const busy = await replica({ opTimeoutMs: 50 });
    const blocker = createClient({ url: redis.url });
    await blocker.connect();
    const sleeping = blocker.sendCommand(['DEBUG', 'SLEEP', '0.3']);
    expect(await busy.acquire(ID, 'sap', 60_000, 5000)).toBe('held-elsewhere');
    await sleeping;
    await blocker.close();
  });

  it('past the patience it proceeds; a SET that lands after all is its lock, released as usual', async () => {
    const busy = await replica({ opTimeoutMs: 50 });
    const blocker = createClient({ url: redis.url });
    await blocker.connect();
    const sleeping = blocker.sendCommand(['DEBUG', 'SLEEP', '0.5']);
    const lease = await busy.acquire(ID, 'sap', 60_000, 100);
    expect(isLease(lease)).toBe(true);
    await sleeping;
    await blocker.close();
    expect(await probe.get(KEY)).not.toBeNull(); // the late SET landed: this replica holds the lock
    const heard: string[] = [];
    const listener = probe.duplicate();
    await listener.connect();
    await listener.subscribe(CHANNEL, (m) => heard.push(m));
    if (isLease(lease)) await lease.release('ok');
    expect(await probe.get(KEY)).toBeNull();
    await vi.waitFor(() => expect(heard).toEqual(['ok']));
    await listener.close();
  });

  it('a lease whose lock is not held (its SET never landed, or it expired) tells nobody: the holder\'s waiters keep waiting', async () => {
    const [a, b] = [await replica(), await replica()];
    const stale = await a.acquire(ID, 'sap', 1);
    await vi.waitFor(async () => expect(await probe.get(KEY)).toBeNull());
    const current = await b.acquire(ID, 'sap', 60_000);
    expect(isLease(current)).toBe(true);
    const heard: string[] = [];
    const listener = probe.duplicate();
    await listener.connect();
    await listener.subscribe(CHANNEL, (m) => heard.push(m));
    if (isLease(stale)) await stale.release('ok');
    if (isLease(current)) await current.release('timeout');
    await vi.waitFor(() => expect(heard).toEqual(['timeout']));
    await listener.close();
  });
});
