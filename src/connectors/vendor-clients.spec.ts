import type { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios, { type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { UpstreamError } from '../upstream/upstream-error.js';
import { type VendorAuth, VendorClients } from './vendor-clients.js';

const SECRET = 'the-client-secret-0123';

/** An axios instance (no sockets) whose token endpoint answers `tokenStatus`; every request is recorded. */
function fakeSystem(tokenStatus = 200) {
  const requests: Array<{ url: string; authorization?: string }> = [];
  const http = axios.create({ timeout: 700, validateStatus: () => true, responseType: 'text', transformResponse: [(d: unknown) => d] });
  http.defaults.adapter = (config: InternalAxiosRequestConfig): Promise<AxiosResponse<string>> => {
    requests.push({ url: config.url ?? '', authorization: config.headers.get('authorization') as string | undefined });
    const token = config.url === '/token';
    const status = token ? tokenStatus : 200;
    const data = token && status === 200 ? JSON.stringify({ access_token: `T${requests.filter((r) => r.url === '/token').length}` }) : '{}';
    return Promise.resolve({ status, statusText: '', headers: {}, data, config });
  };
  return { clients: new VendorClients({ axiosRef: http } as HttpService), requests };
}

const oauth = (extra: Partial<Extract<VendorAuth, { mode: 'client-credentials' }>> = {}): VendorAuth => ({ mode: 'client-credentials', tokenUrl: '/token', clientId: 'client', clientSecret: SECRET, style: 'form', ...extra });

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('VendorClients: the log-in at start-up', () => {
  it('takes the token before the first request, through the log-in the connector runs under its policy', async () => {
    const { clients, requests } = fakeSystem();
    const client = clients.create('crm', { auth: oauth({ resilientLogIn: (signal) => policyRun(() => client.credentials.authorize(signal)) }) });
    const policyRun = vi.fn((call: () => Promise<unknown>) => call());
    await clients.onApplicationBootstrap();
    expect(policyRun).toHaveBeenCalledTimes(1);
    expect(requests.map((r) => r.url)).toEqual(['/token']);
    await client.send({ method: 'GET', url: '/data' });
    expect(requests).toEqual([{ url: '/token' }, { url: '/data', authorization: 'Bearer T1' }]);
  });

  it('logs in with a plain token request when the token comes from elsewhere (no policy of the system)', async () => {
    const { clients, requests } = fakeSystem();
    clients.create('erp', { auth: oauth() });
    await clients.onApplicationBootstrap();
    expect(requests.map((r) => r.url)).toEqual(['/token']);
  });

  it('makes no request at start-up to a system switched off', async () => {
    const { clients, requests } = fakeSystem();
    clients.create('crm', { auth: oauth(), enabled: false });
    await clients.onApplicationBootstrap();
    expect(requests).toEqual([]);
  });

  it('makes no request at start-up for a Basic user', async () => {
    const { clients, requests } = fakeSystem();
    clients.create('itsm', { auth: { mode: 'basic', username: 'u', password: 'p' } });
    await clients.onApplicationBootstrap();
    expect(requests).toEqual([]);
  });

  it('waits for the next rate-limit slot when the log-in found none (replicas starting together)', async () => {
    vi.useFakeTimers();
    const { clients, requests } = fakeSystem();
    let refusals = 1;
    const client = clients.create('crm', {
      auth: oauth({
        resilientLogIn: (signal) => (refusals-- > 0 ? Promise.reject(new UpstreamError('crm', 'rate_limited', 'outbound rate limit reached', undefined, 400)) : client.credentials.authorize(signal)),
      }),
    });
    let started = false;
    const starting = clients.onApplicationBootstrap().then(() => (started = true));
    await vi.advanceTimersByTimeAsync(399);
    expect(started).toBe(false);
    expect(requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await starting;
    expect(requests.map((r) => r.url)).toEqual(['/token']);
  });

  it('gives up after its start-up budget when no slot comes, and the service starts all the same', async () => {
    vi.useFakeTimers();
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { clients, requests } = fakeSystem();
    const tries = vi.fn(() => Promise.reject(new UpstreamError('crm', 'rate_limited', 'outbound rate limit reached', undefined, 250)));
    clients.create('crm', { auth: oauth({ resilientLogIn: tries }) });
    let started = false;
    const starting = clients.onApplicationBootstrap().then(() => (started = true));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await starting;
    expect(tries.mock.calls.length).toBe(12); // at 0, 250, …, 2,750 ms
    expect(requests).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ system: 'crm', reason: 'rate_limited' }));
  });

  it('refused credentials: the service starts, the log says which system and why, never the secret', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { clients, requests } = fakeSystem(401);
    clients.create('crm', { auth: oauth() });
    await clients.onApplicationBootstrap();
    expect(requests.map((r) => r.url)).toEqual(['/token']); // once: a refusal is not retried at start-up
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatchObject({ msg: 'log-in at start-up failed: the first look-up logs in', system: 'crm', reason: 'auth', hint: 'check the client id and secret' });
    expect(JSON.stringify(warn.mock.calls)).not.toContain(SECRET);
  });
});
