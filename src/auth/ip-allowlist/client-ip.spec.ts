import { describe, expect, it } from 'vitest';

import { AddressSet } from './cidr.js';
import { clientBudgetKey, clientIp, forwardedAddress } from './client-ip.js';

const NONE = AddressSet.EMPTY;
/** A load balancer (127.0.0.1) in front of an ingress tier (10.0.0.0/8). */
const PROXIES = AddressSet.parse(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8']);

describe('clientIp without a trusted proxy', () => {
  it('is the socket peer', () => {
    expect(clientIp('203.0.113.9', undefined, NONE)).toBe('203.0.113.9');
    expect(clientIp('2001:db8::9', undefined, NONE)).toBe('2001:db8::9');
  });

  it('ignores X-Forwarded-For entirely (it cannot be spoofed)', () => {
    expect(clientIp('203.0.113.9', '52.129.96.1', NONE)).toBe('203.0.113.9');
    expect(clientIp('203.0.113.9', '52.129.96.1, 127.0.0.1', NONE)).toBe('203.0.113.9');
    expect(clientIp('127.0.0.1', '10.1.2.3', NONE)).toBe('127.0.0.1');
    expect(clientIp('203.0.113.9', 'garbage', NONE)).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For when the peer is not one of the trusted proxies', () => {
    expect(clientIp('203.0.113.9', '10.1.2.3', PROXIES)).toBe('203.0.113.9');
    expect(clientIp('::ffff:203.0.113.9', '127.0.0.1', PROXIES)).toBe('203.0.113.9');
  });

  it('reports an IPv4-mapped peer as IPv4 and refuses to guess without one', () => {
    expect(clientIp('::ffff:127.0.0.1', undefined, NONE)).toBe('127.0.0.1');
    expect(clientIp(undefined, '10.1.2.3', PROXIES)).toBeUndefined();
    expect(clientIp('not-an-ip', undefined, NONE)).toBeUndefined();
  });
});

describe('clientIp behind trusted proxies', () => {
  it('takes the entry the trusted peer appended', () => {
    expect(clientIp('127.0.0.1', '198.51.100.7', PROXIES)).toBe('198.51.100.7');
    expect(clientIp('::ffff:127.0.0.1', '198.51.100.7', PROXIES)).toBe('198.51.100.7');
  });

  it('walks a chain of trusted proxies from the right', () => {
    expect(clientIp('127.0.0.1', '198.51.100.7, 10.0.0.5, 10.9.9.9', PROXIES)).toBe('198.51.100.7');
    expect(clientIp('fd00::1', '2001:db8::7, fd00::2', PROXIES)).toBe('2001:db8::7');
  });

  it('ignores spoofed entries left of the first untrusted hop', () => {
    // the client (198.51.100.7) sent "X-Forwarded-For: 52.129.96.1, 10.0.0.1"; the proxy appended its peer
    expect(clientIp('127.0.0.1', '52.129.96.1, 10.0.0.1, 198.51.100.7', PROXIES)).toBe('198.51.100.7');
    expect(clientIp('127.0.0.1', '127.0.0.1, 198.51.100.7', PROXIES)).toBe('198.51.100.7');
  });

  it('reads repeated headers (joined or as an array) as one list', () => {
    expect(clientIp('127.0.0.1', ['52.129.96.1', '198.51.100.7'], PROXIES)).toBe('198.51.100.7');
    expect(clientIp('127.0.0.1', ['198.51.100.7', '10.0.0.5'], PROXIES)).toBe('198.51.100.7');
  });

  it('stops at the leftmost entry when every hop is trusted', () => {
    expect(clientIp('127.0.0.1', '10.1.2.3', PROXIES)).toBe('10.1.2.3');
    expect(clientIp('127.0.0.1', '10.1.2.3, 10.0.0.5', PROXIES)).toBe('10.1.2.3');
  });

  it('is the proxy itself when it forwarded nothing', () => {
    expect(clientIp('127.0.0.1', undefined, PROXIES)).toBe('127.0.0.1');
    expect(clientIp('127.0.0.1', '', PROXIES)).toBe('127.0.0.1');
    expect(clientIp('127.0.0.1', ' , ', PROXIES)).toBe('127.0.0.1');
  });

  it('accepts the port and bracket forms proxies write', () => {
    expect(clientIp('127.0.0.1', '198.51.100.7:51234', PROXIES)).toBe('198.51.100.7');
    expect(clientIp('127.0.0.1', '[2001:db8::7]:51234', PROXIES)).toBe('2001:db8::7');
    expect(clientIp('127.0.0.1', '[2001:db8::7]', PROXIES)).toBe('2001:db8::7');
    expect(clientIp('127.0.0.1', '::ffff:198.51.100.7', PROXIES)).toBe('198.51.100.7');
    expect(clientIp('127.0.0.1', '198.51.100.7,,10.0.0.5,', PROXIES)).toBe('198.51.100.7');
  });

  it.each([
    ['a word', 'unknown'],
    ['an obfuscated identifier', '_hidden'],
    ['a hostname', 'client.example.com'],
    ['two addresses without a comma', '198.51.100.7 198.51.100.8'],
    ['an out-of-range octet', '198.51.100.256'],
    ['a forged log line', '198.51.100.7\n{"level":"error"}'],
  ])('knows no client when the hop a trusted proxy vouches for is %s', (_what, entry) => {
    expect(clientIp('127.0.0.1', entry, PROXIES)).toBeUndefined();
    expect(clientIp('127.0.0.1', `198.51.100.1, ${entry}, 10.0.0.5`, PROXIES)).toBeUndefined();
  });

  it('never reads malformed entries left of the client', () => {
    expect(clientIp('127.0.0.1', 'garbage, <script>, 198.51.100.7', PROXIES)).toBe('198.51.100.7');
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
