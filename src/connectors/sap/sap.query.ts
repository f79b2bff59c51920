import { queryString } from '../query-string.js';

/**
 * Building OData V2 URLs safely: string literals double their single quotes, then every query
 * value is percent-encoded (spaces as %20, never '+', which some gateways keep literally).
 */

export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `('<key>')` for an entity key predicate, encoded for the path. */
export function keyPredicate(value: string): string {
  return `(${encodeURIComponent(odataString(value))})`;
}

export const BUSINESS_PARTNER_SERVICE = '/sap/opu/odata/sap/API_BUSINESS_PARTNER';
export const OPEN_ITEMS_SERVICE = '/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV';

export function customerUrl(customerNumber: string, sapClient: string): string {
  const q = queryString([
    ['$select', 'Customer,CustomerName,CustomerFullName,DeletionIndicator'],
    ['$format', 'json'],
    ['sap-client', sapClient],
  ]);
  return `${BUSINESS_PARTNER_SERVICE}/A_Customer${keyPredicate(customerNumber)}?${q}`;
}

const OPEN_ITEMS_PATH = `${OPEN_ITEMS_SERVICE}/A_OperationalAcctgDocItemCube`;

function openItemsFilter(customerNumber: string): string {
  return `Customer eq ${odataString(customerNumber)} and IsCleared eq false`;
}

/**
 * A customer's open (uncleared) items, item by item: the cube's `$metadata` marks no aggregation
 * (no `sap:semantics="aggregate"`, no measure role on the amount), so selecting the currency and the
 * amount does not sum on the server. No `$top`: a gateway honours it as a client limit and would cut
 * the list short without saying so; it pages by itself (`__next`), and `$inlinecount` gives the total
 * the pages must add up to.
 */
export function openItemsUrl(customerNumber: string, sapClient: string): string {
  const q = queryString([
    ['$filter', openItemsFilter(customerNumber)],
    ['$select', 'AmountInCompanyCodeCurrency,CompanyCodeCurrency'],
    ['$inlinecount', 'allpages'],
    ['$format', 'json'],
    ['sap-client', sapClient],
  ]);
  return `${OPEN_ITEMS_PATH}?${q}`;
}

/**
 * The gateway's `__next` link → the request for the next page, or undefined when the link is not
 * a next page of the same query. Its query is the gateway's to shape (its `$skiptoken` included) and
 * is kept, only normalized by a URL parser; its host is not: the path and query are asked of our own
 * base URL, since a gateway behind a web dispatcher often names an internal host, and credentials
 * never follow a link elsewhere. It must address the open-items collection with the same `$filter`
 * (the same customer) and this client.
 */
export function nextOpenItemsUrl(next: string, customerNumber: string, sapClient: string): string | undefined {
  let url: URL;
  try {
    url = new URL(next, 'http://gateway.invalid');
  } catch {
    return undefined;
  }
  if (!url.pathname.endsWith(OPEN_ITEMS_PATH) || url.searchParams.get('$filter') !== openItemsFilter(customerNumber)) return undefined;
  const client = url.searchParams.get('sap-client');
  if (client !== null && client !== sapClient) return undefined;
  const query = url.search.slice(1);
  return `${OPEN_ITEMS_PATH}?${query}${client === null ? `&${queryString([['sap-client', sapClient]])}` : ''}`;
}

/** The entity path of a customer (for writes). */
export function customerPath(customerNumber: string, sapClient: string): string {
  return `${BUSINESS_PARTNER_SERVICE}/A_Customer${keyPredicate(customerNumber)}?${queryString([['sap-client', sapClient]])}`;
}
