import { describe, expect, it } from 'vitest';
import { AddressSet, isCidr, normalizeAddress, parseCidr } from './cidr.js';

describe('normalizeAddress', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    [' 10.1.2.3 ', '10.1.2.3'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:a01:203', '10.1.2.3'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.256', '010.0.0.1', '1.2.3.4:80', '[::1]', '::g', '1.2.3.4/32', 'unknown'])('refuses %j', (input) => {
    expect(normalizeAddress(input)).toBeUndefined();
  });

  it.each(['0x7f.1', '127.1', '0177.0.0.1', '4294967295'])('refuses %j, which ipaddr.js alone would read as IPv4', (input) => {
    expect(normalizeAddress(input)).toBeUndefined();
  });

  it('keeps an IPv4-compatible (not mapped) address written in hex as IPv6', () => {
    expect(normalizeAddress('::7f00:1')).toBe('::7f00:1');
  });

  it('reads the deprecated dotted form ::a.b.c.d as IPv4-mapped, as ipaddr.js does', () => {
    // the same bits as ::7f00:1 above, but ipaddr.js parses "::" + dotted quad as ::ffff:a.b.c.d;
    // no socket reports such a peer, and a trusted proxy that wrote one could as well write 127.0.0.1
    expect(normalizeAddress('::127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
    ['127.0.0.1', { address: '127.0.0.1', prefix: 32, family: 'ipv4' }],
    ['2001:DB8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['::ffff:10.0.0.0/104', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['::ffff:0:0/80', { address: '::', prefix: 80, family: 'ipv6' }],
    ['10.1.2.3/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['2001:db8::1/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
  ])('%s', (input, expected) => {
    expect(parseCidr(input)).toEqual(expected);
  });

  it.each(['', '/8', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/ 8', '10.0.0.0/1e1', '::/129', '10.0.0/8', 'fe80::/10%eth0', 'fe80::%eth0/10', 'example.com/24', '999.0.0.0/8', '127.1/8', '0x7f.0.0.1/8'])(
    'refuses %j',
    (input) => {
      expect(parseCidr(input)).toBeUndefined();
      expect(isCidr(input)).toBe(false);
    },
  );
});

describe('AddressSet', () => {
  const set = AddressSet.parse(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1/128']);

  it('matches IPv4 networks and single hosts', () => {
    expect(set.has('10.0.0.0')).toBe(true);
    expect(set.has('10.255.255.255')).toBe(true);
    expect(set.has('11.0.0.0')).toBe(false);
    expect(set.has('9.255.255.255')).toBe(false);
    expect(set.has('192.168.1.7')).toBe(true);
    expect(set.has('192.168.1.8')).toBe(false);
  });

  it('matches IPv6 networks, in any notation', () => {
    expect(set.has('2001:db8::1')).toBe(true);
    expect(set.has('2001:0DB8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(set.has('2001:db9::1')).toBe(false);
    expect(set.has('::1')).toBe(true);
    expect(set.has('::2')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 networks', () => {
    expect(set.has('::ffff:10.1.2.3')).toBe(true);
    expect(set.has('::ffff:a01:203')).toBe(true);
    expect(set.has('::ffff:11.1.2.3')).toBe(false);
    expect(AddressSet.parse(['127.0.0.1/32']).has('::ffff:127.0.0.1')).toBe(true);
  });

  it('matches plain IPv4 against a mapped IPv6 network', () => {
    const mapped = AddressSet.parse(['::ffff:127.0.0.0/104']);
    expect(mapped.cidrs).toEqual(['127.0.0.0/8']);
    expect(mapped.has('127.9.9.9')).toBe(true);
    expect(mapped.has('::ffff:127.9.9.9')).toBe(true);
    expect(mapped.has('128.0.0.1')).toBe(false);
  });

  it('keeps IPv4 and IPv6 apart (an IPv4 /0 is not every IPv6 address, nor ::/0 every IPv4 one)', () => {
    const all4 = AddressSet.parse(['0.0.0.0/0']);
    expect(all4.has('203.0.113.9')).toBe(true);
    expect(all4.has('2001:db8::1')).toBe(false);
    expect(all4.has('::1')).toBe(false);
    const all6 = AddressSet.parse(['::/0']);
    expect(all6.has('2001:db8::1')).toBe(true);
    expect(all6.has('203.0.113.9')).toBe(false);
    expect(all6.has('::ffff:203.0.113.9')).toBe(false);
  });

  it('honours host bits and dedupes equal networks', () => {
    const s = AddressSet.parse(['10.1.2.3/8', '10.1.2.3/8', ' 10.0.0.0/8 ', '10.0.0.0/16']);
    expect(s.has('10.200.0.1')).toBe(true);
    expect(s.cidrs).toEqual(['10.0.0.0/8', '10.0.0.0/16']);
  });

  it('never matches garbage or undefined', () => {
    for (const bad of [undefined, '', 'unknown', '10.0.0.1:443', '10.0.0.0/8']) expect(set.has(bad)).toBe(false);
    expect(AddressSet.EMPTY.has('10.0.0.1')).toBe(false);
  });

  it('names the bad entry when parsing fails', () => {
    expect(() => AddressSet.parse(['10.0.0.0/8', '10.0.0.0/40'])).toThrow('not a CIDR: "10.0.0.0/40"');
  });
});
