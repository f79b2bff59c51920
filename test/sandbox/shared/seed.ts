/**
 * The demo customers every simulator is seeded with. Generated deterministically (no randomness),
 * so tests, the sandbox and benchmarks all see the same data.
 *
 * The canonical identity is the enterprise customer number (`customerId`, 10 digits as SAP keeps
 * customer numbers). Every system stores it: Salesforce in `Customer_Number__c` on Account, SAP as
 * the `Customer` key, ServiceNow in `u_customer_number` on `core_company`.
 */

export type LoyaltyTier = 'Bronze' | 'Silver' | 'Gold' | 'Platinum';
export type SourceName = 'salesforce' | 'sap' | 'servicenow';

export interface DemoTicket {
  number: string; // INC0010001
  sysId: string; // 32 hex
  state: string; // ServiceNow state code as a string: 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed
  active: boolean;
  shortDescription: string;
  openedAt: string; // 'YYYY-MM-DD HH:mm:ss' (ServiceNow's UTC wire format)
  updatedAt: string;
}

export interface DemoOpenItem {
  /** Edm.Decimal as SAP sends it: a string with the currency's decimals, negative for credits. */
  amount: string;
  documentDate: number; // epoch ms, sent as /Date(ms)/
  cleared: boolean;
  /** Company code currency when the item is booked in another country's company code (default: the customer's). */
  currency?: string;
}

export interface DemoCustomer {
  customerId: string;
  name: string;
  email: string;
  /** E.164 */
  phone: string;
  loyaltyTier: LoyaltyTier;
  /** ISO date (YYYY-MM-DD) of the last interaction recorded in Salesforce. */
  lastInteractionDate: string;
  currency: string;
  openItems: DemoOpenItem[];
  tickets: DemoTicket[];
  /** Systems this customer exists in (a few customers are missing from one system). */
  presentIn: Record<SourceName, boolean>;
  salesforceId: string; // 18-char Account Id
  sapBusinessPartner: string; // BusinessPartner key
  serviceNowCompanySysId: string; // 32 hex
  city: string;
  country: string;
}

const FIRST = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka', 'Tyrell', 'Cyberdyne',
  'Soylent', 'Aperture', 'Vandelay', 'Pied Piper', 'Dunder', 'Gekko', 'Oceanic', 'Massive', 'Monarch', 'Nakatomi'];
const LAST = ['Corp', 'Industries', 'Holdings', 'Logistics', 'Retail', 'Foods', 'Energy', 'Systems', 'Partners', 'Group'];
const TIERS: LoyaltyTier[] = ['Bronze', 'Silver', 'Gold', 'Platinum'];
const PLACES: Array<{ city: string; country: string; currency: string; phone: (n: number) => string }> = [
  { city: 'San Francisco', country: 'US', currency: 'USD', phone: (n) => `+1415555${String(100 + n).padStart(4, '0')}` },
  { city: 'Dublin', country: 'IE', currency: 'EUR', phone: (n) => `+35312${String(340000 + n).padStart(6, '0')}` },
  { city: 'London', country: 'GB', currency: 'GBP', phone: (n) => `+4420794${String(60000 + n).padStart(5, '0')}` },
  { city: 'Frankfurt', country: 'DE', currency: 'EUR', phone: (n) => `+49697${String(1000000 + n).padStart(7, '0')}` },
  { city: 'Tokyo', country: 'JP', currency: 'JPY', phone: (n) => `+8135${String(2100000 + n)}` },
  { city: 'Zurich', country: 'CH', currency: 'CHF', phone: (n) => `+4144${String(5000000 + n)}` },
];
const TICKET_TOPICS = ['Invoice dispute', 'Delivery delayed', 'Portal login fails', 'Refund request', 'Damaged goods',
  'Change billing address', 'Contract renewal question', 'Wrong item shipped'];
const OPEN_STATES = ['1', '2', '3'];
const CLOSED_STATES = ['6', '7'];

/** Deterministic pseudo-random stream (mulberry32) so the seed never changes between runs. */
function stream(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(rand: () => number, len: number): string {
  let out = '';
  while (out.length < len) out += Math.floor(rand() * 16).toString(16);
  return out;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function snDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

function amount(rand: () => number, currency: string): string {
  const decimals = currency === 'JPY' ? 0 : 3; // SAP sends amounts with the field's scale
  const value = currency === 'JPY' ? Math.floor(rand() * 400_000) : Math.floor(rand() * 5_000_000) / 1000;
  return value.toFixed(decimals);
}

/** Fixed reference instant: all dates in the seed are relative to it, never to "now". */
export const SEED_EPOCH_MS = Date.UTC(2026, 10, 1, 12, 0, 0);

const DAY_MS = 86_400_000;
const MULTI_CURRENCY_INDEX = 55;
const MANY_ITEMS_INDEX = 56;
/** More than two pages of a gateway's usual 100-entry page (so the third page is a partial one). */
export const MANY_OPEN_ITEMS = 230;

/** Receivables in three company codes (EUR, USD, JPY) plus a cleared GBP item that must not count. */
function multiCurrencyItems(): DemoOpenItem[] {
  return [
    { amount: '1250.500', documentDate: SEED_EPOCH_MS - 10 * DAY_MS, cleared: false, currency: 'EUR' },
    { amount: '-100.250', documentDate: SEED_EPOCH_MS - 5 * DAY_MS, cleared: false, currency: 'EUR' },
    { amount: '80.000', documentDate: SEED_EPOCH_MS - 20 * DAY_MS, cleared: false, currency: 'USD' },
    { amount: '0.005', documentDate: SEED_EPOCH_MS - 20 * DAY_MS, cleared: false, currency: 'USD' },
    { amount: '12000', documentDate: SEED_EPOCH_MS - 30 * DAY_MS, cleared: false, currency: 'JPY' },
    { amount: '999.990', documentDate: SEED_EPOCH_MS - 300 * DAY_MS, cleared: true, currency: 'GBP' },
  ];
}

/** `count` open items with amounts of every shape (three decimals, some credits), none drawn from the random stream. */
function manyOpenItems(count: number): DemoOpenItem[] {
  return Array.from({ length: count }, (_, k) => {
    const thousandths = ((k + 1) * 7919) % 1_000_000; // 0.000 … 999.999
    const text = `${Math.floor(thousandths / 1000)}.${String(thousandths % 1000).padStart(3, '0')}`;
    return { amount: k % 10 === 9 ? `-${text}` : text, documentDate: SEED_EPOCH_MS - (k % 90) * DAY_MS, cleared: k % 25 === 24 };
  });
}

function buildCustomers(count: number): DemoCustomer[] {
  const rand = stream(20261123);
  const customers: DemoCustomer[] = [];
  let ticketNo = 10001;
  for (let i = 0; i < count; i++) {
    const place = PLACES[i % PLACES.length];
    const name = i === 7 ? "O'Neil & Sons" : `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / 2) % LAST.length]}${i >= 20 ? ` ${Math.floor(i / 20) + 1}` : ''}`;
    const customerId = `00101${String(i + 1).padStart(5, '0')}`;
    const itemCount = i % 5 === 4 ? 0 : 1 + Math.floor(rand() * 4);
    const openItems: DemoOpenItem[] = [];
    for (let k = 0; k < itemCount; k++) {
      openItems.push({ amount: amount(rand, place.currency), documentDate: SEED_EPOCH_MS - Math.floor(rand() * 90) * 86_400_000, cleared: false });
    }
    // a credit note and a cleared item on some customers, so sums must skip cleared items and handle negatives
    if (i % 6 === 1) openItems.push({ amount: place.currency === 'JPY' ? '-5000' : '-100.250', documentDate: SEED_EPOCH_MS - 86_400_000, cleared: false });
    if (i % 4 === 0) openItems.push({ amount: amount(rand, place.currency), documentDate: SEED_EPOCH_MS - 200 * 86_400_000, cleared: true });
    // decimal-drift trap: 0.1 + 0.2 must be 0.300
    if (i === 2) openItems.splice(0, openItems.length, { amount: '0.100', documentDate: SEED_EPOCH_MS, cleared: false }, { amount: '0.200', documentDate: SEED_EPOCH_MS, cleared: false });
    // (these replace the drawn items and draw nothing, so every other customer stays as it was)
    if (i === MULTI_CURRENCY_INDEX) openItems.splice(0, openItems.length, ...multiCurrencyItems());
    if (i === MANY_ITEMS_INDEX) openItems.splice(0, openItems.length, ...manyOpenItems(MANY_OPEN_ITEMS));

    const ticketCount = i === 5 ? 25 : Math.floor(rand() * 4);
    const closedCount = Math.floor(rand() * 3);
    const tickets: DemoTicket[] = [];
    for (let k = 0; k < ticketCount + closedCount; k++) {
      const active = k < ticketCount;
      const opened = SEED_EPOCH_MS - Math.floor(rand() * 60 * 86_400_000);
      tickets.push({
        number: `INC${String(ticketNo++).padStart(7, '0')}`,
        sysId: hex(rand, 32),
        state: active ? OPEN_STATES[k % OPEN_STATES.length] : CLOSED_STATES[k % CLOSED_STATES.length],
        active,
        shortDescription: TICKET_TOPICS[(i + k) % TICKET_TOPICS.length],
        openedAt: snDate(opened),
        updatedAt: snDate(opened + Math.floor(rand() * 5 * 86_400_000)),
      });
    }
    const lastInteraction = new Date(SEED_EPOCH_MS - Math.floor(rand() * 120) * 86_400_000).toISOString().slice(0, 10);
    customers.push({
      customerId,
      name,
      email: `contact${i + 1}@${name.toLowerCase().replace(/[^a-z]+/g, '')}.example.com`,
      phone: place.phone(i),
      loyaltyTier: TIERS[i % TIERS.length],
      lastInteractionDate: lastInteraction,
      currency: place.currency,
      openItems,
      tickets,
      presentIn: {
        // customers 0010100051..53 are each missing from one system; 0010100054 exists only in Salesforce
        salesforce: i !== 50,
        sap: i !== 51 && i !== 53,
        servicenow: i !== 52 && i !== 53,
      },
      salesforceId: `001${hex(rand, 12).toUpperCase()}AAA`,
      sapBusinessPartner: String(1003700 + i + 1),
      serviceNowCompanySysId: hex(rand, 32),
      city: place.city,
      country: place.country,
    });
  }
  return customers;
}

/** The demo customers (60). Treat as read-only; simulators copy what they mutate. */
export const DEMO_CUSTOMERS: readonly DemoCustomer[] = Object.freeze(buildCustomers(60));

/** Most customers `seededCustomers` makes (phone numbers stay unique and well-formed up to here). */
export const MAX_SEEDED_CUSTOMERS = 9000;

/**
 * The demo customers followed by more made the same way, for load tests that need many distinct
 * customers (`npm run bench`). Deterministic; the first 60 are exactly `DEMO_CUSTOMERS`, the
 * others (`0010100061` …) exist in every system.
 */
export function seededCustomers(count: number): readonly DemoCustomer[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SEEDED_CUSTOMERS) throw new Error(`count must be 1..${MAX_SEEDED_CUSTOMERS}, got ${count}`);
  return count <= DEMO_CUSTOMERS.length ? DEMO_CUSTOMERS.slice(0, count) : Object.freeze(buildCustomers(count));
}

/** A customer number that is valid in shape but exists in no system. */
export const UNKNOWN_CUSTOMER_ID = '0099999999';

export function demoCustomer(customerId: string): DemoCustomer {
  const found = DEMO_CUSTOMERS.find((c) => c.customerId === customerId);
  if (!found) throw new Error(`no demo customer ${customerId}`);
  return found;
}

/** Well-known demo customers, named for what they exercise. */
export const DEMO = {
  /** Present everywhere, a few tickets, USD. */
  healthy: '0010100001',
  /** Open items 0.100 + 0.200: the balance must be exactly 0.300. */
  decimalTrap: '0010100003',
  /** 25 open tickets. */
  manyTickets: '0010100006',
  /** Name with an apostrophe and ampersand. */
  apostrophe: '0010100008',
  /** Open items in EUR, USD and JPY (and a cleared GBP one): one balance per currency. */
  multiCurrency: '0010100056',
  /** 230 items (some cleared): more than two pages of the SAP gateway's server-driven paging. */
  manyOpenItems: '0010100057',
  missingFromSalesforce: '0010100051',
  missingFromSap: '0010100052',
  missingFromServiceNow: '0010100053',
  onlyInSalesforce: '0010100054',
} as const;
