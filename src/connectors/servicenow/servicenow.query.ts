import { CUSTOMER_NUMBER } from '../identifiers.js';

/**
 * Building ServiceNow encoded queries safely. ServiceNow silently drops a term it cannot parse
 * and runs the rest, so an injected `^OR…` would widen the query to other customers. Values are
 * therefore checked against a strict pattern first (refused otherwise) and `^` is doubled as
 * ServiceNow's own escape; field names come only from validated configuration.
 */
export function encodedValue(value: string): string {
  if (!CUSTOMER_NUMBER.test(value)) throw new RangeError('value not allowed in an encoded query');
  return value.replaceAll('^', '^^');
}

export function companyByCustomerNumber(field: string, customerNumber: string): string {
  return `${field}=${encodedValue(customerNumber)}`;
}

export function activeIncidentsOfCustomer(field: string, customerNumber: string): string {
  return `active=true^company.${field}=${encodedValue(customerNumber)}`;
}

export function queryString(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

export function companyUrl(field: string, customerNumber: string): string {
  return `/api/now/table/core_company?${queryString([
    ['sysparm_query', companyByCustomerNumber(field, customerNumber)],
    ['sysparm_fields', 'sys_id,name'],
    ['sysparm_limit', '1'],
    ['sysparm_exclude_reference_link', 'true'],
  ])}`;
}

export function openTicketCountUrl(field: string, customerNumber: string): string {
  return `/api/now/stats/incident?${queryString([
    ['sysparm_count', 'true'],
    ['sysparm_query', activeIncidentsOfCustomer(field, customerNumber)],
  ])}`;
}

/** Many customers' companies in one Table API read (`<field>IN a,b,c`). */
export function companiesUrl(field: string, customerNumbers: readonly string[]): string {
  return `/api/now/table/core_company?${queryString([
    ['sysparm_query', `${field}IN${customerNumbers.map(encodedValue).join(',')}`],
    ['sysparm_fields', `sys_id,name,${field}`],
    ['sysparm_limit', String(customerNumbers.length)],
    ['sysparm_exclude_reference_link', 'true'],
  ])}`;
}

/** Many customers' active incident counts in one Aggregate API call, grouped by the company's customer number (dot-walked). */
export function openTicketCountsUrl(field: string, customerNumbers: readonly string[]): string {
  return `/api/now/stats/incident?${queryString([
    ['sysparm_count', 'true'],
    ['sysparm_group_by', `company.${field}`],
    ['sysparm_query', `active=true^company.${field}IN${customerNumbers.map(encodedValue).join(',')}`],
  ])}`;
}
