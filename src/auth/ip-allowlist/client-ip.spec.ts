import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { clientAddress, clientBudgetKey, forwardedAddress, trustProxy } from './client-ip.js';

/**
 * The client address as the service sees it: Fastify's `trustProxy` (built from
 * TRUSTED_PROXY_CIDRS by `trustProxy`) decides `request.ip`, `clientAddress` reads it. Each case
 * goes through Nest's FastifyAdapter given the option as createApp gives it, with `inject` (no
 * socket), so what is pinned here is what @fastify/proxy-addr really does with our trust function.
 */
const adapters: FastifyAdapter[] = [];

function probe(trustedProxyCidrs: string[]) {
  const adapter = new FastifyAdapter({ trustProxy: trustProxy(trustedProxyCidrs) });
  adapters.push(adapter);
  const app = adapter.getInstance();
  app.get('/', (request) => ({ client: clientAddress(request) ?? null }));
  return async (remoteAddress: string, xForwardedFor?: string): Promise<string | undefined> => {
    const response = await app.inject({ method: 'GET', url: '/', remoteAddress, headers: xForwardedFor === undefined ? {} : { 'x-forwarded-for': xForwardedFor } });
    return (response.json<{ client: string | null }>().client ?? undefined) as string | undefined;
  };
}

afterAll(async () => {
  await Promise.all(adapters.map((a) => a.close()));
});

const direct = probe([]);
/** A load balancer (127.0.0.1) in front of an ingress tier (10.0.0.0/8). */
const proxied = probe(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8']);

describe('trustProxy', () => {
  it('is off (Fastify trusts no proxy) without TRUSTED_PROXY_CIDRS', () => {
    expect(trustProxy([])).toBe(false);
  });

  it('trusts the configured networks, IPv4-mapped peers and the port forms included', () => {
    const trust = trustProxy(['127.0.0.1/32', 'fd00::/8']);
    if (trust === false) throw new Error('expected a trust function');
    expect([trust('127.0.0.1', 0), trust('::ffff:127.0.0.1', 0), trust('127.0.0.1:8080', 1), trust('[fd00::2]:443', 1), trust('fd00::2', 1)]).toEqual([true, true, true, true, true]);
    expect([trust('127.0.0.2', 0), trust('fe00::1', 0), trust('unknown', 1), trust('', 1)]).toEqual([false, false, false, false]);
  });

  it('refuses a list with an entry that is not a network', () => {
    expect(() => trustProxy(['127.0.0.1/32', 'loopback'])).toThrow('not a CIDR: "loopback"');
  });
});

describe('client address without a trusted proxy', () => {
  it('is the socket peer', async () => {
    expect(await direct('203.0.113.9')).toBe('203.0.113.9');
    expect(await direct('2001:db8::9')).toBe('2001:db8::9');
  });

  it('ignores X-Forwarded-For entirely (it cannot be spoofed)', async () => {
    expect(await direct('203.0.113.9', '52.129.96.1')).toBe('203.0.113.9');
    expect(await direct('203.0.113.9', '52.129.96.1, 127.0.0.1')).toBe('203.0.113.9');
    expect(await direct('127.0.0.1', '10.1.2.3')).toBe('127.0.0.1');
    expect(await direct('203.0.113.9', 'garbage')).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For when the peer is not one of the trusted proxies', async () => {
    expect(await proxied('203.0.113.9', '10.1.2.3')).toBe('203.0.113.9');
    expect(await proxied('::ffff:203.0.113.9', '127.0.0.1')).toBe('203.0.113.9');
  });

  it('reports an IPv4-mapped peer as IPv4 and refuses to guess without one', async () => {
    expect(await direct('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress({})).toBeUndefined();
    expect(clientAddress({ ip: 'not-an-ip' })).toBeUndefined();
  });
});

describe('client address behind trusted proxies', () => {
  it('takes the entry the trusted peer appended', async () => {
    expect(await proxied('127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(await proxied('::ffff:127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
  });

  it('walks a chain of trusted proxies from the right', async () => {
    expect(await proxied('127.0.0.1', '198.51.100.7, 10.0.0.5, 10.9.9.9')).toBe('198.51.100.7');
    expect(await proxied('fd00::1', '2001:db8::7, fd00::2')).toBe('2001:db8::7');
  });

  it('ignores spoofed entries left of the first untrusted hop', async () => {
    // the client (198.51.100.7) sent "X-Forwarded-For: 52.129.96.1, 10.0.0.1"; the proxy appended its peer
    expect(await proxied('127.0.0.1', '52.129.96.1, 10.0.0.1, 198.51.100.7')).toBe('198.51.100.7');
    expect(await proxied('127.0.0.1', '127.0.0.1, 198.51.100.7')).toBe('198.51.100.7');
  });

  it('reads repeated headers as Node joins them (one comma-separated list)', async () => {
    expect(await proxied('127.0.0.1', '52.129.96.1, 198.51.100.7')).toBe('198.51.100.7');
    expect(await proxied('127.0.0.1', '198.51.100.7, 10.0.0.5')).toBe('198.51.100.7');
  });

  it('stops at the leftmost entry when every hop is trusted', async () => {
    expect(await proxied('127.0.0.1', '10.1.2.3')).toBe('10.1.2.3');
    expect(await proxied('127.0.0.1', '10.1.2.3, 10.0.0.5')).toBe('10.1.2.3');
  });

  it('is the proxy itself when it forwarded nothing', async () => {
    expect(await proxied('127.0.0.1')).toBe('127.0.0.1');
    expect(await proxied('127.0.0.1', '')).toBe('127.0.0.1');
    expect(await proxied('127.0.0.1', ' , ')).toBe('127.0.0.1');
  });

  it('accepts the port and bracket forms proxies write, for the client and for trusted hops', async () => {
    expect(await proxied('127.0.0.1', '198.51.100.7:51234')).toBe('198.51.100.7');
    expect(await proxied('127.0.0.1', '[2001:db8::7]:51234')).toBe('2001:db8::7');
    expect(await proxied('127.0.0.1', '[2001:db8::7]')).toBe('2001:db8::7');
    expect(await proxied('127.0.0.1', '::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(await proxied('127.0.0.1', '198.51.100.7,,10.0.0.5,')).toBe('198.51.100.7');
    expect(await proxied('127.0.0.1', '198.51.100.7, 10.0.0.5:3128')).toBe('198.51.100.7');
  });

  it.each([
    ['a word', 'unknown'],
    ['an obfuscated identifier', '_hidden'],
    ['a hostname', 'client.example.com'],
    ['two addresses without a comma', '198.51.100.7 198.51.100.8'],
    ['an out-of-range octet', '198.51.100.256'],
    ['a lenient IPv4 form', '0x7f.1'],
  ])('knows no client when the hop a trusted proxy vouches for is %s', async (_what, entry) => {
    expect(await proxied('127.0.0.1', entry)).toBeUndefined();
    expect(await proxied('127.0.0.1', `198.51.100.1, ${entry}, 10.0.0.5`)).toBeUndefined();
  });

  it('never reads malformed entries left of the client', async () => {
    expect(await proxied('127.0.0.1', 'garbage, <script>, 198.51.100.7')).toBe('198.51.100.7');
  });
});

describe('forwardedAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4:80 ', '1.2.3.4'],
    ['[::1]:443', '::1'],
    ['2001:db8::1', '2001:db8::1'],
  ])('%j → %s', (entry, expected) => {
    expect(forwardedAddress(entry)).toBe(expected);
  });

  it.each(['[1.2.3.4]', '[1.2.3.4]:80', '1.2.3.4:', '1.2.3.4:123456', '[::1', '::1]:80', 'unknown', ''])('refuses %j', (entry) => {
    expect(forwardedAddress(entry)).toBeUndefined();
  });
});

describe('clientBudgetKey', () => {
  it('is the address for IPv4, the /64 for IPv6, and one shared key when the client is unknown', () => {
    expect(clientBudgetKey('198.51.100.7')).toBe('198.51.100.7');
    expect(clientBudgetKey('2001:db8:1:2::1')).toBe(clientBudgetKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientBudgetKey('2001:db8:1:2::1')).not.toBe(clientBudgetKey('2001:db8:1:3::1'));
    expect(clientBudgetKey(undefined)).toBe('unknown');
  });
});
