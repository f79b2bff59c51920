import { BlockList, isIP } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

/** One network: a canonical address, its prefix length and family. */
export interface Cidr {
  address: string;
  prefix: number;
  family: IpFamily;
}

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The canonical text of an IP address literal, or undefined when `input` is not one: IPv4 as is,
 * IPv6 lower-case and compressed (via the WHATWG URL serializer), an IPv6 zone (`%eth0`) dropped,
 * and an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`) turned into its IPv4 form,
 * so a dual-stack socket's peer matches IPv4 rules and logs as a plain IPv4 address.
 */
export function normalizeAddress(input: string): string | undefined {
  let text = input.trim();
  const zone = text.indexOf('%');
  if (zone > 0 && text.includes(':')) text = text.slice(0, zone);
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return undefined;
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = MAPPED.exec(canonical);
  if (!mapped) return canonical;
  const hi = parseInt(mapped[1], 16);
  const lo = parseInt(mapped[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * Parses `address/prefix` (IPv4 or IPv6); a bare address is a single host (/32 or /128). Host bits
 * may be set (`10.1.2.3/8` means 10.0.0.0/8). An IPv4-mapped IPv6 network with a prefix of at
 * least 96 becomes the equivalent IPv4 network. Undefined when the text is not a network.
 */
export function parseCidr(input: string): Cidr | undefined {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  if (addressText.includes('%')) return undefined;
  const rawFamily = isIP(addressText);
  if (rawFamily === 0) return undefined;
  const rawMax = rawFamily === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const rawPrefix = prefixText === undefined ? rawMax : Number(prefixText);
  if (rawPrefix > rawMax) return undefined;
  const address = normalizeAddress(addressText);
  if (address === undefined) return undefined;
  if (rawFamily === 6 && isIP(address) === 4) {
    // ::ffff:a.b.c.d/p: only a prefix covering the whole ::ffff:0:0/96 block has an IPv4 meaning
    if (rawPrefix < 96) return { address: canonicalIpv6(addressText), prefix: rawPrefix, family: 'ipv6' };
    return { address, prefix: rawPrefix - 96, family: 'ipv4' };
  }
  return { address, prefix: rawPrefix, family: rawFamily === 4 ? 'ipv4' : 'ipv6' };
}

function canonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

export function isCidr(input: string): boolean {
  return parseCidr(input) !== undefined;
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefix}`;
}

/**
 * An immutable set of networks that answers "is this address inside?" with Node's `net.BlockList`
 * (IPv4 and IPv6; an IPv4-mapped IPv6 address matches IPv4 networks).
 */
export class AddressSet {
  static readonly EMPTY = new AddressSet([]);

  private readonly list = new BlockList();
  /** The networks, canonical (`10.0.0.0/8` style, as given but normalized), without duplicates. */
  readonly cidrs: readonly string[];

  constructor(networks: readonly Cidr[]) {
    const seen = new Set<string>();
    for (const n of networks) {
      const text = formatCidr(n);
      if (seen.has(text)) continue;
      seen.add(text);
      this.list.addSubnet(n.address, n.prefix, n.family);
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
    if (address === undefined || this.cidrs.length === 0) return false;
    const canonical = normalizeAddress(address);
    if (canonical === undefined) return false;
    return this.list.check(canonical, isIP(canonical) === 4 ? 'ipv4' : 'ipv6');
  }
}
