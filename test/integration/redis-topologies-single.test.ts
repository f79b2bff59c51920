/**
 * The Redis behaviour tests (test/support/redis-topology-suite.ts) against one plain Redis server
 * (REDIS_URL=redis://…): the baseline the other topologies are held to.
 */
import { RedisServer } from '../support/redis-server.js';
import { describeTopology } from '../support/redis-topology-suite.js';

describeTopology('one Redis server (redis://)', async () => {
  const server = await RedisServer.start();
  return {
    env: { REDIS_URL: server.url },
    aclNodes: () => [], // no ACL user here: the other topologies check the grants
    flush: () => server.flush(),
    stop: () => server.stop(),
  };
});
