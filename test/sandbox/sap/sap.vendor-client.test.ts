/**
 * The SAP simulator checked by SAP's own client, the SAP Cloud SDK's `@sap-cloud-sdk/http-client`:
 * `executeHttpRequest` with a destination pointing at the simulator reads, fetches a CSRF token
 * its own way (`HEAD` on the entity URL, first with a trailing slash, then without), writes with
 * `If-Match` and reads the change back. The simulator's `$metadata` is then held against what it
 * sends: every property declared, with the Edm type's wire form. Batched look-ups go through the
 * SDK too: `or` chains in `$filter` (as the SDK encodes them) on A_Customer and the open-items
 * cube, and a chain too long for the URL bound meeting the 414. `$batch` is checked with the SDK's
 * own batch (de)serialization from `@sap-cloud-sdk/odata-common` (its `internal` entry point: the
 * SDK exposes batch only through generated entity APIs, so a minimal request config stands in for
 * one): the SDK's body reaches the simulator, the SDK's parser reads the simulator's answer, and
 * the body our connector builds gets the same answers.
 */
import { encodeAllParameters, executeHttpRequest, type HttpResponse } from '@sap-cloud-sdk/http-client';
import { ODataRequestConfig, parseBatchResponse, serializeBatchRequest } from '@sap-cloud-sdk/odata-common/internal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { buildBatch, parseBatchResponse as parseOurs } from '../../../src/connectors/sap/sap.batch.js';
import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, DEMO_CUSTOMERS, SEED_EPOCH_MS } from '../shared/seed.js';
import { formatStringLiteral } from './odata-filter.js';
import { SapSimulator } from './sap.simulator.js';

const { username, password, sapClient } = SANDBOX_CREDENTIALS.sap;
const BP = '/sap/opu/odata/sap/API_BUSINESS_PARTNER';
const CUBE = '/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV';
const CUSTOMER = `${BP}/A_Customer('${DEMO.healthy}')`;

let clock = SEED_EPOCH_MS;
const sim = new SapSimulator({ now: () => clock });
const destination = () => ({ url: sim.url, username, password, sapClient, authentication: 'BasicAuthentication' as const });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- OData JSON, checked property by property
type Json = Record<string, any>;

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  clock = SEED_EPOCH_MS;
});

function read(url: string, params: Record<string, string> = { $format: 'json' }): Promise<HttpResponse> {
  return executeHttpRequest(destination(), { method: 'get', url, params });
}

/** The HTTP status of a request the SDK rejected (it rejects with axios's error for a non-2xx). */
async function failure(promise: Promise<unknown>): Promise<{ status: number; headers: Record<string, unknown>; data: unknown }> {
  const err = (await promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => e,
  )) as { response?: { status: number; headers: Record<string, unknown>; data: unknown } };
  if (!err.response) throw new Error(`no HTTP response in ${String(err)}`);
  return err.response;
}

describe('@sap-cloud-sdk/http-client against the SAP simulator', () => {
  it('reads a customer (GET, $format=json, sap-client from the destination): ETag header equal to __metadata.etag', async () => {
    const res = await read(CUSTOMER);
    expect(res.status).toBe(200);
    const d = (res.data as Json).d;
    expect(d.Customer).toBe(DEMO.healthy);
    expect(d.__metadata.type).toBe('API_BUSINESS_PARTNER.A_CustomerType');
    expect(res.headers.etag).toBe(sim.customerEtag(DEMO.healthy));
    expect(d.__metadata.etag).toBe(res.headers.etag);
  });

  it('fetchCsrfToken: one HEAD on the entity URL with a trailing slash gets the token, the PATCH with If-Match changes the customer, a read shows it', async () => {
    const before = await read(CUSTOMER);
    const etag = String(before.headers.etag);
    sim.resetCalls();
    clock += 60_000;

    const res = await executeHttpRequest(
      destination(),
      { method: 'patch', url: CUSTOMER, headers: { 'if-match': etag }, data: { CustomerFullName: 'Acme Renamed' } },
      { fetchCsrfToken: true },
    );
    expect(res.status).toBe(204);
    const newEtag = String(res.headers.etag);
    expect(newEtag).not.toBe(etag);
    // the SDK's CSRF fetch, then the write: nothing refused on the way
    expect(sim.requests().map((r) => [r.method, r.route, decodeURIComponent(r.url).endsWith(')/')])).toEqual([
      ['HEAD', 'customer', true],
      ['PATCH', 'updateCustomer', false],
    ]);

    const after = await read(CUSTOMER);
    expect((after.data as Json).d.CustomerFullName).toBe('Acme Renamed');
    expect(after.headers.etag).toBe(newEtag);
    expect((after.data as Json).d.__metadata.etag).toBe(newEtag);
  });

  it('a write with a stale ETag is refused with 412 in the OData error format, and changes nothing', async () => {
    const stale = String((await read(CUSTOMER)).headers.etag);
    clock += 60_000;
    await executeHttpRequest(destination(), { method: 'patch', url: CUSTOMER, headers: { 'if-match': stale }, data: { PaymentTerms: '0002' } }, { fetchCsrfToken: true });
    const refused = await failure(
      executeHttpRequest(destination(), { method: 'patch', url: CUSTOMER, headers: { 'if-match': stale }, data: { PaymentTerms: '0003' } }, { fetchCsrfToken: true }),
    );
    expect(refused.status).toBe(412);
    expect(refused.data).toMatchObject({ error: { code: '/IWBEP/CM_MGW_RT/058', message: { lang: 'en' } } });
    expect(((await read(CUSTOMER)).data as Json).d.PaymentTerms).toBe('0002');
  });

  it('without a CSRF token the write is refused: 403 with X-CSRF-Token: Required', async () => {
    const etag = String((await read(CUSTOMER)).headers.etag);
    const refused = await failure(executeHttpRequest(destination(), { method: 'patch', url: CUSTOMER, headers: { 'if-match': etag }, data: { PaymentTerms: '0002' } }, { fetchCsrfToken: false }));
    expect(refused.status).toBe(403);
    expect(refused.headers['x-csrf-token']).toBe('Required');
  });

  it('HEAD is answered like GET without a body, on entities (with and without a trailing slash), collections and $metadata', async () => {
    for (const url of [CUSTOMER, `${CUSTOMER}/`, `${BP}/A_Customer`, `${BP}/A_Customer/`, `${BP}/$metadata`, `${CUBE}/A_OperationalAcctgDocItemCube`]) {
      const get = await executeHttpRequest(destination(), { method: 'get', url, headers: { 'x-csrf-token': 'Fetch' } });
      const head = await executeHttpRequest(destination(), { method: 'head', url, headers: { 'x-csrf-token': 'Fetch' } });
      expect(head.status, url).toBe(200);
      expect(head.data, url).toBe('');
      expect(head.headers['content-length'], url).toBe(get.headers['content-length']);
      expect(head.headers['content-type'], url).toBe(get.headers['content-type']);
      expect(head.headers['x-csrf-token'], url).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(head.headers['set-cookie'], url).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${sim.sessionCookieName}=`))]));
    }
    const missing = await failure(executeHttpRequest(destination(), { method: 'head', url: `${BP}/A_Customer('0099999999')/` }));
    expect(missing.status).toBe(404);
  });
});

// ---------------------------------------------------------------------------------- $metadata

interface EdmProperty {
  type: string;
  nullable: boolean;
  scale?: number;
}
interface EdmEntityType {
  keys: string[];
  properties: Map<string, EdmProperty>;
}
interface Edmx {
  namespace: string;
  types: Map<string, EdmEntityType>;
  /** entity set → qualified entity type */
  sets: Map<string, string>;
}

function attribute(text: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(text)?.[1];
}

/** The parts of an OData V2 EDMX this check needs (entity types, keys, properties, entity sets). */
function parseEdmx(xml: string): Edmx {
  const namespace = attribute(/<Schema\b[^>]*>/.exec(xml)?.[0] ?? '', 'Namespace');
  if (!namespace) throw new Error('no Schema Namespace in $metadata');
  const types = new Map<string, EdmEntityType>();
  for (const m of xml.matchAll(/<EntityType\b([^>]*)>([\s\S]*?)<\/EntityType>/g)) {
    const keys = [...m[2].matchAll(/<PropertyRef\b([^>]*)\/>/g)].map((k) => attribute(k[1], 'Name') ?? '');
    const properties = new Map<string, EdmProperty>();
    for (const p of m[2].matchAll(/<Property\b([^>]*)\/>/g)) {
      const scale = attribute(p[1], 'Scale');
      properties.set(attribute(p[1], 'Name') ?? '', { type: attribute(p[1], 'Type') ?? '', nullable: attribute(p[1], 'Nullable') !== 'false', ...(scale ? { scale: Number(scale) } : {}) });
    }
    types.set(`${namespace}.${attribute(m[1], 'Name') ?? ''}`, { keys, properties });
  }
  const sets = new Map<string, string>();
  for (const m of xml.matchAll(/<EntitySet\b([^>]*)\/>/g)) sets.set(attribute(m[1], 'Name') ?? '', attribute(m[1], 'EntityType') ?? '');
  return { namespace, types, sets };
}

/** Every way an entry of `set` departs from its entity type in `$metadata` (empty when it conforms). */
function entryViolations(edmx: Edmx, set: string, entry: Json): string[] {
  const typeName = edmx.sets.get(set);
  const type = typeName === undefined ? undefined : edmx.types.get(typeName);
  if (!type) return [`${set}: no entity set of that name in $metadata`];
  const out: string[] = [];
  const meta = entry.__metadata as Json | undefined;
  if (meta?.type !== typeName) out.push(`${set}: __metadata.type ${String(meta?.type)} is not ${typeName}`);
  const keyText = type.keys.length === 1 ? formatStringLiteral(String(entry[type.keys[0]])) : type.keys.map((k) => `${k}=${formatStringLiteral(String(entry[k]))}`).join(',');
  if (typeof meta?.uri !== 'string' || !meta.uri.endsWith(`/${set}(${keyText})`)) out.push(`${set}: __metadata.uri ${String(meta?.uri)} does not address ${set}(${keyText})`);
  for (const [name, value] of Object.entries(entry)) {
    if (name === '__metadata') continue;
    const prop = type.properties.get(name);
    if (!prop) {
      out.push(`${set}.${name}: not declared in $metadata`);
      continue;
    }
    if (value === null) {
      if (!prop.nullable) out.push(`${set}.${name}: null but Nullable="false"`);
      continue;
    }
    const wrong = wireViolation(prop, value);
    if (wrong) out.push(`${set}.${name}: ${wrong}`);
  }
  return out;
}

/** How OData V2 JSON carries each Edm type: Edm.Decimal as a string, Edm.DateTime as /Date(ms)/. */
function wireViolation(prop: EdmProperty, value: unknown): string | undefined {
  switch (prop.type) {
    case 'Edm.String':
      return typeof value === 'string' ? undefined : `Edm.String sent as ${typeof value}`;
    case 'Edm.Boolean':
      return typeof value === 'boolean' ? undefined : `Edm.Boolean sent as ${typeof value}`;
    case 'Edm.Decimal': {
      if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value)) return `Edm.Decimal must be a decimal string, got ${JSON.stringify(value)}`;
      const decimals = value.split('.')[1]?.length ?? 0;
      return prop.scale !== undefined && decimals > prop.scale ? `Edm.Decimal ${value} has more than Scale=${prop.scale} decimals` : undefined;
    }
    case 'Edm.DateTime':
      return typeof value === 'string' && /^\/Date\(-?\d+\)\/$/.test(value) ? undefined : `Edm.DateTime must be "/Date(<ms>)/", got ${JSON.stringify(value)}`;
    default:
      return `unexpected Edm type ${prop.type}`;
  }
}

describe('$metadata, read with the SDK, agrees with what the simulator sends', () => {
  const services = [
    { root: BP, namespace: 'API_BUSINESS_PARTNER' },
    { root: CUBE, namespace: 'API_OPLACCTGDOCITEMCUBE_SRV' },
  ];

  for (const { root, namespace } of services) {
    it(`${namespace}: every entity set's entries use only declared properties, in their Edm types' wire form`, async () => {
      const res = await read(`${root}/$metadata`, {});
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/^application\/xml/);
      const edmx = parseEdmx(String(res.data));
      expect(edmx.namespace).toBe(namespace);

      const serviceDocument = (await read(root)).data as Json;
      expect([...edmx.sets.keys()].sort()).toEqual([...(serviceDocument.d.EntitySets as string[])].sort());

      for (const set of edmx.sets.keys()) {
        const entries = ((await read(`${root}/${set}`, { $format: 'json', $top: '25' })).data as Json).d.results as Json[];
        expect(entries.length, set).toBeGreaterThan(0);
        for (const entry of entries) expect(entryViolations(edmx, set, entry)).toEqual([]);
      }
    });
  }

  it('the ETag of every A_Customer entry, in a collection or alone, is the one the entity answers with', async () => {
    const entries = ((await read(`${BP}/A_Customer`, { $format: 'json', $top: '5' })).data as Json).d.results as Json[];
    for (const entry of entries) {
      const single = await read(`${BP}/A_Customer(${formatStringLiteral(String(entry.Customer))})`);
      expect(entry.__metadata.etag).toBe(single.headers.etag);
      expect((single.data as Json).d.__metadata.etag).toBe(single.headers.etag);
    }
  });

  it('the check finds what a gateway would never send (a Decimal as a number, a DateTime as ISO text, an undeclared property)', async () => {
    const edmx = parseEdmx(String((await read(`${CUBE}/$metadata`, {})).data));
    const entry = (((await read(`${CUBE}/A_OperationalAcctgDocItemCube`, { $format: 'json', $top: '1' })).data as Json).d.results as Json[])[0];
    const set = 'A_OperationalAcctgDocItemCube';
    expect(entryViolations(edmx, set, entry)).toEqual([]);
    expect(entryViolations(edmx, set, { ...entry, AmountInCompanyCodeCurrency: 12.5 })).toEqual([`${set}.AmountInCompanyCodeCurrency: Edm.Decimal must be a decimal string, got 12.5`]);
    expect(entryViolations(edmx, set, { ...entry, PostingDate: '2026-11-01' })).toEqual([`${set}.PostingDate: Edm.DateTime must be "/Date(<ms>)/", got "2026-11-01"`]);
    expect(entryViolations(edmx, set, { ...entry, Amount: '1' })).toEqual([`${set}.Amount: not declared in $metadata`]);
  });
});

describe('batched look-ups through executeHttpRequest', () => {
  const chain = (ids: readonly string[]) => `(${ids.map((id) => `Customer eq ${formatStringLiteral(id)}`).join(' or ')})`;
  const inSap = (ids: readonly string[]) => DEMO_CUSTOMERS.filter((c) => c.presentIn.sap && ids.includes(c.customerId));
  /** The SDK leaves parameters given in `params` as they are unless told to encode them: its own encodeAllParameters does. */
  const query = (url: string, params: Record<string, string>) => executeHttpRequest(destination(), { method: 'get', url, params, parameterEncoder: encodeAllParameters });

  it('A_Customer with an or chain of 20 customers in $filter (two not in SAP): the 18 SAP holds', async () => {
    const ids = DEMO_CUSTOMERS.slice(35, 55).map((c) => c.customerId);
    expect(ids).toEqual(expect.arrayContaining([DEMO.missingFromSap, DEMO.onlyInSalesforce]));
    const res = await query(`${BP}/A_Customer`, { $filter: chain(ids), $select: 'Customer,CustomerName', $format: 'json' });
    const results = (res.data as Json).d.results as Json[];
    expect(results.map((r) => r.Customer)).toEqual(inSap(ids).map((c) => c.customerId));
    expect(results).toHaveLength(18);
    expect(sim.batchSizes('customers')).toEqual([20]);
  });

  it('the open-items cube with "(… or …) and IsCleared eq false" returns the uncleared items of exactly those customers', async () => {
    const ids = [DEMO.healthy, DEMO.decimalTrap, DEMO.apostrophe, DEMO.multiCurrency];
    const res = await query(`${CUBE}/A_OperationalAcctgDocItemCube`, {
      $filter: `${chain(ids)} and IsCleared eq false`,
      $select: 'Customer,AmountInCompanyCodeCurrency,CompanyCodeCurrency',
      $inlinecount: 'allpages',
      $format: 'json',
    });
    const d = (res.data as Json).d;
    const expected = inSap(ids).flatMap((c) => c.openItems.filter((i) => !i.cleared).map((i) => `${c.customerId} ${i.amount}`));
    expect((d.results as Json[]).map((r) => `${r.Customer} ${r.AmountInCompanyCodeCurrency}`)).toEqual(expected);
    expect(d.__count).toBe(String(expected.length));
    expect(sim.batchSizes('openItems')).toEqual([4]);
  });

  it('a chain longer than the URL bound is refused with 414 before the gateway; the SDK rejects with that status', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `00102${String(i).padStart(5, '0')}`);
    const response = await failure(query(`${BP}/A_Customer`, { $filter: chain(ids), $format: 'json' }));
    expect(response.status).toBe(414);
    expect(String(response.data)).toContain('Request-URI Too Long');
    expect(sim.batchSizes()).toEqual([]);
  });
});

/**
 * A GET as the SDK's generated request builders configure one (resource path and query of a
 * service); like them it hands over the query values already encoded (the batch serializer writes
 * them into the request line as they are).
 */
class GetConfig extends ODataRequestConfig {
  constructor(
    service: string,
    private readonly resource: string,
    private readonly query: Record<string, string>,
  ) {
    super('get', service);
  }

  resourcePath(): string {
    return this.resource;
  }

  queryParameters(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.query).map(([k, v]) => [k, encodeURIComponent(v)]));
  }
}

describe('@sap-cloud-sdk/odata-common batch (de)serialization against the simulator\'s $batch', () => {
  const many = DEMO_CUSTOMERS.find((c) => c.customerId === DEMO.manyOpenItems)!;
  const ops = () => [
    new GetConfig(CUBE, 'A_OperationalAcctgDocItemCube', { $filter: `Customer eq '${DEMO.manyOpenItems}' and IsCleared eq false`, $inlinecount: 'allpages', $format: 'json' }),
    new GetConfig(CUBE, 'A_OperationalAcctgDocItemCube', { $filter: `Customer eq '${DEMO.healthy}' and IsCleared eq false`, $inlinecount: 'allpages', $format: 'json' }),
    new GetConfig(CUBE, 'A_OperationalAcctgDocItemCube', { $filter: 'Customer eq', $format: 'json' }),
  ];

  /** The CSRF token fetched on the service root (as our client does; the SDK's own fetch targets the request URL), then the POST. */
  async function send(body: string, boundary: string): Promise<HttpResponse> {
    const root = await executeHttpRequest(destination(), { method: 'head', url: `${CUBE}/`, headers: { 'x-csrf-token': 'Fetch' } });
    const cookie = ([] as string[]).concat((root.headers['set-cookie'] as string[] | string | undefined) ?? []).map((c) => c.split(';')[0]).join('; ');
    return executeHttpRequest(
      destination(),
      {
        method: 'post',
        url: `${CUBE}/$batch`,
        data: body,
        headers: { 'content-type': `multipart/mixed; boundary=${boundary}`, accept: 'multipart/mixed', 'x-csrf-token': String(root.headers['x-csrf-token']), cookie },
      },
      { fetchCsrfToken: false },
    );
  }

  it.each([['absolute paths (the SDK default)', undefined], ['paths relative to the service root', 'noPath']] as const)(
    'the SDK\'s batch body with %s: one call, each GET answered as on its own, the SDK\'s parser reads the answer',
    async (_what, subRequestPathType) => {
      const boundary = 'batch_sdk';
      const body = serializeBatchRequest({ requests: ops().map((requestConfig) => ({ requestConfig })), requestConfig: { boundary } } as never, subRequestPathType ? { subRequestPathType } : {});
      sim.resetCalls();
      const res = await send(body, boundary);
      expect(res.status).toBe(202);
      expect(sim.callCount('batch')).toBe(1);
      expect(sim.operations().map((op) => op.route)).toEqual(['openItems', 'openItems', 'openItems']);
      const parsed = parseBatchResponse(res) as Array<{ httpCode: number; body: Json }>;
      expect(parsed.map((p) => p.httpCode)).toEqual([200, 200, 400]);
      const open = many.openItems.filter((i) => !i.cleared);
      expect(parsed[0]!.body.d.results).toHaveLength(100);
      expect(parsed[0]!.body.d.__count).toBe(String(open.length));
      expect(parsed[0]!.body.d.__next).toContain('$skiptoken=100');
      expect(parsed[1]!.body.d.results.length).toBeGreaterThan(0);
      expect(parsed[2]!.body.error.message.value).toContain('Invalid filter expression');
    },
  );

  it('our connector\'s batch body gets the same answers, and our parser reads what the SDK reads', async () => {
    const urls = ops().map((config) => `${config.resourcePath()}?${Object.entries(config.queryParameters()).map(([k, v]) => `${k}=${v}`).join('&')}`);
    const ours = buildBatch(urls);
    const res = await send(ours.body, ours.contentType.split('boundary=')[1]!);
    expect(res.status).toBe(202);
    const sdk = parseBatchResponse(res) as Array<{ httpCode: number; body: Json }>;
    const parts = parseOurs(String(res.headers['content-type']), String(res.data), 3);
    expect(parts.map((p) => p.status)).toEqual(sdk.map((p) => p.httpCode));
    expect(parts.map((p) => JSON.parse(p.body) as Json)).toEqual(sdk.map((p) => p.body));
  });
});
