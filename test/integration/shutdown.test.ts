import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEMO_CUSTOMERS } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess,spawnService } from '../support/service-process.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';

let sims: Simulators;
let redis: RedisServer;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  [sims, redis] = await Promise.all([startSimulators(), RedisServer.start()]);
});
afterAll(async () => {
  await stopSimulators(sims);
  await redis.stop();
});
beforeEach(async () => {
  resetSimulators(sims);
  await redis.flush(); // up (a test that kills it may have failed half way) and empty
});
afterEach(async () => {
  await service?.stop('SIGKILL');
  service = undefined;
});

async function start(env: Record<string, string>): Promise<{ svc: ServiceProcess; management: string }> {
  const managementPort = await freePort();
  const svc = await spawnService(sandboxEnv(sims, { REDIS_URL: redis.url, ...GENEROUS_LIMITS, ...OPEN_AUTH, RETRY_MAX_ATTEMPTS: '1', MANAGEMENT_PORT: String(managementPort), ...env }));
  service = svc;
  return { svc, management: `http://127.0.0.1:${managementPort}` };
}

type Outcome = { status: number; sap?: string } | { error: string };

function lookup(url: string, customerId: string): Promise<Outcome> {
  return fetch(`${url}/v1/customers/${customerId}`)
    .then(async (r) => ({ status: r.status, sap: ((await r.json()) as { sources?: { sap?: { status: string } } }).sources?.sap?.status }))
    .catch((err: unknown) => ({ error: String((err as Error).cause ?? err) }));
}

describe('graceful shutdown', () => {
  it('SIGTERM under load: readiness turns 503 at once, every request in flight is answered in full, and the process exits 0', async () => {
    // one SAP read per customer (no batching), so the test can see all 30 inside the service
    const { svc, management } = await start({ SHUTDOWN_GRACE_MS: '15000', AGGREGATION_DEADLINE_MS: '5000', SAP_TIMEOUT_MS: '4000', SAP_BATCH_MAX_CUSTOMERS: '1' });
    expect((await fetch(`${management}/health/ready`)).status).toBe(200);
    sims.sap.setFaults({ latencyMs: 1500 }); // every request below is held in flight by SAP
    const customers = DEMO_CUSTOMERS.slice(0, 30).map((c) => c.customerId);
    const inFlight = customers.map((id) => lookup(svc.url, id));
    await sims.sap.whenCallsAtLeast(customers.length, 'customer'); // all 30 are inside the service, waiting on SAP

    svc.child.kill('SIGTERM');
    await svc.whenOutput('shutdown: readiness 503');
    const ready = await fetch(`${management}/health/ready`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${management}/health/live`)).status).toBe(200);

    const outcomes = await Promise.all(inFlight);
    expect(outcomes.filter((o) => !('status' in o) || o.status !== 200)).toEqual([]);
    expect(outcomes.map((o) => ('sap' in o ? o.sap : 'none'))).toEqual(customers.map(() => 'ok')); // complete answers, not cut short
    expect(await svc.exited).toBe(0);
    const log = svc.output();
    expect(log).toContain('shutdown complete');
    expect(log).not.toContain('grace period over');
    // a new connection after the drain is refused: the port is closed, nothing half-answers
    expect(await lookup(svc.url, customers[0])).toHaveProperty('error');
  });

  it('stops waiting after SHUTDOWN_GRACE_MS: requests still running then are cut, and the process still exits 0', async () => {
    const { svc } = await start({ SHUTDOWN_GRACE_MS: '200', AGGREGATION_DEADLINE_MS: '20000', AGGREGATION_LATE_COMPLETION_MS: '0', SAP_TIMEOUT_MS: '20000' });
    sims.sap.setFaults({ latencyMs: 15_000 });
    const stuck = lookup(svc.url, DEMO_CUSTOMERS[40].customerId);
    await sims.sap.whenCallsAtLeast(1);
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    expect(svc.output()).toContain('grace period over');
    expect(await stuck).toHaveProperty('error');
  });

  it('with SHUTDOWN_DELAY_MS, keeps accepting new connections after readiness turns 503, then exits 0', async () => {
    const { svc, management } = await start({ SHUTDOWN_DELAY_MS: '3000', SHUTDOWN_GRACE_MS: '5000' });
    svc.child.kill('SIGTERM');
    await svc.whenOutput('shutdown: readiness 503');
    expect((await fetch(`${management}/health/ready`)).status).toBe(503);
    // a balancer that has not noticed yet still gets its request served, on a new connection
    const late = await fetch(`${svc.url}/v1/customers/${DEMO_CUSTOMERS[1].customerId}`, { headers: { connection: 'close' } });
    expect(late.status).toBe(200);
    expect(late.headers.get('connection')).toBe('close');
    expect(await svc.exited).toBe(0);
  });

  it('serves only probes and metrics on the management port', async () => {
    const { management } = await start({});
    expect((await fetch(`${management}/metrics`)).headers.get('content-type')).toContain('text/plain');
    expect((await fetch(`${management}/health/live`)).status).toBe(200);
    const other = await fetch(`${management}/v1/customers/${DEMO_CUSTOMERS[0].customerId}`);
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain(DEMO_CUSTOMERS[0].name);
  });
});

describe('readiness and Redis', () => {
  it('a new process is not ready until Redis has answered once; afterwards an outage keeps it ready', async () => {
    await redis.kill();
    const { svc, management } = await start({});
    const before = await fetch(`${management}/health/ready`);
    expect(before.status).toBe(503);
    expect(((await before.json()) as { details: Record<string, unknown> }).details.cache).toMatchObject({ status: 'down', redis: 'connecting' });
    await redis.resume();
    await svc.whenOutput('redis reachable again');
    expect((await fetch(`${management}/health/ready`)).status).toBe(200);
    const mark = svc.output().length;
    await redis.kill();
    await svc.whenOutput('redis unavailable', mark);
    const during = await fetch(`${management}/health/ready`);
    expect(during.status).toBe(200);
    expect(((await during.json()) as { details: Record<string, unknown> }).details.cache).toMatchObject({ status: 'up', redis: 'unavailable (serving live)' });
    await redis.resume();
  });
});
