/**
 * A URL query from ordered pairs, every value percent-encoded (spaces as %20, never '+', which
 * some gateways keep literally). Keys are ours and written encoded already.
 */
export function queryString(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}
