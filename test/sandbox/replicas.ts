import { generateKeyPairSync } from 'node:crypto';

import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess,spawnService } from '../support/service-process.js';

export interface Replicas {
  urls: string[];
  /** The Redis they share, for the banner (no credentials). */
  redis: string;
  stop(): Promise<void>;
}

/** The Redis topology settings: any of them means "use that Redis". */
const TOPOLOGY_SETTINGS = ['REDIS_URL', 'REDIS_URL_FILE', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'];

/**
 * `npm run sandbox -- --replicas 3`: the service as N separate processes on consecutive ports,
 * sharing one Redis and one JWT signing key, the way several pods share them in Kubernetes. The
 * Redis is the one the environment names (REDIS_URL, REDIS_SENTINELS… or REDIS_CLUSTER_NODES…,
 * passed on to every replica as given), else a private redis-server started here. Their log lines
 * are shown as they come.
 */
export async function startReplicas(count: number, firstPort: number, env: Record<string, string | undefined>, described: string): Promise<Replicas> {
  const ownRedis = TOPOLOGY_SETTINGS.some((name) => env[name]) ? undefined : await RedisServer.start();
  const redis = ownRedis ? `redis://127.0.0.1:${ownRedis.port} (started for the sandbox)` : described;
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const processes: ServiceProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = firstPort + i;
      processes.push(
        await spawnService(
          { ...env, ...(ownRedis ? { REDIS_URL: ownRedis.url } : {}), EXPECTED_REPLICAS: String(count), JWT_SIGNING_KEY: signingKey, PUBLIC_BASE_URL: `http://127.0.0.1:${firstPort}` },
          { port, echo: process.stdout },
        ),
      );
    }
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop()));
    await ownRedis?.stop();
    throw err;
  }
  return {
    urls: processes.map((p) => p.url),
    redis,
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop('SIGTERM')));
      await ownRedis?.stop();
    },
  };
}
