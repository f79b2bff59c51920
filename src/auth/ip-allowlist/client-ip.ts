import { isIPv6 } from 'node:net';
import { DEFAULT_IPV6_SUBNET_PREFIX, normalizeIp } from '@nestjs/throttler';
import { AddressSet, normalizeAddress } from './cidr.js';

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([^\]]+)\](?::\d{1,5})?$/;

/** An X-Forwarded-For element without the port or brackets some proxies add; undefined for `[not-IPv6]`. */
function withoutPort(entry: string): string | undefined {
  const text = entry.trim();
  const bracketed = BRACKETED_IPV6.exec(text);
  if (bracketed) return isIPv6(bracketed[1]) ? bracketed[1] : undefined;
  return IPV4_WITH_PORT.exec(text)?.[1] ?? text;
}

/**
 * One X-Forwarded-For element as an address: a plain IPv4/IPv6 literal, or the `1.2.3.4:port`,
 * `[2001:db8::1]` and `[2001:db8::1]:port` forms some proxies write (Azure Application Gateway
 * among them). Undefined for anything else (`unknown`, obfuscated identifiers, garbage).
 */
export function forwardedAddress(entry: string): string | undefined {
  const address = withoutPort(entry);
  return address === undefined ? undefined : normalizeAddress(address);
}

/** Fastify's `trustProxy` option as a function: is this hop one of our proxies? */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * Fastify's `trustProxy` for TRUSTED_PROXY_CIDRS (false, trust none, when the list is empty).
 *
 * Fastify (through @fastify/proxy-addr) then makes `request.ip` the real client: the socket's peer
 * (the only address nobody can forge), and only while the current hop is a trusted proxy, the
 * X-Forwarded-For entry it appended, walking from the RIGHT. The first hop that is not a trusted
 * proxy is the client; entries further left were written by the client itself and are never
 * looked at; when every entry is a trusted proxy, the leftmost one is the client. Empty elements
 * carry nothing and are skipped.
 *
 * Matching is ours (ipaddr.js, as the allowlist matches), so a hop written with a port or in
 * brackets is still recognised as the proxy it is.
 */
export function trustProxy(trustedProxyCidrs: readonly string[]): TrustProxy | false {
  if (trustedProxyCidrs.length === 0) return false;
  const trusted = AddressSet.parse(trustedProxyCidrs);
  return (address) => trusted.has(withoutPort(address));
}

/**
 * The client address of a request as Fastify determined it (`request.ip`, see `trustProxy`),
 * canonical: an IPv4-mapped peer as IPv4, a port or brackets dropped. Undefined when the client
 * cannot be known: no socket address, or an element the walk reached that is not an address (a
 * trusted proxy never writes one, so it is treated as forged).
 */
export function clientAddress(request: { ip?: string }): string | undefined {
  return request.ip === undefined ? undefined : forwardedAddress(request.ip);
}

/**
 * The key a client's budgets (the inbound throttle, agent-token checks) are counted under: its
 * address, and for IPv6 its /64, the prefix one subscriber gets, so rotating addresses inside it
 * buys nothing. 'unknown' when the client cannot be known (those share one budget).
 */
export function clientBudgetKey(address: string | undefined): string {
  return address === undefined ? 'unknown' : normalizeIp(address, DEFAULT_IPV6_SUBNET_PREFIX);
}
