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
