import axios, { AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { describe, expect, it, vi } from 'vitest';

import { basicCredentials, basicHeader, bearerCredentials } from './credentials.js';
import { VendorClient } from './vendor-client.js';

/** An axios instance answering from `statuses` in order (no sockets), recording the Authorization headers sent. */
function fakeHttp(statuses: number[]) {
  const sent: Array<string | undefined> = [];
  const http = axios.create({ validateStatus: () => true, responseType: 'text', transformResponse: [(d: unknown) => d] });
  http.defaults.adapter = (config: InternalAxiosRequestConfig): Promise<AxiosResponse<string>> => {
    sent.push(AxiosHeaders.from(config.headers).get('authorization') as string | undefined);
    const status = statuses[Math.min(sent.length - 1, statuses.length - 1)];
    return Promise.resolve({ status, statusText: '', headers: {}, data: '{}', config });
  };
  return { http, sent };
}

/** A token source handing out T1, T2, … and forgetting the one it is told was refused. */
function tokens() {
  let issued = 0;
  let current: string | undefined;
  return {
    get: vi.fn(() => Promise.resolve((current ??= `T${++issued}`))),
    invalidate: vi.fn((token: string) => {
      if (token === current) current = undefined;
    }),
  };
}

describe('VendorClient.send: authorize, send, re-authenticate once on 401', () => {
  it('sends the bearer token and keeps it while the system accepts it', async () => {
    const { http, sent } = fakeHttp([200]);
    const client = new VendorClient('crm', http, bearerCredentials(tokens()));
    expect((await client.send({ method: 'GET', url: '/a' })).status).toBe(200);
    expect((await client.send({ method: 'GET', url: '/b' })).status).toBe(200);
    expect(sent).toEqual(['Bearer T1', 'Bearer T1']);
  });

  it('drops a token answered with 401 and sends once more with a new one', async () => {
    const source = tokens();
    const { http, sent } = fakeHttp([401, 200]);
    const response = await new VendorClient('crm', http, bearerCredentials(source)).send({ method: 'GET', url: '/a' });
    expect(response.status).toBe(200);
    expect(sent).toEqual(['Bearer T1', 'Bearer T2']);
    expect(source.invalidate).toHaveBeenCalledWith('T1');
  });

  it('gives the second 401 to the caller (no loop)', async () => {
    const { http, sent } = fakeHttp([401]);
    expect((await new VendorClient('crm', http, bearerCredentials(tokens())).send({ method: 'GET', url: '/a' })).status).toBe(401);
    expect(sent).toEqual(['Bearer T1', 'Bearer T2']);
  });

  it('does not repeat a request refused with Basic credentials (a password does not change)', async () => {
    const { http, sent } = fakeHttp([401, 200]);
    expect((await new VendorClient('crm', http, basicCredentials('user', 'pw')).send({ method: 'GET', url: '/a' })).status).toBe(401);
    expect(sent).toEqual([basicHeader('user', 'pw')]);
  });

  it('keeps the caller’s other headers beside the Authorization header', async () => {
    const { http } = fakeHttp([200]);
    let seen: AxiosHeaders | undefined;
    http.interceptors.request.use((config) => {
      seen = AxiosHeaders.from(config.headers);
      return config;
    });
    await new VendorClient('crm', http, basicCredentials('u', 'p')).send({ method: 'GET', url: '/a', headers: { accept: 'application/json' } });
    expect(seen?.get('accept')).toBe('application/json');
    expect(seen?.get('authorization')).toBe(basicHeader('u', 'p'));
  });
});

describe('VendorClient.beforeCall: a log-in as a call of its own', () => {
  /** A token source that says whether it holds a token (as TokenCache.ready does). */
  function held(initially: boolean) {
    const source = { ...tokens(), ready: initially };
    return source;
  }

  it('runs nothing when the credentials need no request (Basic, or a token held)', async () => {
    const login = vi.fn(() => Promise.resolve());
    await new VendorClient('crm', fakeHttp([200]).http, basicCredentials('u', 'p')).beforeCall(login);
    await new VendorClient('crm', fakeHttp([200]).http, bearerCredentials(held(true))).beforeCall(login);
    expect(login).not.toHaveBeenCalled();
  });

  it('runs the log-in once for requests that need it at the same time; they go on when it is done', async () => {
    const source = held(false);
    const client = new VendorClient('crm', fakeHttp([200]).http, bearerCredentials(source));
    let done!: () => void;
    const login = vi.fn(() => new Promise<void>((resolve) => (done = resolve)));
    let settled = 0;
    const waiting = [client.beforeCall(login), client.beforeCall(login), client.beforeCall(login)].map((p) => p.then(() => settled++));
    await Promise.resolve();
    expect(login).toHaveBeenCalledOnce();
    expect(settled).toBe(0);
    source.ready = true;
    done();
    await Promise.all(waiting);
    expect(settled).toBe(3);
    await client.beforeCall(login);
    expect(login).toHaveBeenCalledOnce(); // held now: no more log-ins
  });

  it('a failed log-in does not fail the requests: each then logs in within its own call, as before', async () => {
    const client = new VendorClient('crm', fakeHttp([200]).http, bearerCredentials(held(false)));
    const login = vi.fn(() => Promise.reject(new Error('rate limited')));
    await expect(client.beforeCall(login)).resolves.toBeUndefined();
    await expect(client.beforeCall(login)).resolves.toBeUndefined();
    expect(login).toHaveBeenCalledTimes(2); // not remembered: the next request tries again
  });
});
