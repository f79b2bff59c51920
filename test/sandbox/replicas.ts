import { generateKeyPairSync } from 'node:crypto';

import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess,spawnService } from '../support/service-process.js';

export interface Replicas {
  urls: string[];
  redisUrl: string;
  stop(): Promise<void>;
}

/**
 * `npm run sandbox -- --replicas 3`: the service as N separate processes on consecutive ports,
 * sharing one Redis (REDIS_URL, or a private redis-server started here) and one JWT signing key,
 * the way several pods share them in Kubernetes. Their log lines are shown as they come.
 */
export async function startReplicas(count: number, firstPort: number, env: Record<string, string | undefined>): Promise<Replicas> {
  const ownRedis = env.REDIS_URL ? undefined : await RedisServer.start();
  const redisUrl = ownRedis ? ownRedis.url : (env.REDIS_URL as string);
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const processes: ServiceProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = firstPort + i;
      processes.push(
        await spawnService(
          { ...env, REDIS_URL: redisUrl, EXPECTED_REPLICAS: String(count), JWT_SIGNING_KEY: signingKey, PUBLIC_BASE_URL: `http://127.0.0.1:${firstPort}` },
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
    redisUrl,
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop('SIGTERM')));
      await ownRedis?.stop();
    },
  };
}
