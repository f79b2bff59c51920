import { UpstreamError } from '../upstream/upstream-error.js';

/**
 * The only shapes an identifier may have before it is placed in any query language. These are
 * checked again here (besides the API's DTO validation) so no caller of a connector can widen a
 * query, whatever path the value took.
 */
export const CUSTOMER_NUMBER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const E164 = /^\+[1-9]\d{6,14}$/;
// deliberately narrow: what we place in a query must be boring
export const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function assertIdentifier(source: string, kind: 'customer number' | 'phone' | 'email', value: string): void {
  const pattern = kind === 'customer number' ? CUSTOMER_NUMBER : kind === 'phone' ? E164 : EMAIL;
  if (!pattern.test(value) || value.length > 254) {
    throw new UpstreamError(source, 'bad_request', `refused to query with an invalid ${kind}`);
  }
}
