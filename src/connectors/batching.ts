/**
 * Splits items into as few runs as halving allows such that each run `fits` (e.g. its request URL
 * stays within the vendor's bound). A run of one that does not fit is a request no vendor would
 * take: it throws, since no split can help.
 */
export function splitToFit<T>(items: readonly T[], fits: (run: readonly T[]) => boolean): T[][] {
  if (items.length === 0) return [];
  if (fits(items)) return [[...items]];
  if (items.length === 1) throw new RangeError('a single item exceeds the request bound');
  const half = Math.ceil(items.length / 2);
  return [...splitToFit(items.slice(0, half), fits), ...splitToFit(items.slice(half), fits)];
}

/**
 * The bytes a request target (path and query) takes on the wire: as the URL parser the HTTP client
 * goes through serializes it (it percent-encodes what a query may not hold raw, such as `'`), so a
 * bound checked here is the bound the vendor sees.
 */
export function targetBytes(target: string): number {
  const url = new URL(target, 'http://target.invalid');
  return Buffer.byteLength(url.pathname + url.search, 'utf8');
}
