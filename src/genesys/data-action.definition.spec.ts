import { Ajv } from 'ajv';
import { getMetadataStorage } from 'class-validator';
import { describe, expect, it } from 'vitest';

import type { ProfileResult } from '../aggregation/aggregation.service.js';
import { mergeProfile, type SourceOutcome } from '../aggregation/merge.js';
import { toCustomActionResponse } from './custom-action.mapper.js';
import { dataActionDefinition, RESERVED_INPUT_NAMES } from './data-action.definition.js';
import { CustomActionRequest } from './dto/custom-action.dto.js';

type Schema = { type?: unknown; properties?: Record<string, Record<string, unknown>>; [k: string]: unknown };

interface Definition {
  config: {
    request: { requestUrlTemplate: string; requestType: string; requestTemplate: string };
    response: { translationMap: Record<string, string>; translationMapDefaults: Record<string, string>; successTemplate: string };
  };
  contract: { input: { inputSchema: Schema }; output: { successSchema: Schema } };
}

const BASE = 'https://c360.acme.example';
const definition = dataActionDefinition(BASE) as unknown as Definition;
const input = definition.contract.input.inputSchema;
const output = definition.contract.output.successSchema;
const PRIMITIVES = ['string', 'integer', 'number', 'boolean'];

/** Ajv 8 has no draft-04 meta-schema; the contracts use nothing draft-specific, so it compiles them without meta-validation. */
function compile(schema: Schema) {
  return new Ajv({ strict: false, validateSchema: false, allErrors: true }).compile(schema);
}

/** Evaluates the simple `$.a.b.c` paths a translation map uses. */
function jsonPath(doc: unknown, path: string): unknown {
  expect(path).toMatch(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/);
  let node: unknown = doc;
  for (const key of path.split('.').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** What Genesys does with a response: translation map (with defaults) → success template → JSON. */
function translate(response: unknown): unknown {
  const { translationMap, translationMapDefaults, successTemplate } = definition.config.response;
  const values: Record<string, string> = {};
  for (const [name, path] of Object.entries(translationMap)) {
    const value = jsonPath(response, path);
    values[name] = value === undefined || value === null ? translationMapDefaults[name] : JSON.stringify(value);
  }
  const text = successTemplate.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    expect(values).toHaveProperty(name);
    return values[name];
  });
  return JSON.parse(text) as unknown;
}

function profile(outcomes: SourceOutcome[]): ProfileResult {
  return { verdict: 'found', view: mergeProfile('0010100001', outcomes, new Date('2026-10-21T07:28:00Z')) };
}

const FULL = profile([
  { source: 'salesforce', state: { status: 'ok' }, data: { accountName: 'Acme Corp', loyaltyTier: 'Gold', lastInteractionDate: '2026-10-12' } },
  { source: 'sap', state: { status: 'ok' }, data: { balances: [{ amount: '1250.50', currency: 'USD' }] } },
  { source: 'servicenow', state: { status: 'ok' }, data: { openTickets: 3 } },
]);

const MULTI_CURRENCY = profile([
  { source: 'salesforce', state: { status: 'ok' }, data: { accountName: 'Acme Corp' } },
  {
    source: 'sap',
    state: { status: 'ok' },
    data: {
      balances: [
        { amount: '1150.25', currency: 'EUR' },
        { amount: '-12000', currency: 'JPY' },
        { amount: '80.01', currency: 'USD' },
      ],
    },
  },
  { source: 'servicenow', state: { status: 'ok' }, data: { openTickets: 0 } },
]);

const NOTHING_OPEN = profile([
  { source: 'salesforce', state: { status: 'ok' }, data: { accountName: 'Acme Corp' } },
  { source: 'sap', state: { status: 'ok' }, data: { balances: [] } },
  { source: 'servicenow', state: { status: 'ok' }, data: { openTickets: 0 } },
]);

const DEGRADED = profile([
  { source: 'salesforce', state: { status: 'ok' }, data: { accountName: 'Acme Corp' } },
  { source: 'sap', state: { status: 'timeout' } },
  { source: 'servicenow', state: { status: 'stale', ageMs: 60_000 }, data: { openTickets: 0 } },
]);

describe('dataActionDefinition: Genesys input rules', () => {
  it('the input contract is a flat object of primitives', () => {
    expect(input.type).toBe('object');
    const props = Object.entries(input.properties ?? {});
    expect(props.length).toBeGreaterThan(0);
    for (const [name, schema] of props) {
      expect(PRIMITIVES, name).toContain(schema.type);
      expect(schema, name).not.toHaveProperty('properties');
      expect(schema, name).not.toHaveProperty('items');
      expect(schema, name).not.toHaveProperty('$ref');
    }
  });

  it('has no $ref anywhere in the whole definition', () => {
    expect(JSON.stringify(definition)).not.toContain('$ref');
  });

  it('property names start with a letter and avoid the reserved names', () => {
    const names = Object.keys(input.properties ?? {});
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
    for (const reserved of ['orgId', 'integrationId', 'rawRequest']) expect(names).not.toContain(reserved);
    expect(RESERVED_INPUT_NAMES).toEqual(['orgId', 'integrationId', 'rawRequest']);
  });

  it("input properties are exactly the DTO's validated properties, so the definition cannot drift", () => {
    const validated = new Set(getMetadataStorage().getTargetValidationMetadatas(CustomActionRequest, '', true, false).map((m) => m.propertyName));
    expect(validated.size).toBeGreaterThan(0);
    expect(Object.keys(input.properties ?? {}).sort()).toEqual([...validated].sort());
  });

  it('the output contract is flat too, with well-formed names', () => {
    expect(output.type).toBe('object');
    for (const [name, schema] of Object.entries(output.properties ?? {})) {
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
      expect(PRIMITIVES, name).toContain(schema.type);
    }
  });
});

describe('dataActionDefinition: contracts compile and mean something', () => {
  it('the input contract compiles and accepts a lookup, refusing an unknown action type', () => {
    const validate = compile(input);
    expect(validate({ customerId: '0010100001', phone: '+14155550100', actionType: 'customerLookup' })).toBe(true);
    expect(validate({ phone: '+14155550100' })).toBe(true);
    expect(validate({ actionType: 'deleteEverything' })).toBe(false);
    expect(validate({ customerId: 10100001 })).toBe(false);
  });

  it('the output contract compiles and refuses wrong types', () => {
    const validate = compile(output);
    expect(validate({ status: 'ok', openTickets: 1.5 })).toBe(false);
    expect(validate({ status: 'ok', balanceCurrencies: 1.5 })).toBe(false);
    expect(validate({ status: 'ok', balanceSummary: 80.01 })).toBe(false);
    expect(validate({ status: 'ok', isDegraded: 'no' })).toBe(false);
  });
});

describe('dataActionDefinition: the response translation', () => {
  const validate = compile(output);
  const { translationMap, translationMapDefaults, successTemplate } = definition.config.response;

  it('maps, defaults and templates exactly the output properties', () => {
    const outputNames = Object.keys(output.properties ?? {}).sort();
    expect(Object.keys(translationMap).sort()).toEqual(outputNames);
    expect(Object.keys(translationMapDefaults).sort()).toEqual(outputNames);
    expect([...successTemplate.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).sort()).toEqual(outputNames);
  });

  it('each default is valid JSON of its property type', () => {
    for (const [name, raw] of Object.entries(translationMapDefaults)) {
      expect(compile({ type: 'object', properties: { [name]: output.properties?.[name] ?? {} } })({ [name]: JSON.parse(raw) as unknown }), name).toBe(true);
    }
  });

  it('a found profile, translated, validates against the output contract with the right values', () => {
    const flat = translate(toCustomActionResponse(FULL));
    const ok = validate(flat);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(flat).toEqual({
      status: 'ok',
      customerId: '0010100001',
      name: 'Acme Corp',
      loyaltyTier: 'Gold',
      balance: '1250.50',
      currency: 'USD',
      balanceSummary: '1,250.50 USD',
      balanceCurrencies: 1,
      openTickets: 3,
      lastInteractionDate: '2026-10-12',
      degradedSources: '',
      isDegraded: false,
    });
  });

  it('a degraded profile with missing values falls back to the defaults and still validates', () => {
    const flat = translate(toCustomActionResponse(DEGRADED));
    expect(validate(flat)).toBe(true);
    expect(flat).toMatchObject({ status: 'degraded', name: 'Acme Corp', balance: '', currency: '', balanceSummary: '', balanceCurrencies: -1, openTickets: 0, degradedSources: 'sap,servicenow', isDegraded: true });
  });

  it('several currencies: no single balance, a readable summary and the count, still valid', () => {
    const flat = translate(toCustomActionResponse(MULTI_CURRENCY));
    expect(validate(flat)).toBe(true);
    expect(flat).toMatchObject({ status: 'ok', balance: '', currency: '', balanceSummary: '1,150.25 EUR; -12,000 JPY; 80.01 USD', balanceCurrencies: 3 });
  });

  it('nothing open: balance "0" with no currency, summary "0", no currencies', () => {
    const flat = translate(toCustomActionResponse(NOTHING_OPEN));
    expect(validate(flat)).toBe(true);
    expect(flat).toMatchObject({ balance: '0', currency: '', balanceSummary: '0', balanceCurrencies: 0 });
  });

  it('a not-found answer validates too (everything defaulted)', () => {
    const flat = translate(toCustomActionResponse(undefined));
    expect(validate(flat)).toBe(true);
    expect(flat).toMatchObject({ status: 'not_found', customerId: '', openTickets: -1, isDegraded: false });
  });
});

describe('dataActionDefinition: request', () => {
  it('posts to the given base URL', () => {
    expect(definition.config.request.requestUrlTemplate).toBe(`${BASE}/genesys/v1/customer-lookup`);
    expect(definition.config.request.requestType).toBe('POST');
    expect(definition.config.request.requestTemplate).toBe('${input.rawRequest}');
  });

  it('does not double the slash of a base URL ending in one', () => {
    const d = dataActionDefinition('https://other.example/base/') as unknown as Definition;
    expect(d.config.request.requestUrlTemplate).toBe('https://other.example/base/genesys/v1/customer-lookup');
  });
});
