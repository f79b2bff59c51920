/**
 * The shared Redis moved to src/redis/ (the ground layer); these names stay importable from here
 * so that code written against the old place keeps compiling.
 */
export type { Redis } from '../redis/redis.client.js';
export { createRedis, REDIS, RedisModule } from '../redis/redis.module.js';
