import 'reflect-metadata';
import { Controller, Get, Global, Module, UseGuards, type DynamicModule, type LoggerService } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { trustProxy } from '../../src/auth/ip-allowlist/client-ip.js';
import { IpAllowlistConfig } from '../../src/auth/ip-allowlist/ip-allowlist.config.js';
import { IpAllowlistGuard } from '../../src/auth/ip-allowlist/ip-allowlist.guard.js';
import { IpAllowlistModule } from '../../src/auth/ip-allowlist/ip-allowlist.module.js';
import { IpRangesRefresher } from '../../src/auth/ip-allowlist/ip-ranges.refresher.js';
import { GenesysConfig } from '../../src/genesys/genesys.config.js';
import { AllExceptionsFilter } from '../../src/observability/all-exceptions.filter.js';
import { GenesysSimulator } from '../sandbox/genesys/genesys.simulator.js';
import { freePort } from '../support/free-port.js';

@Controller('probe')
@UseGuards(IpAllowlistGuard)
class ProbeController {
  @Get()
  probe(): { ok: true } {
    return { ok: true };
  }
}

/** Stands in for the global ConfigModule: just the two sections the allowlist reads. */
@Global()
@Module({})
class TestConfigModule {
  static forRoot(allowlist: IpAllowlistConfig, genesys: GenesysConfig): DynamicModule {
    return {
      module: TestConfigModule,
      providers: [
        { provide: IpAllowlistConfig, useValue: allowlist },
        { provide: GenesysConfig, useValue: genesys },
      ],
      exports: [IpAllowlistConfig, GenesysConfig],
    };
  }
}

/** Keeps what Nest's Logger wrote (the guard's and the refresher's lines). */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(JSON.stringify(message));
  }
  warn(message: unknown): void {
    this.lines.push(JSON.stringify(message));
  }
  error(message: unknown): void {
    this.lines.push(JSON.stringify(message));
  }
}

interface Probe {
  app: NestFastifyApplication;
  logs: CapturingLogger;
  refresher: IpRangesRefresher;
  get(headers?: Record<string, string>): Promise<{ status: number; text: string; cacheControl: string | null }>;
}

const started: NestFastifyApplication[] = [];

/** A Genesys API address nobody listens on (a port the OS just handed out and took back), for probes that never refresh. */
async function nowhere(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** A minimal Nest app (Fastify with trustProxy as createApp sets it, the real exception filter) with one guarded route, on 127.0.0.1. */
async function startProbe(settings: Partial<IpAllowlistConfig>, genesysApiUrl?: string): Promise<Probe> {
  genesysApiUrl ??= await nowhere();
  const allowlist = Object.assign(new IpAllowlistConfig(), settings);
  const genesys = Object.assign(new GenesysConfig(), { apiUrl: genesysApiUrl, timeoutMs: 2000 });
  const moduleRef = await Test.createTestingModule({
    imports: [TestConfigModule.forRoot(allowlist, genesys), IpAllowlistModule],
    controllers: [ProbeController],
  }).compile();
  const logs = new CapturingLogger();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: trustProxy(allowlist.trustedProxyCidrs) }), { logger: logs });
  app.useGlobalFilters(new AllExceptionsFilter(pino({ level: 'silent' })));
  app.enableShutdownHooks();
  await app.listen({ port: 0, host: '127.0.0.1' });
  started.push(app);
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    logs,
    refresher: app.get(IpRangesRefresher),
    get: async (headers = {}) => {
      const response = await fetch(`http://127.0.0.1:${port}/probe`, { headers });
      return { status: response.status, text: await response.text(), cacheControl: response.headers.get('cache-control') };
    },
  };
}

afterEach(async () => {
  while (started.length > 0) await started.pop()?.close();
});

const OK = '{"ok":true}';
const FORBIDDEN = '{"error":"Forbidden"}';

describe('IP allowlist over real HTTP (client 127.0.0.1)', () => {
  it('lets everything through when off', async () => {
    const p = await startProbe({});
    expect(await p.get()).toMatchObject({ status: 200, text: OK });
  });

  it('allows the client when 127.0.0.1/32 is allowed', async () => {
    const p = await startProbe({ allowedCidrs: ['127.0.0.1/32'] });
    expect(await p.get()).toMatchObject({ status: 200, text: OK });
  });

  it('answers a plain 403 when only 10.0.0.0/8 is allowed, and logs the address but no header', async () => {
    const p = await startProbe({ allowedCidrs: ['10.0.0.0/8'] });
    const res = await p.get({ authorization: 'Bearer do-not-log-me', 'x-forwarded-for': '10.9.9.9' });
    expect(res).toEqual({ status: 403, text: FORBIDDEN, cacheControl: 'no-store' });
    const refusal = p.logs.lines.find((l) => l.includes('address refused'));
    expect(refusal).toContain('"clientIp":"127.0.0.1"');
    expect(p.logs.lines.join('\n')).not.toContain('do-not-log-me');
    expect(p.logs.lines.join('\n')).not.toContain('10.9.9.9');
  });

  it('behind a trusted proxy (127.0.0.1/32), X-Forwarded-For names the client', async () => {
    const p = await startProbe({ allowedCidrs: ['10.0.0.0/8'], trustedProxyCidrs: ['127.0.0.1/32'] });
    expect(await p.get({ 'x-forwarded-for': '10.1.2.3' })).toMatchObject({ status: 200, text: OK });
    // the client (not the proxy) is judged: 203.0.113.9 is outside 10.0.0.0/8
    expect(await p.get({ 'x-forwarded-for': '10.1.2.3, 203.0.113.9' })).toMatchObject({ status: 403, text: FORBIDDEN });
    // the proxy forwarded nothing: the client is the proxy itself, not allowed
    expect(await p.get()).toMatchObject({ status: 403 });
    // an entry the proxy would never write: the client is unknown, refused
    expect(await p.get({ 'x-forwarded-for': 'unknown' })).toMatchObject({ status: 403 });
  });

  it('without a trusted proxy, the same X-Forwarded-For is ignored (still 403)', async () => {
    const p = await startProbe({ allowedCidrs: ['10.0.0.0/8'] });
    expect(await p.get({ 'x-forwarded-for': '10.1.2.3' })).toMatchObject({ status: 403, text: FORBIDDEN });
  });

  it('with a trusted proxy elsewhere (10.0.0.0/8), a direct client cannot spoof X-Forwarded-For', async () => {
    const p = await startProbe({ allowedCidrs: ['10.0.0.0/8'], trustedProxyCidrs: ['10.0.0.0/8'] });
    expect(await p.get({ 'x-forwarded-for': '10.1.2.3' })).toMatchObject({ status: 403, text: FORBIDDEN });
  });
});

describe('Genesys IP ranges from the simulator', () => {
  const sim = new GenesysSimulator();
  beforeAll(async () => {
    await sim.start();
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.reset());

  it('pulls the data-actions ranges (127.0.0.1/32 among them) and then allows the request', async () => {
    sim.setFaults({ failNext: 1 }); // the start-up refresh fails: nothing fetched yet, fail closed
    const p = await startProbe({ iprangesRefreshMs: 3_600_000 }, sim.url);
    expect(sim.callCount('ipranges')).toBe(1);
    expect(p.refresher.current.size).toBe(0);
    expect(await p.get()).toMatchObject({ status: 403, text: FORBIDDEN });

    await p.refresher.refreshNow();
    expect(sim.callCount('ipranges')).toBe(2);
    expect(p.refresher.current.cidrs).toEqual(['52.129.96.0/20', '169.150.104.0/21', '167.234.48.0/20', '2600:1f18:4b8d:6a00::/56', '3.122.188.0/24', '127.0.0.1/32', '::1/128']);
    expect(p.refresher.current.has('34.231.240.1')).toBe(false); // the 'audiohook' service's range is not allowed
    expect(await p.get()).toMatchObject({ status: 200, text: OK });
  });

  it('fetches at start-up, on top of GENESYS_ALLOWED_CIDRS', async () => {
    const p = await startProbe({ allowedCidrs: ['10.0.0.0/8'], iprangesRefreshMs: 3_600_000 }, sim.url);
    expect(p.refresher.snapshot().lastSuccessAt).toBeTypeOf('number');
    expect(await p.get()).toMatchObject({ status: 200, text: OK });
  });

  it('honours GENESYS_IPRANGES_SERVICES', async () => {
    const p = await startProbe({ iprangesRefreshMs: 3_600_000, iprangesServices: ['smtp', 'audiohook'] }, sim.url);
    expect(p.refresher.current.cidrs).toEqual(['52.129.96.0/21', '34.231.240.0/24']);
    expect(await p.get()).toMatchObject({ status: 403 });
  });

  it('keeps the last good list when a refresh fails (503, malformed body, unreachable)', async () => {
    const p = await startProbe({ iprangesRefreshMs: 3_600_000 }, sim.url);
    const good = p.refresher.current.cidrs;
    expect(good).toContain('127.0.0.1/32');

    sim.setFaults({ forcedStatus: 503 });
    await p.refresher.refreshNow();
    expect(p.refresher.snapshot()).toMatchObject({ cidrs: good, lastError: 'genesys-ipranges: unexpected status 503' });
    expect(await p.get()).toMatchObject({ status: 200 });

    sim.setFaults({ forcedStatus: null, malformed: 'truncated' });
    await p.refresher.refreshNow();
    expect(p.refresher.snapshot()).toMatchObject({ cidrs: good, lastError: 'genesys-ipranges: response body is not valid JSON' });
    expect(await p.get()).toMatchObject({ status: 200 });

    await sim.stop();
    try {
      await p.refresher.refreshNow();
      expect(p.refresher.snapshot().lastError).toMatch(/^genesys-ipranges: connection failed/);
      expect(p.refresher.current.cidrs).toEqual(good);
      expect(await p.get()).toMatchObject({ status: 200, text: OK });
      expect(p.logs.lines.filter((l) => l.includes('refresh failed'))).toHaveLength(3);
    } finally {
      await sim.start();
    }
  });
});
