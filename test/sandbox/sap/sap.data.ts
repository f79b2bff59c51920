/**
 * The demo customers as SAP S/4HANA records: entity types of API_BUSINESS_PARTNER and
 * API_OPLACCTGDOCITEMCUBE_SRV, and the mapping seed → rows in wire format (Edm.Decimal and
 * Edm.Int64 as strings, Edm.DateTime as `/Date(ms)/`).
 *
 * Seed property → SAP field:
 *   customerId          → A_Customer.Customer, A_BusinessPartner.Customer, cube Customer
 *   sapBusinessPartner  → A_BusinessPartner.BusinessPartner (also on addresses and phone numbers)
 *   name                → BusinessPartnerFullName, CustomerFullName, CustomerName (first 35 chars)
 *   phone (E.164)       → A_AddressPhoneNumber.InternationalPhoneNumber (PhoneNumber = national part)
 *   city, country       → A_BusinessPartnerAddress.CityName / Country, phone DestinationLocationCountry
 *   currency            → cube CompanyCodeCurrency (openItems[].currency, when set, books the item in a
 *                         company code of that currency instead: one customer, several currencies)
 *   openItems[].amount  → AmountInCompanyCodeCurrency (verbatim), .cleared → IsCleared,
 *   openItems[].documentDate → PostingDate, DocumentDate (NetDueDate = +30 days)
 */
import { DEMO_CUSTOMERS, type DemoCustomer, type DemoOpenItem } from '../shared/seed.js';
import type { EntitySchema } from './odata-filter.js';

export type Row = Record<string, string | boolean | null>;

export interface EntitySetDef {
  service: 'API_BUSINESS_PARTNER' | 'API_OPLACCTGDOCITEMCUBE_SRV';
  name: string;
  /** Qualified type name as it appears in `__metadata.type`. */
  type: string;
  keys: readonly string[];
  props: EntitySchema;
}

export const BUSINESS_PARTNER: EntitySetDef = {
  service: 'API_BUSINESS_PARTNER',
  name: 'A_BusinessPartner',
  type: 'API_BUSINESS_PARTNER.A_BusinessPartnerType',
  keys: ['BusinessPartner'],
  props: {
    BusinessPartner: 'string',
    Customer: 'string',
    Supplier: 'string',
    BusinessPartnerCategory: 'string',
    BusinessPartnerFullName: 'string',
    BusinessPartnerGrouping: 'string',
    BusinessPartnerName: 'string',
    OrganizationBPName1: 'string',
    SearchTerm1: 'string',
    BusinessPartnerIsBlocked: 'boolean',
    IsMarkedForArchiving: 'boolean',
    CreationDate: 'datetime',
    LastChangeDate: 'datetime',
  },
};

export const CUSTOMER: EntitySetDef = {
  service: 'API_BUSINESS_PARTNER',
  name: 'A_Customer',
  type: 'API_BUSINESS_PARTNER.A_CustomerType',
  keys: ['Customer'],
  props: {
    Customer: 'string',
    CustomerName: 'string',
    CustomerFullName: 'string',
    CustomerAccountGroup: 'string',
    CustomerClassification: 'string',
    PaymentTerms: 'string',
    BillingIsBlockedForCustomer: 'string',
    OrderIsBlockedForCustomer: 'string',
    PostingIsBlocked: 'boolean',
    DeletionIndicator: 'boolean',
    CreationDate: 'datetime',
  },
};

export const BUSINESS_PARTNER_ADDRESS: EntitySetDef = {
  service: 'API_BUSINESS_PARTNER',
  name: 'A_BusinessPartnerAddress',
  type: 'API_BUSINESS_PARTNER.A_BusinessPartnerAddressType',
  keys: ['BusinessPartner', 'AddressID'],
  props: {
    BusinessPartner: 'string',
    AddressID: 'string',
    CityName: 'string',
    Country: 'string',
    Language: 'string',
    ValidityStartDate: 'datetime',
  },
};

export const ADDRESS_PHONE_NUMBER: EntitySetDef = {
  service: 'API_BUSINESS_PARTNER',
  name: 'A_AddressPhoneNumber',
  type: 'API_BUSINESS_PARTNER.A_AddressPhoneNumberType',
  keys: ['AddressID', 'Person', 'OrdinalNumber'],
  props: {
    AddressID: 'string',
    Person: 'string',
    OrdinalNumber: 'string',
    // Not a property of the real A_AddressPhoneNumberType: added so a phone look-up is ONE call.
    BusinessPartner: 'string',
    DestinationLocationCountry: 'string',
    IsDefaultPhoneNumber: 'boolean',
    PhoneNumber: 'string',
    PhoneNumberExtension: 'string',
    InternationalPhoneNumber: 'string',
    PhoneNumberType: 'string',
  },
};

export const OPEN_ITEM: EntitySetDef = {
  service: 'API_OPLACCTGDOCITEMCUBE_SRV',
  name: 'A_OperationalAcctgDocItemCube',
  type: 'API_OPLACCTGDOCITEMCUBE_SRV.A_OperationalAcctgDocItemCubeType',
  keys: ['CompanyCode', 'AccountingDocument', 'FiscalYear', 'AccountingDocumentItem'],
  props: {
    CompanyCode: 'string',
    AccountingDocument: 'string',
    FiscalYear: 'string',
    AccountingDocumentItem: 'string',
    AccountingDocumentType: 'string',
    Customer: 'string',
    DebitCreditCode: 'string',
    AmountInCompanyCodeCurrency: 'decimal',
    CompanyCodeCurrency: 'string',
    IsCleared: 'boolean',
    PostingDate: 'datetime',
    DocumentDate: 'datetime',
    NetDueDate: 'datetime',
  },
};

export const ENTITY_SETS = [BUSINESS_PARTNER, CUSTOMER, BUSINESS_PARTNER_ADDRESS, ADDRESS_PHONE_NUMBER, OPEN_ITEM] as const;

const DAY_MS = 86_400_000;
/** CreationDate of the first partner (2022-09-05); later partners one day apart. */
export const FIRST_CREATION_MS = 1662336000000;
/** ETags (last change) start here: 2025-01-15T08:30:00Z plus one minute per customer. */
const FIRST_CHANGE_MS = Date.UTC(2025, 0, 15, 8, 30, 0);

const COMPANY_CODES: Record<string, string> = { US: '1710', IE: '1310', GB: '1410', DE: '1010', JP: '1810', CH: '1110' };
/** Company codes by their currency, for items booked outside the customer's home company code. */
const CURRENCY_COMPANY_CODES: Record<string, string> = { USD: '1710', EUR: '1010', GBP: '1410', JPY: '1810', CHF: '1110' };
const DIAL_CODES: Record<string, string> = { US: '1', IE: '353', GB: '44', DE: '49', JP: '81', CH: '41' };

export function wireDate(ms: number): string {
  return `/Date(${ms})/`;
}

export interface SapState {
  partners: Row[];
  customers: Row[];
  addresses: Row[];
  phones: Row[];
  openItems: Row[];
  /** Customer → last change (epoch ms) behind its ETag. */
  lastChange: Map<string, number>;
  /** Next accounting document number (10 digits once padded). */
  nextDocument: number;
}

/** A fresh, mutable copy of the seed as SAP rows (only customers with presentIn.sap). */
export function buildSapState(customers: readonly DemoCustomer[] = DEMO_CUSTOMERS): SapState {
  const state: SapState = { partners: [], customers: [], addresses: [], phones: [], openItems: [], lastChange: new Map(), nextDocument: 1800000001 };
  customers.forEach((c, index) => {
    if (!c.presentIn.sap) return;
    const created = wireDate(FIRST_CREATION_MS + index * DAY_MS);
    state.partners.push({
      BusinessPartner: c.sapBusinessPartner,
      Customer: c.customerId,
      Supplier: '',
      BusinessPartnerCategory: '2',
      BusinessPartnerFullName: c.name,
      BusinessPartnerGrouping: 'BP02',
      BusinessPartnerName: c.name,
      OrganizationBPName1: c.name.slice(0, 40),
      SearchTerm1: c.name.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 20),
      BusinessPartnerIsBlocked: false,
      IsMarkedForArchiving: false,
      CreationDate: created,
      LastChangeDate: null,
    });
    state.customers.push({
      Customer: c.customerId,
      CustomerName: c.name.slice(0, 35),
      CustomerFullName: c.name,
      CustomerAccountGroup: 'KUNA',
      CustomerClassification: '',
      PaymentTerms: '0001',
      BillingIsBlockedForCustomer: '',
      OrderIsBlockedForCustomer: '',
      PostingIsBlocked: false,
      DeletionIndicator: false,
      CreationDate: created,
    });
    state.lastChange.set(c.customerId, FIRST_CHANGE_MS + index * 60_000);
    const addressId = addressIdOf(index);
    state.addresses.push({
      BusinessPartner: c.sapBusinessPartner,
      AddressID: addressId,
      CityName: c.city,
      Country: c.country,
      Language: 'EN',
      ValidityStartDate: created,
    });
    state.phones.push({
      AddressID: addressId,
      Person: '',
      OrdinalNumber: '1',
      BusinessPartner: c.sapBusinessPartner,
      DestinationLocationCountry: c.country,
      IsDefaultPhoneNumber: true,
      PhoneNumber: nationalNumber(c.phone, c.country),
      PhoneNumberExtension: '',
      InternationalPhoneNumber: c.phone,
      PhoneNumberType: '1',
    });
    for (const item of c.openItems) state.openItems.push(openItemRow(state, c, item));
  });
  return state;
}

/** AddressID of the one address of the partner at seed index `index` (e.g. "28001"). */
export function addressIdOf(index: number): string {
  return String(28001 + index);
}

function nationalNumber(e164: string, country: string): string {
  const dial = DIAL_CODES[country];
  return dial && e164.startsWith(`+${dial}`) ? e164.slice(dial.length + 1) : e164.replace(/^\+/, '');
}

/** One open (or cleared) item of the receivables cube; takes the next document number. */
export function openItemRow(state: SapState, customer: Pick<DemoCustomer, 'customerId' | 'country' | 'currency'>, item: DemoOpenItem): Row {
  const doc = String(state.nextDocument++).padStart(10, '0');
  const credit = item.amount.trim().startsWith('-');
  const currency = item.currency ?? customer.currency;
  const companyCode = item.currency === undefined ? COMPANY_CODES[customer.country] : CURRENCY_COMPANY_CODES[item.currency];
  return {
    CompanyCode: companyCode ?? '1010',
    AccountingDocument: doc,
    FiscalYear: String(new Date(item.documentDate).getUTCFullYear()),
    AccountingDocumentItem: '001',
    AccountingDocumentType: credit ? 'DG' : 'DR',
    Customer: customer.customerId,
    DebitCreditCode: credit ? 'H' : 'S',
    AmountInCompanyCodeCurrency: item.amount,
    CompanyCodeCurrency: currency,
    IsCleared: item.cleared,
    PostingDate: wireDate(item.documentDate),
    DocumentDate: wireDate(item.documentDate),
    NetDueDate: wireDate(item.documentDate + 30 * DAY_MS),
  };
}

/** `W/"datetimeoffset'2025-01-15T08%3A30%3A00.0000000Z'"`: SAP's weak ETag from a change timestamp. */
export function etagOf(lastChangeMs: number): string {
  const iso = new Date(lastChangeMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z').replace(/:/g, '%3A');
  return `W/"datetimeoffset'${iso}'"`;
}
