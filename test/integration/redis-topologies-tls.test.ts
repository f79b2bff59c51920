/**
 * The Redis behaviour tests (test/support/redis-topology-suite.ts) against a Redis that speaks TLS
 * only, requires a client certificate (mutual TLS) and knows the service only as its ACL user. The
 * service gets what production gives it: a rediss:// URL with the user and password, and the CA,
 * client certificate and key as mounted files (REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE).
 */
import { RedisTlsServer } from '../support/redis-topologies.js';
import { describeTopology } from '../support/redis-topology-suite.js';

describeTopology('Redis over mutual TLS with an ACL user (rediss://)', async () => {
  const server = await RedisTlsServer.start({ clientCertificates: 'required' });
  return {
    env: { REDIS_URL: server.url, REDIS_TLS_CA_FILE: server.caFile, REDIS_TLS_CERT_FILE: server.clientCertFile, REDIS_TLS_KEY_FILE: server.clientKeyFile },
    aclNodes: () => [server.node],
    flush: () => server.flush(),
    stop: () => server.stop(),
  };
});
