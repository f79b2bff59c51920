/**
 * The seed as ServiceNow tables. Every stored value is a string, exactly as the Table API sends it
 * with `sysparm_display_value=false`; reference fields hold the referenced record's sys_id
 * (or '' when empty).
 */
import { DEMO_CUSTOMERS, type DemoCustomer } from '../shared/seed.js';
import type { FieldType } from './encoded-query.js';

export type SnRecord = Record<string, string>;

export interface FieldDef {
  type: FieldType;
  /** For reference fields: the referenced table. */
  reference?: string;
}

export interface TableDef {
  name: string;
  fields: Record<string, FieldDef>;
}

export const TABLES: Readonly<Record<string, TableDef>> = Object.freeze({
  core_company: {
    name: 'core_company',
    fields: {
      sys_id: { type: 'sys_id' },
      name: { type: 'string' },
      u_customer_number: { type: 'string' },
      phone: { type: 'string' },
      city: { type: 'string' },
      country: { type: 'string' },
      customer: { type: 'boolean' },
      sys_created_on: { type: 'datetime' },
      sys_updated_on: { type: 'datetime' },
    },
  },
  incident: {
    name: 'incident',
    fields: {
      sys_id: { type: 'sys_id' },
      number: { type: 'string' },
      state: { type: 'integer' },
      active: { type: 'boolean' },
      short_description: { type: 'string' },
      opened_at: { type: 'datetime' },
      sys_created_on: { type: 'datetime' },
      sys_updated_on: { type: 'datetime' },
      priority: { type: 'integer' },
      company: { type: 'reference', reference: 'core_company' },
      caller_id: { type: 'reference', reference: 'sys_user' },
    },
  },
});

/** ServiceNow's epoch-less wire date for the company records (fixed: the seed never changes). */
const COMPANY_CREATED = '2024-03-04 09:15:00';

export function companyRecord(c: DemoCustomer): SnRecord {
  return {
    sys_id: c.serviceNowCompanySysId,
    name: c.name,
    u_customer_number: c.customerId,
    phone: c.phone,
    city: c.city,
    country: c.country,
    customer: 'true',
    sys_created_on: COMPANY_CREATED,
    sys_updated_on: COMPANY_CREATED,
  };
}

export function incidentRecords(c: DemoCustomer): SnRecord[] {
  return c.tickets.map((t) => ({
    sys_id: t.sysId,
    number: t.number,
    state: t.state,
    active: t.active ? 'true' : 'false',
    short_description: t.shortDescription,
    opened_at: t.openedAt,
    sys_created_on: t.openedAt,
    sys_updated_on: t.updatedAt,
    // deterministic 1..5 from the sys_id (the seed has no priority)
    priority: String((parseInt(t.sysId.slice(0, 2), 16) % 5) + 1),
    company: c.serviceNowCompanySysId,
    caller_id: '',
  }));
}

/** Fresh mutable tables built from the seed (only customers present in ServiceNow). */
export function seedTables(customers: readonly DemoCustomer[] = DEMO_CUSTOMERS): Map<string, SnRecord[]> {
  const present = customers.filter((c) => c.presentIn.servicenow);
  return new Map<string, SnRecord[]>([
    ['core_company', present.map(companyRecord)],
    ['incident', present.flatMap(incidentRecords)],
  ]);
}

/** Own-property look-ups only (so `constructor` or `__proto__` is never a table or a field). */
export function tableDef(name: string): TableDef | undefined {
  return Object.hasOwn(TABLES, name) ? TABLES[name] : undefined;
}

export function fieldDef(table: TableDef | undefined, name: string): FieldDef | undefined {
  return table && Object.hasOwn(table.fields, name) ? table.fields[name] : undefined;
}
