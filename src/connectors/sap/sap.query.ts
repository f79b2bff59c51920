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

export function queryString(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
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

/** `Customer eq 'a'`, or `(Customer eq 'a' or Customer eq 'b')` for several (OData V2 has no `in`). */
function customerIs(customerNumbers: readonly string[]): string {
  const terms = customerNumbers.map((c) => `Customer eq ${odataString(c)}`);
  return terms.length === 1 ? terms[0]! : `(${terms.join(' or ')})`;
}

function openItemsFilter(customerNumbers: string | readonly string[]): string {
  return `${customerIs(typeof customerNumbers === 'string' ? [customerNumbers] : customerNumbers)} and IsCleared eq false`;
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
export function nextOpenItemsUrl(next: string, customerNumber: string | readonly string[], sapClient: string): string | undefined {
  return nextPageUrl(next, OPEN_ITEMS_PATH, openItemsFilter(customerNumber), sapClient);
}

/** The gateway's next link of a batched customer read (same rules as {@link nextOpenItemsUrl}). */
export function nextCustomersUrl(next: string, customerNumbers: readonly string[], sapClient: string): string | undefined {
  return nextPageUrl(next, CUSTOMERS_PATH, customersFilter(customerNumbers), sapClient);
}

function nextPageUrl(next: string, path: string, filter: string, sapClient: string): string | undefined {
  let url: URL;
  try {
    url = new URL(next, 'http://gateway.invalid');
  } catch {
    return undefined;
  }
  if (!url.pathname.endsWith(path) || url.searchParams.get('$filter') !== filter) return undefined;
  const client = url.searchParams.get('sap-client');
  if (client !== null && client !== sapClient) return undefined;
  const query = url.search.slice(1);
  return `${path}?${query}${client === null ? `&${queryString([['sap-client', sapClient]])}` : ''}`;
}

/** The entity path of a customer (for writes). */
export function customerPath(customerNumber: string, sapClient: string): string {
  return `${BUSINESS_PARTNER_SERVICE}/A_Customer${keyPredicate(customerNumber)}?${queryString([['sap-client', sapClient]])}`;
}

/** Many customers' master records in one read (an `or` chain on `A_Customer`). */
export function customersUrl(customerNumbers: readonly string[], sapClient: string): string {
  const q = queryString([
    ['$filter', customersFilter(customerNumbers)],
    ['$select', 'Customer,CustomerName,CustomerFullName,DeletionIndicator'],
    ['$format', 'json'],
    ['sap-client', sapClient],
  ]);
  return `${CUSTOMERS_PATH}?${q}`;
}

const CUSTOMERS_PATH = `${BUSINESS_PARTNER_SERVICE}/A_Customer`;

function customersFilter(customerNumbers: readonly string[]): string {
  return customerNumbers.map((c) => `Customer eq ${odataString(c)}`).join(' or ');
}

/** Many customers' open items in one read (paged like one customer's); the customer is selected to tell them apart. */
export function openItemsOfUrl(customerNumbers: readonly string[], sapClient: string): string {
  const q = queryString([
    ['$filter', openItemsFilter(customerNumbers)],
    ['$select', 'Customer,AmountInCompanyCodeCurrency,CompanyCodeCurrency'],
    ['$inlinecount', 'allpages'],
    ['$format', 'json'],
    ['sap-client', sapClient],
  ]);
  return `${OPEN_ITEMS_PATH}?${q}`;
}
