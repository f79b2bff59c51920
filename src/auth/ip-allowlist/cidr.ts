import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IpFamily = 'ipv4' | 'ipv6';

/** One network: its canonical network address, its prefix length and family. */
export interface Cidr {
  address: string;
  prefix: number;
  family: IpFamily;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * An IP literal parsed by ipaddr.js, or undefined. ipaddr.js alone is lenient (to it `1.2.3`,
 * `010.0.0.1` and `0x7f.1` are IPv4 addresses), so Node's `isIP` decides first what is a literal.
 */
function parseLiteral(text: string): Address | undefined {
  if (isIP(text) === 0) return undefined;
  try {
    return ipaddr.parse(text);
  } catch {
    return undefined;
  }
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as the IPv4 address it carries; anything else unchanged. */
function unmapped(address: Address): Address {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

/** An IP literal (trimmed, an IPv6 zone dropped) parsed and unmapped, or undefined. */
function canonical(input: string): Address | undefined {
  let text = input.trim();
  const zone = text.indexOf('%');
  if (zone > 0 && text.includes(':')) text = text.slice(0, zone);
  const address = parseLiteral(text);
  return address && unmapped(address);
}

/**
 * The canonical text of an IP address literal, or undefined when `input` is not one: IPv4 as is,
 * IPv6 lower-case and compressed (RFC 5952), an IPv6 zone (`%eth0`) dropped, and an IPv4-mapped
 * IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`) turned into its IPv4 form, so a dual-stack
 * socket's peer matches IPv4 rules and logs as a plain IPv4 address. ipaddr.js also reads the
 * deprecated dotted form `::a.b.c.d` as mapped (so `::127.0.0.1` is 127.0.0.1), while the same
 * address written in hex (`::7f00:1`, IPv4-compatible) stays IPv6.
 */
export function normalizeAddress(input: string): string | undefined {
  return canonical(input)?.toString();
}

/**
 * Parses `address/prefix` (IPv4 or IPv6) with ipaddr.js; a bare address is a single host (/32 or
 * /128). Host bits may be set (`10.1.2.3/8` is 10.0.0.0/8). An IPv4-mapped IPv6 network whose
 * prefix covers the whole `::ffff:0:0/96` block becomes the equivalent IPv4 network. Undefined when
 * the text is not a network (zones, names and lenient IPv4 forms included).
 */
export function parseCidr(input: string): Cidr | undefined {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  if (addressText.includes('%')) return undefined;
  const bare = parseLiteral(addressText);
  if (!bare) return undefined;
  let network: Address;
  let prefix: number;
  try {
    [network, prefix] = slash < 0 ? [bare, bare.kind() === 'ipv4' ? 32 : 128] : ipaddr.parseCIDR(text);
  } catch {
    return undefined;
  }
  if (network instanceof ipaddr.IPv6 && network.isIPv4MappedAddress() && prefix >= 96) {
    network = network.toIPv4Address();
    prefix -= 96;
  }
  const family = network.kind();
  const base = (family === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(`${network.toString()}/${prefix}`);
  return { address: base.toString(), prefix, family };
}

export function isCidr(input: string): boolean {
  return parseCidr(input) !== undefined;
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefix}`;
}

/**
 * An immutable set of networks that answers "is this address inside?" with ipaddr.js. Families
 * stay apart as in @fastify/proxy-addr (which Fastify uses for TRUSTED_PROXY_CIDRS): an IPv4
 * network matches IPv4 addresses and IPv4-mapped IPv6 ones, an IPv6 network only IPv6 addresses
 * (`::/0` is every IPv6 address, not every address).
 */
export class AddressSet {
  static readonly EMPTY = new AddressSet([]);

  private readonly ranges: [Address, number][] = [];
  /** The networks, canonical (`10.0.0.0/8` style, network address and prefix), without duplicates. */
  readonly cidrs: readonly string[];

  constructor(networks: readonly Cidr[]) {
    const seen = new Set<string>();
    for (const n of networks) {
      const text = formatCidr(n);
      if (seen.has(text)) continue;
      seen.add(text);
      this.ranges.push([ipaddr.parse(n.address), n.prefix]);
    }
    this.cidrs = Object.freeze([...seen]);
  }

  /** Builds a set from CIDR texts; throws naming the first entry that is not a network. */
  static parse(texts: readonly string[]): AddressSet {
    const networks = texts.map((t) => {
      const parsed = parseCidr(t);
      if (!parsed) throw new Error(`not a CIDR: "${t.slice(0, 60)}"`);
      return parsed;
    });
    return new AddressSet(networks);
  }

  get size(): number {
    return this.cidrs.length;
  }

  /** Whether `address` (any IP literal; mapped IPv6 included) lies in one of the networks. */
  has(address: string | undefined): boolean {
    if (address === undefined || this.ranges.length === 0) return false;
    const parsed = canonical(address);
    // subnetMatch compares an address only with networks of its own family
    return parsed !== undefined && ipaddr.subnetMatch(parsed, { inside: this.ranges }, 'outside') === 'inside';
  }
}
