import { isIPv6 } from 'node:net';

import { DEFAULT_IPV6_SUBNET_PREFIX, normalizeIp } from '@nestjs/throttler';

import { type AddressSet, normalizeAddress } from './cidr.js';

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([^\]]+)\](?::\d{1,5})?$/;

/**
 * One X-Forwarded-For element as an address: a plain IPv4/IPv6 literal, or the `1.2.3.4:port`,
 * `[2001:db8::1]` and `[2001:db8::1]:port` forms some proxies write. Undefined for anything else
 * (`unknown`, obfuscated identifiers, garbage).
 */
export function forwardedAddress(entry: string): string | undefined {
  const text = entry.trim();
  const bracketed = BRACKETED_IPV6.exec(text);
  if (bracketed) return isIPv6(bracketed[1]) ? normalizeAddress(bracketed[1]) : undefined;
  const withPort = IPV4_WITH_PORT.exec(text);
  return normalizeAddress(withPort ? withPort[1] : text);
}

/**
 * The real client address of a request.
 *
 * The socket's peer is the only address nobody can forge. Only when that peer is a trusted proxy
 * is X-Forwarded-For read, from the RIGHT: each trusted hop vouches for the entry it appended (the
 * one to its left), so the walk goes left while the current hop is trusted, and the first hop that
 * is not a trusted proxy is the client. Entries further left were written by the client itself and
 * are never looked at. When every entry is a trusted proxy, the leftmost one is the client.
 *
 * Returns undefined when the client cannot be known: no socket address, or an element the walk
 * must read that is not an address (a trusted proxy never writes one, so it is treated as forged).
 * Empty elements (`a,,b`, a trailing comma) carry nothing and are skipped.
 *
 * @param remoteAddress the socket's peer (`request.raw.socket.remoteAddress`)
 * @param xForwardedFor the header as Node gives it (repeated headers joined or as an array)
 * @param trustedProxies the networks of proxies whose X-Forwarded-For entries are believed
 */
export function clientIp(remoteAddress: string | undefined, xForwardedFor: string | readonly string[] | undefined, trustedProxies: AddressSet): string | undefined {
  const peer = remoteAddress === undefined ? undefined : normalizeAddress(remoteAddress);
  if (peer === undefined) return undefined;
  if (xForwardedFor === undefined || !trustedProxies.has(peer)) return peer;
  const entries = (typeof xForwardedFor === 'string' ? xForwardedFor : xForwardedFor.join(',')).split(',');
  let hop = peer;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (!trustedProxies.has(hop)) return hop;
    if (entries[i].trim() === '') continue;
    const next = forwardedAddress(entries[i]);
    if (next === undefined) return undefined;
    hop = next;
  }
  return hop;
}

/**
 * The key a client's budgets (the inbound throttle, agent-token checks) are counted under: its
 * address, and for IPv6 its /64, the prefix one subscriber gets, so rotating addresses inside it
 * buys nothing. 'unknown' when the client cannot be known (those share one budget).
 */
export function clientBudgetKey(address: string | undefined): string {
  return address === undefined ? 'unknown' : normalizeIp(address, DEFAULT_IPV6_SUBNET_PREFIX);
}
