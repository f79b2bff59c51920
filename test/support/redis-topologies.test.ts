import { createConnection } from 'node:net';

import { createClient, createCluster, createSentinel } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { CacheKeys } from '../../src/cache/cache-keys.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { RedisClusterTopology, RedisSentinelTopology, RedisTlsServer } from './redis-topologies.js';
import { type ServiceProcess,spawnService } from './service-process.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from './test-app.js';

/** What a plain-TCP client gets from a port: the first reply, or how the connection ended without one. */
function plainPing(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().trim());
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.once('close', () => resolve('closed without a reply'));
  });
}

/** The message of the error `promise` rejects with (a test fails if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a refusal, got an answer');
}

/** Subscribes through `subscribe`; `message` resolves with the first message that arrives. */
function firstMessage(subscribe: (listener: (message: string) => void) => Promise<void>): { subscribed: Promise<void>; message: Promise<string> } {
  let received!: (message: string) => void;
  const message = new Promise<string>((resolve) => (received = resolve));
  return { subscribed: subscribe((m) => received(m)), message };
}

describe('Redis Cluster topology (3 masters, 3 replicas)', () => {
  let cluster: RedisClusterTopology;
  let client: ReturnType<typeof createCluster>;

  beforeAll(async () => {
    cluster = await RedisClusterTopology.start();
    // as the service connects: commands fail at once while a node is unreachable, rather than queue
    client = createCluster({ rootNodes: cluster.rootNodes, defaults: { ...cluster.users!.service, disableOfflineQueue: true } });
    client.on('error', () => undefined); // a killed master's connection reports here; the failover test states what matters
    await client.connect();
  });
  afterAll(async () => {
    client?.destroy();
    await cluster?.stop();
  });

  it('serves keys spread over several masters, as the service user', async () => {
    const masters = await cluster.view().then((v) => v.filter((n) => n.flags.includes('master')));
    expect(masters).toHaveLength(3);
    expect(cluster.nodeList.split(',')).toHaveLength(6);
    const keys = ['c360:a', 'c360:b', 'c360:c', 'c360:d', 'c360:e'];
    for (const key of keys) await client.set(key, `v-${key}`);
    for (const key of keys) expect(await client.get(key)).toBe(`v-${key}`);
    const owners = new Set(await Promise.all(keys.map(async (k) => (await cluster.masterOf(k)).port)));
    expect(owners.size).toBeGreaterThan(1);
  });

  it('runs one EVAL over keys that share a hash tag, and refuses it over keys in different slots', async () => {
    const script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2])";
    expect(await client.eval(script, { keys: ['c360:{cust-1}:a', 'c360:{cust-1}:b'], arguments: ['both'] })).toEqual(['both', 'both']);
    expect(await refusal(client.eval(script, { keys: ['c360:a', 'c360:b'], arguments: ['x'] }))).toMatch(/CROSSSLOT/);
  });

  it('delivers sharded pub/sub (SSUBSCRIBE/SPUBLISH) on the service prefix', async () => {
    const subscriber = client.duplicate();
    subscriber.on('error', () => undefined);
    await subscriber.connect();
    try {
      const { subscribed, message } = firstMessage((listener) => subscriber.sSubscribe('c360:{cust-1}:landed', listener));
      await subscribed;
      expect(await client.sPublish('c360:{cust-1}:landed', 'fresh')).toBe(1);
      expect(await message).toBe('fresh');
    } finally {
      subscriber.destroy();
    }
  });

  it('fails a killed master over to its replica, which has the data; the old master returns as its replica', async () => {
    const key = 'c360:{failover}:k';
    const master = await cluster.masterOf(key);
    // written as the admin, on one connection with WAIT: the replica has it before the master dies
    expect(await master.commands([['SET', key, 'before'], ['WAIT', '1', '2000']])).toEqual(['OK', 1]);
    const replicas = await cluster.replicasOf(master);

    const { killed, promoted } = await cluster.killMaster(master);

    expect(killed).toBe(master);
    expect(replicas).toContain(promoted);
    expect(await cluster.masterOf(key)).toBe(promoted);
    // a client that discovers the cluster now reaches the new master, which has the data
    const fresh = createCluster({ rootNodes: cluster.rootNodes, defaults: { ...cluster.users!.service, disableOfflineQueue: true } });
    fresh.on('error', () => undefined);
    await fresh.connect();
    try {
      expect(await fresh.get(key)).toBe('before');
      await fresh.set(key, 'after');
    } finally {
      fresh.destroy();
    }
    expect(await promoted.command(['GET', key])).toBe('after');
    // A client connected before the failover does not follow by itself: node-redis 5 rediscovers the
    // slots only on a MOVED/ASK reply (redis/node-redis#2806, open), and a dead master sends none.
    // The service has to make it rediscover (or reconnect) itself.
    expect(await refusal(client.get(key))).toMatch(/offline/i);

    await cluster.restart(killed);

    const view = await cluster.view(promoted);
    const promotedId = view.find((n) => n.port === promoted.port)!.id;
    expect(view.find((n) => n.port === killed.port)).toMatchObject({ flags: ['slave'], masterId: promotedId });
    // once the old master answers again, as a replica, its MOVED reply makes the connected client
    // rediscover and follow (as soon as its own reconnect to that node has come round: no event says so)
    await vi.waitFor(async () => expect(await client.get(key)).toBe('after'), { timeout: 10_000, interval: 100 });
  });
});

describe('Redis Sentinel topology (a primary, a replica, 3 Sentinels)', () => {
  let topology: RedisSentinelTopology;
  let sentinel: ReturnType<typeof createSentinel>;

  beforeAll(async () => {
    topology = await RedisSentinelTopology.start();
    sentinel = createSentinel({ name: topology.masterName, sentinelRootNodes: topology.sentinelRootNodes, nodeClientOptions: { ...topology.users!.service, disableOfflineQueue: true } });
    sentinel.on('error', () => undefined); // the killed primary's connection reports here
    await sentinel.connect();
  });
  afterAll(async () => {
    await sentinel?.destroy();
    await topology?.stop();
  });

  it('serves SET/GET and pub/sub through the Sentinels, as the service user', async () => {
    expect(topology.sentinelList.split(',')).toHaveLength(3);
    expect(topology.dataNodes).toContain(await topology.primary());
    await sentinel.set('c360:s', 'v');
    expect(await sentinel.get('c360:s')).toBe('v');
    const { subscribed, message } = firstMessage((listener) => sentinel.subscribe('c360:landed', listener));
    await subscribed;
    await sentinel.publish('c360:landed', 'hello');
    expect(await message).toBe('hello');
  });

  it('promotes the replica when the primary is killed (+switch-master); the client follows; the old primary returns as a replica', async () => {
    const first = await topology.primary();
    const replica = topology.dataNodes.find((n) => n !== first)!;
    // written as the admin, on one connection with WAIT: the replica has it before the primary dies
    expect(await first.commands([['SET', 'c360:failover', 'before'], ['WAIT', '1', '2000']])).toEqual(['OK', 1]);
    const followed = new Promise<void>((resolve) =>
      sentinel.on('topology-change', (event: { type: string; node?: { port: number } }) => {
        if (event.type === 'MASTER_CHANGE' && event.node?.port === replica.port) resolve();
      }),
    );

    const { killed, promoted } = await topology.killPrimary();

    expect(killed).toBe(first);
    expect(promoted).toBe(replica);
    expect(await topology.primary()).toBe(replica);
    await followed;
    expect(await sentinel.get('c360:failover')).toBe('before');
    await sentinel.set('c360:failover', 'after');
    expect(await replica.command(['GET', 'c360:failover'])).toBe('after');

    await topology.restart(killed);
    expect((await killed.info('replication')).get('role')).toBe('slave');
    expect((await killed.info('replication')).get('master_port')).toBe(String(replica.port));
  });
});

describe('Redis over TLS with an ACL user', () => {
  let server: RedisTlsServer;

  beforeAll(async () => {
    server = await RedisTlsServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const connect = async (url: string, socket: object) => {
    const client = createClient({ url, socket: { ...socket, reconnectStrategy: false }, disableOfflineQueue: true });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  it('serves the service user over rediss:// with the test CA', async () => {
    expect(server.url).toMatch(new RegExp(`^rediss://c360:[^@]+@127\\.0\\.0\\.1:${server.port}$`));
    const client = await connect(server.url, server.tlsSocket({ clientCertificate: false }));
    try {
      await client.set('c360:tls', 'v', { PX: 60_000 });
      expect(await client.get('c360:tls')).toBe('v');
      expect(await client.eval("return redis.call('INCR', KEYS[1])", { keys: ['c360:count'] })).toBe(1);
      const subscriber = client.duplicate();
      subscriber.on('error', () => undefined);
      await subscriber.connect();
      const { subscribed, message } = firstMessage((listener) => subscriber.subscribe('c360:landed', listener));
      await subscribed;
      expect(await client.publish('c360:landed', 'hi')).toBe(1);
      expect(await message).toBe('hi');
      subscriber.destroy();
    } finally {
      client.destroy();
    }
  });

  it('refuses the service user commands, keys and channels outside its permissions', async () => {
    const client = await connect(server.url, server.tlsSocket());
    try {
      expect(await refusal(client.flushAll())).toMatch(/^NOPERM/);
      expect(await refusal(client.configGet('*'))).toMatch(/^NOPERM/);
      expect(await refusal(client.keys('c360:*'))).toMatch(/^NOPERM/);
      expect(await refusal(client.set('other:key', 'v'))).toMatch(/^NOPERM/);
      expect(await refusal(client.publish('other', 'v'))).toMatch(/^NOPERM/);
      // a script is held to the same user: it cannot reach a key or a command outside the grant
      expect(await refusal(client.eval("return redis.call('SET', 'other:key', 'v')", { keys: ['c360:x'] }))).toMatch(/can't access at least one of the keys/);
      expect(await refusal(client.eval("return redis.call('FLUSHALL')", { keys: ['c360:x'] }))).toMatch(/can't run this command/);
    } finally {
      client.destroy();
    }
  });

  it('has the default user off, and refuses a wrong password', async () => {
    const anonymous = await connect(`rediss://127.0.0.1:${server.port}`, server.tlsSocket());
    try {
      expect(await refusal(anonymous.ping())).toMatch(/^NOAUTH/);
    } finally {
      anonymous.destroy();
    }
    expect(await refusal(connect(`rediss://c360:wrong@127.0.0.1:${server.port}`, server.tlsSocket()))).toMatch(/^WRONGPASS/);
  });

  it('refuses a plain connection, and a client that does not trust the test CA', async () => {
    expect(await plainPing(server.port)).toMatch(/^(ECONNRESET|closed without a reply)$/);
    expect(await refusal(connect(server.url, { tls: true }))).toMatch(/certificate/i);
  });

  it('with client certificates required, refuses a client without one and serves a client with one', async () => {
    const mutual = await RedisTlsServer.start({ clientCertificates: 'required' });
    try {
      const withoutCertificate = refusal(
        connect(mutual.url, mutual.tlsSocket({ clientCertificate: false })).then(async (c) => {
          try {
            return await c.ping();
          } finally {
            c.destroy();
          }
        }),
      );
      expect(await withoutCertificate).toMatch(/certificate/i);
      const client = await connect(mutual.url, mutual.tlsSocket());
      expect(await client.ping()).toBe('PONG');
      client.destroy();
    } finally {
      await mutual.stop();
    }
  });
});

describe('the service against Redis over TLS as its ACL user', () => {
  let server: RedisTlsServer;
  let sims: Simulators;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    [server, sims] = await Promise.all([RedisTlsServer.start(), startSimulators()]);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([server?.stop(), sims && stopSimulators(sims)]);
  });

  it('caches and serves a look-up from Redis with no command refused (ACL LOG stays empty)', async () => {
    // the test CA reaches the service through Node's own variable: no service setting is needed for rediss://
    service = await spawnService(sandboxEnv(sims, { REDIS_URL: server.url, NODE_EXTRA_CA_CERTS: server.caFile, ...GENEROUS_LIMITS, ...OPEN_AUTH }));
    const admin = createClient({ url: server.adminUrl, socket: server.tlsSocket({ clientCertificate: false }) });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      // every source's answer is stored, and its lock released, before the second look-up: the replicas' own "landed" messages
      let landed = 0;
      let allLanded!: () => void;
      const stored = new Promise<void>((resolve) => (allLanded = resolve));
      const subscriber = admin.duplicate();
      subscriber.on('error', () => undefined);
      await subscriber.connect();
      await subscriber.pSubscribe(new CacheKeys('c360').landed(DEMO.healthy, '*'), () => {
        if (++landed === 3) allLanded();
      });

      // what Redis refused the service's user, if anything ("<reason> <command or key>")
      const refused = async () => ((await admin.sendCommand(['ACL', 'LOG'])) as unknown[]).map((entry) => {
        const fields = new Map<string, string>();
        const list = (entry as unknown[]).map(String);
        for (let i = 0; i + 1 < list.length; i += 2) fields.set(list[i], list[i + 1]);
        return `${fields.get('reason')} ${fields.get('object')}`;
      });

      expect((await fetch(`${service.url}/v1/customers/${DEMO.healthy}`)).status).toBe(200);
      let timer: NodeJS.Timeout | undefined;
      const landedInTime = await Promise.race([stored.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)))]);
      clearTimeout(timer);
      expect(await refused()).toEqual([]); // first: a refused command explains a missing landing
      expect(landedInTime).toBe(true);
      const calls = sims.salesforce.callCount('query');
      expect(calls).toBeGreaterThan(0);
      expect((await fetch(`${service.url}/v1/customers/${DEMO.healthy}`)).status).toBe(200);
      expect(sims.salesforce.callCount('query')).toBe(calls); // a hit: served from Redis
      expect((await fetch(`${service.url}/v1/customers?phone=%2B14155550100`)).status).toBe(200);

      expect(await refused()).toEqual([]);
      const keys = (await admin.keys('*')) as string[];
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.startsWith('c360:'))).toEqual([]);
      expect(service.output()).not.toMatch(/redis unavailable/);
    } finally {
      admin.destroy();
    }
  });
});
