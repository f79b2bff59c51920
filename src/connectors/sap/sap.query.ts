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

export function openItemsUrl(customerNumber: string, sapClient: string): string {
  const q = queryString([
    ['$filter', `Customer eq ${odataString(customerNumber)} and IsCleared eq false`],
    ['$select', 'AmountInCompanyCodeCurrency,CompanyCodeCurrency'],
    ['$format', 'json'],
    ['sap-client', sapClient],
  ]);
  return `${OPEN_ITEMS_SERVICE}/A_OperationalAcctgDocItemCube?${q}`;
}

/** The entity path of a customer (for writes). */
export function customerPath(customerNumber: string, sapClient: string): string {
  return `${BUSINESS_PARTNER_SERVICE}/A_Customer${keyPredicate(customerNumber)}?${queryString([['sap-client', sapClient]])}`;
}
