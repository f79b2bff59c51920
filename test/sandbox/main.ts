/**
 * `npm run sandbox`: the four simulators on fixed ports and the service wired to them.
 * `npm run sandbox -- --replicas 3`: the service as three processes (ports 3000–3002) sharing one
 * Redis, as replicas do in Kubernetes (a private redis-server, unless the environment names one).
 * The service's own settings can still be overridden with environment variables, among them any
 * Redis topology: REDIS_URL=redis://127.0.0.1:6379 (or rediss:// with REDIS_TLS_CA_FILE…),
 * REDIS_SENTINELS + REDIS_SENTINEL_MASTER, or REDIS_CLUSTER_NODES (with REDIS_USERNAME/REDIS_PASSWORD).
 */
import { loadConfig } from '../../src/app.config.js';
import { createApp } from '../../src/app.factory.js';
import { type RedisConfig, redisConnectionSettings } from '../../src/redis/redis.config.js';
import { DEMO_CONVERSATION, SANDBOX_QUEUE } from './genesys/genesys.data.js';
import { type Replicas, startReplicas } from './replicas.js';
import { SANDBOX_CREDENTIALS, SANDBOX_INBOUND } from './shared/credentials.js';
import { DEMO, demoCustomer } from './shared/seed.js';
import { SANDBOX_PORTS, sandboxEnv, startSimulators, stopSimulators } from './simulators.js';

/** `--replicas N` (1–9; default 1). */
function replicaCount(argv: string[]): number {
  const at = argv.indexOf('--replicas');
  if (at < 0) return 1;
  const n = Number(argv[at + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error('--replicas takes a number from 1 to 9');
  return n;
}

async function main(): Promise<void> {
  const sims = await startSimulators(SANDBOX_PORTS);
  // the side panel signs the demo agent in with PKCE against the simulated login host
  const panel = { INTERNAL_AUTH: 'jwt,genesys-agent', WIDGET_OAUTH_CLIENT_ID: SANDBOX_CREDENTIALS.genesys.panelClientId };
  // the service follows the simulated queues and pre-fetches each caller placed into one
  const notifications = { GENESYS_NOTIFICATIONS_ENABLED: 'true' };
  const env = { ...sandboxEnv(sims, { PORT: String(SANDBOX_PORTS.service), HOST: '127.0.0.1', LOG_LEVEL: 'info', PUBLIC_BASE_URL: `http://127.0.0.1:${SANDBOX_PORTS.service}`, ...panel, ...notifications }), ...pick(process.env) };
  const config = loadConfig(env);
  const count = replicaCount(process.argv.slice(2));
  for (let i = 0; i < count; i++) sims.genesys.allowRedirectUri(`http://127.0.0.1:${config.server.port + i}/widget`);
  let replicas: Replicas | undefined;
  let app: Awaited<ReturnType<typeof createApp>>['app'] | undefined;
  if (count > 1) {
    replicas = await startReplicas(count, config.server.port, env, describeRedis(config.redis));
  } else {
    app = (await createApp(config)).app;
    await app.listen({ port: config.server.port, host: config.server.host });
  }
  const base = `http://127.0.0.1:${config.server.port}`;
  // tokens from the service's own token endpoint (as Genesys would get one): one for the internal
  // API, and a read-only one for the agent side panel, which carries it in the URL fragment
  const mint = async (scope?: string) =>
    (await (
      await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SANDBOX_INBOUND.clientId, client_secret: SANDBOX_INBOUND.clientSecret, ...(scope ? { scope } : {}) }).toString(),
      })
    ).json()) as { access_token: string; expires_in: number };
  const issued = await mint();
  const widgetToken = (await mint('customer:read')).access_token;
  const widget = (query: string) => `${base}/widget?${query}#access_token=${widgetToken}`;
  process.stdout.write(`
Customer 360 sandbox is running (cache: ${replicas ? `${replicas.redis}, shared by ${count} replicas` : describeRedis(config.redis)}).

  Service            ${base}        (Swagger UI ${base}/docs)${replicas ? `\n  Replicas           ${replicas.urls.join('  ')}` : ''}
  Salesforce sim     ${sims.salesforce.url}
  SAP S/4HANA sim    ${sims.sap.url}
  ServiceNow sim     ${sims.servicenow.url}
  Genesys Cloud sim  ${sims.genesys.url}

Credentials (sandbox only):
  internal API   export TOKEN=${issued.access_token}
                 (valid ${issued.expires_in / 60} min; more from POST ${base}/oauth/token with client_id=${SANDBOX_INBOUND.clientId} client_secret=${SANDBOX_INBOUND.clientSecret})
  Genesys action x-api-key: ${SANDBOX_INBOUND.apiKey}   (or the same Bearer token)

Agent side panel as Genesys opens it (no token in the link: the page signs the demo agent in with PKCE):
  by Genesys call     ${base}/widget?gcConversationId=${DEMO_CONVERSATION.healthyCaller}&gcTargetEnv=prod&gcLangTag=en-US
Or with a read-only token in the #fragment (valid ${issued.expires_in / 60} min), as a script would:
  by customer id      ${widget(`customerId=${DEMO.healthy}`)}
  by caller's phone   ${widget(`phone=${encodeURIComponent(demoCustomer(DEMO.apostrophe).phone)}`)}
  three currencies    ${widget(`customerId=${DEMO.multiCurrency}`)}
  by Genesys call     ${widget(`gcConversationId=${DEMO_CONVERSATION.healthyCaller}&gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.com&gcTargetEnv=prod`)}

Try:
  curl -s ${base}/v1/customers/${DEMO.healthy} -H "authorization: Bearer $TOKEN"
  curl -s '${base}/v1/customers?phone=%2B14155550100' -H "authorization: Bearer $TOKEN"
  curl -s -X POST ${base}/genesys/v1/customer-lookup -H 'content-type: application/json' -H 'x-api-key: ${SANDBOX_INBOUND.apiKey}' -d '{"phone":"+1 415-555-0100"}'
  curl -s ${base}/genesys/v1/data-action            # importable data action definition
  curl -s -X PUT ${sims.sap.url}/__sim/faults -d '{"latencyMs":2000}'   # make SAP slow
  curl -s -X DELETE ${sims.sap.url}/__sim/faults                      # and healthy again
  curl -s ${sims.sap.url}/__sim/calls                                 # what reached SAP

A caller waits in a queue; the service pre-fetches them before an agent answers (log line "caller pre-fetched while in queue"):
  CALL=$(curl -s -X POST ${sims.genesys.url}/__sim/inbound-calls -d '{"ani":"tel:${demoCustomer(DEMO.healthy).phone}","queueId":"${SANDBOX_QUEUE.customerCare}"}' | sed -E 's/.*"conversationId":"([^"]+)".*/\\1/')
  curl -s ${base}/v1/conversations/$CALL/customer -H "authorization: Bearer $TOKEN"   # every source "cache":"hit", no Genesys call
  curl -s -X POST ${sims.genesys.url}/__sim/inbound-calls/$CALL/answer               # the agent answers
  echo "${base}/widget?gcConversationId=$CALL&gcTargetEnv=prod"                      # the side panel, as Genesys opens it
  curl -s -X POST ${sims.genesys.url}/__sim/inbound-calls/$CALL/disconnect           # hang up: refresh-ahead stops
  curl -s ${sims.genesys.url}/__sim/notifications                                    # channels, subscriptions, events sent

Press Ctrl+C to stop.
`);
  const stop = async () => {
    await app?.close();
    await replicas?.stop();
    await stopSimulators(sims);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** The configured Redis for the banner, without credentials. */
function describeRedis(redis: RedisConfig): string {
  const settings = redisConnectionSettings(redis);
  if (!settings) return 'in-memory';
  switch (settings.topology) {
    case 'single': {
      const url = new URL(settings.url);
      return `Redis ${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    }
    case 'sentinel':
      return `Redis Sentinel "${settings.masterName}" via ${redis.sentinels.join(',')}${settings.tls ? ' (TLS)' : ''}`;
    case 'cluster':
      return `Redis Cluster via ${redis.clusterNodes.join(',')}${settings.tls ? ' (TLS)' : ''}`;
  }
}

/** Service settings given on the command line's environment win over the sandbox defaults. */
function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && /^(REDIS_|LOG_LEVEL|PORT|CACHE_|AGGREGATION_|SALESFORCE_|SAP_|SERVICENOW_|GENESYS_|PREFETCH_|DEFAULT_PHONE_REGION|INTERNAL_AUTH|THROTTLE_|BREAKER_|RETRY_|RATE_LIMIT_|BULKHEAD_|EXPECTED_REPLICAS|JWT_|TOKEN_|WIDGET_)/.test(k)) out[k] = v;
  }
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`Sandbox failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
