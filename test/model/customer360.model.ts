/**
 * The reference model: what the service must answer, whatever path an answer takes (live, from
 * the cache, stale, with Redis away). It is the specification the model-based test holds the
 * real service to, so it stays small and reads as rules:
 *
 * - Per source and customer, Redis keeps the source's last answer ("found, with this data" or
 *   "not found") with the time it was fetched. Within the fresh time it is the answer (a hit);
 *   after that the source is asked again. An answer is kept until fresh time + grace, by the
 *   service's clock.
 * - A source that cannot answer now (slow past the deadline, down, failing, malformed,
 *   throttling) is marked with its status and reason; its kept answer, if any, stands in: `stale`
 *   data, or `not_found` when it last said it does not know the customer.
 * - A slow source's late answer is kept when it arrives (the late-completion budget).
 * - A change (billing write, webhook) drops every kept part of that customer.
 * - Phone and e-mail → customer numbers come from Salesforce and are remembered (until Redis
 *   loses them); when Salesforce cannot answer and nothing is remembered, the look-up fails.
 * - Each process also keeps the parts it fetched or read (the near cache), so while Redis is away
 *   kept parts are still served (fresh, then stale within the grace) and new answers are kept;
 *   Redis comes back empty and the kept parts stand. Phone and e-mail look-ups are remembered only
 *   in Redis: without it they are live.
 * - The merged view takes each field from the first source (in registration order) that has it.
 *   `degraded` says some source could not answer now; `not_found` from the source itself is an
 *   answer. The verdict: any data → found; every source not_found → not found; any source only
 *   throttled → found (a degraded view); else unavailable.
 */
import type { CustomerPartial, Money } from '../../src/connectors/connector.js';
import { balanceSummary } from '../../src/genesys/custom-action.mapper.js';

export const SOURCES = ['salesforce', 'sap', 'servicenow'] as const;
export type Source = (typeof SOURCES)[number];

/** What a system does to every call now. */
export const FAULTS = ['none', 'slow', 'down', 'error', 'malformed', 'rate_limited'] as const;
export type Fault = (typeof FAULTS)[number];

/** How each kind of failure shows in an answer. */
const FAILURE: Record<Exclude<Fault, 'none'>, { status: 'timeout' | 'unavailable' | 'rate_limited'; reason: string }> = {
  slow: { status: 'timeout', reason: 'timeout' },
  down: { status: 'unavailable', reason: 'unavailable' },
  error: { status: 'unavailable', reason: 'unavailable' },
  malformed: { status: 'unavailable', reason: 'bad_response' },
  rate_limited: { status: 'rate_limited', reason: 'rate_limited' },
};

export type LookupKind = 'phone' | 'email';

/** What the systems hold now (changed by the test as a CRM user or a billing write would). */
export interface Truth {
  /** A source's part of a customer, or undefined when the source does not know the customer. */
  part(source: Source, customerId: string): CustomerPartial | undefined;
  /** Customer numbers Salesforce finds for a phone (E.164) or e-mail. */
  find(kind: LookupKind, value: string): string[];
}

export interface Timing {
  freshMs: number;
  /** How long after the fresh time an answer is still kept to stand in. */
  graceMs: number;
}

interface Kept {
  found: boolean;
  data?: CustomerPartial;
  fetchedAt: number;
}

export interface ExpectedSource {
  status: 'ok' | 'stale' | 'not_found' | 'timeout' | 'unavailable' | 'rate_limited';
  fetchedAt?: number;
  ageMs?: number;
  cache?: 'hit' | 'miss';
  reason?: string;
  data?: CustomerPartial;
}

const FIELDS = ['accountName', 'loyaltyTier', 'balances', 'openTickets', 'lastInteractionDate', 'email', 'phone'] as const;
export type ViewFields = Record<(typeof FIELDS)[number] | 'balance' | 'currency', string | number | Money[] | null>;

export interface ExpectedProfile {
  customerId: string;
  verdict: 'found' | 'not_found' | 'unavailable';
  sources: Record<Source, ExpectedSource>;
  fields: ViewFields;
  sourceSystems: Source[];
  degraded: boolean;
}

export class Customer360Model {
  redisUp = true;
  readonly faults: Record<Source, Fault> = { salesforce: 'none', sap: 'none', servicenow: 'none' };
  private readonly kept = new Map<string, Kept>();
  private readonly directory = new Map<string, string[]>();
  /** Look-ups the service keeps in its process: those it stored in or read from Redis (the run's look-ups never expire). */
  private readonly nearDirectory = new Map<string, string[]>();

  constructor(
    private readonly truth: Truth,
    private readonly timing: Timing,
    public now: number,
  ) {}

  /** A look-up by customer number: the answer, and what the cache keeps afterwards. */
  profile(customerId: string): ExpectedProfile {
    const sources = {} as Record<Source, ExpectedSource>;
    for (const source of SOURCES) sources[source] = this.resolve(source, customerId);
    return assemble(customerId, sources);
  }

  /** Phone or e-mail → customer numbers, or 'unavailable' when nobody can say. */
  lookup(kind: LookupKind, value: string): string[] | 'unavailable' {
    const key = `${kind}|${value}`;
    // kept in the process (the near tier) as long as the Redis copy it mirrors, Redis outages included
    const near = this.nearDirectory.get(key);
    if (near) return near;
    const remembered = this.redisUp ? this.directory.get(key) : undefined;
    if (remembered) {
      this.nearDirectory.set(key, remembered);
      return remembered;
    }
    if (this.faults.salesforce !== 'none') return 'unavailable';
    const ids = this.truth.find(kind, value);
    if (this.redisUp) {
      this.directory.set(key, ids);
      this.nearDirectory.set(key, ids);
    }
    return ids;
  }

  /** A customer changed (billing write, webhook): nothing kept of it is served again. */
  invalidate(customerId: string): void {
    for (const source of SOURCES) this.kept.delete(keyOf(source, customerId));
  }

  redisGoesAway(): void {
    this.redisUp = false;
  }

  /** Redis is back, empty. */
  redisComesBack(): void {
    this.redisUp = true;
    this.directory.clear();
  }

  private resolve(source: Source, customerId: string): ExpectedSource {
    const key = keyOf(source, customerId);
    let kept = this.kept.get(key);
    const age = kept ? this.now - kept.fetchedAt : 0;
    if (kept && age >= this.timing.freshMs + this.timing.graceMs) kept = undefined;
    if (kept && age < this.timing.freshMs) return { status: kept.found ? 'ok' : 'not_found', fetchedAt: kept.fetchedAt, cache: 'hit', data: kept.data };

    const fault = this.faults[source];
    const live = this.truth.part(source, customerId);
    if (fault === 'none') {
      this.keep(key, live);
      return { status: live ? 'ok' : 'not_found', fetchedAt: this.now, cache: 'miss', data: live };
    }
    const { status, reason } = FAILURE[fault];
    const answer: ExpectedSource = kept
      ? { status: kept.found ? 'stale' : 'not_found', fetchedAt: kept.fetchedAt, ageMs: age, reason, data: kept.data }
      : { status, reason };
    if (fault === 'slow') this.keep(key, live); // it answers after the deadline, and that answer is kept
    return answer;
  }

  private keep(key: string, part: CustomerPartial | undefined): void {
    this.kept.set(key, { found: part !== undefined, data: part && { ...part }, fetchedAt: this.now });
  }
}

function keyOf(source: Source, customerId: string): string {
  return `${source}|${customerId}`;
}

/** The merged view and the verdict from the per-source answers. */
function assemble(customerId: string, sources: Record<Source, ExpectedSource>): ExpectedProfile {
  const fields = Object.fromEntries([...FIELDS, 'balance', 'currency'].map((f) => [f, null])) as ViewFields;
  const sourceSystems: Source[] = [];
  for (const source of SOURCES) {
    const data = sources[source].data;
    if (!data) continue;
    sourceSystems.push(source);
    for (const field of FIELDS) if (fields[field] === null && data[field] !== undefined) fields[field] = data[field];
  }
  // one amount where there is one: the single currency's, or zero when nothing is open
  const balances = fields.balances as Money[] | null;
  if (balances !== null && balances.length <= 1) {
    fields.balance = balances[0]?.amount ?? '0';
    fields.currency = balances[0]?.currency ?? null;
  }
  const states = SOURCES.map((s) => sources[s]);
  const verdict = sourceSystems.length > 0 ? 'found' : states.every((s) => s.status === 'not_found') ? 'not_found' : states.some((s) => s.status === 'rate_limited') ? 'found' : 'unavailable';
  return { customerId, verdict, sources, fields, sourceSystems, degraded: states.some((s) => s.reason !== undefined) };
}

/** The REST API's status for a profile. */
export function restStatus(p: ExpectedProfile): 200 | 404 | 503 {
  return p.verdict === 'found' ? 200 : p.verdict === 'not_found' ? 404 : 503;
}

/** The Genesys custom action's answer for a profile (undefined: no customer matched), or 503. */
export function customAction(p: ExpectedProfile | undefined): { httpStatus: 200; body: unknown } | { httpStatus: 503 } {
  if (!p || p.verdict === 'not_found') return { httpStatus: 200, body: { status: 'not_found', data: { customerView: null } } };
  if (p.verdict === 'unavailable') return { httpStatus: 503 };
  const degradedSources = SOURCES.filter((s) => p.sources[s].reason !== undefined);
  const view: Record<string, unknown> = {
    customerId: p.customerId,
    name: p.fields.accountName,
    loyaltyTier: p.fields.loyaltyTier,
    balance: p.fields.balance,
    currency: p.fields.currency,
    balanceSummary: p.fields.balances === null ? null : balanceSummary(p.fields.balances as Money[]),
    balanceCurrencies: p.fields.balances === null ? null : (p.fields.balances as Money[]).length,
    openTickets: p.fields.openTickets,
    lastInteractionDate: p.fields.lastInteractionDate,
    degradedSources: degradedSources.join(','),
    isDegraded: degradedSources.length > 0,
  };
  for (const [k, v] of Object.entries(view)) if (v === null) delete view[k];
  return { httpStatus: 200, body: { status: p.degraded ? 'degraded' : 'ok', data: { customerView: view } } };
}
