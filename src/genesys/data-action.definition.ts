import 'reflect-metadata';

import { CustomActionRequest, CustomerView } from './dto/custom-action.dto.js';

/** Genesys's reserved input names and its naming rule for contract properties. */
export const RESERVED_INPUT_NAMES = ['orgId', 'integrationId', 'rawRequest'];
const NAME_RULE = /^[A-Za-z][A-Za-z0-9_]*$/;

interface SwaggerProperty {
  type?: unknown;
  description?: string;
  enum?: unknown[];
  default?: unknown;
}

type JsonType = 'string' | 'integer' | 'number' | 'boolean';

/** Reads the @ApiProperty metadata of a DTO: the single source for the contracts below. */
function dtoProperties(cls: abstract new () => object): Array<{ name: string; meta: SwaggerProperty }> {
  const names = (Reflect.getMetadata('swagger/apiModelPropertiesArray', cls.prototype) as string[] | undefined) ?? [];
  return names.map((n) => n.replace(/^:/, '')).map((name) => ({ name, meta: (Reflect.getMetadata('swagger/apiModelProperties', cls.prototype, name) as SwaggerProperty | undefined) ?? {} }));
}

function jsonType(meta: SwaggerProperty, name: string): JsonType {
  const t = meta.type;
  if (t === 'integer') return 'integer';
  if (t === Number || t === 'number') return 'number';
  if (t === Boolean || t === 'boolean') return 'boolean';
  if (t === String || t === 'string' || meta.enum) return 'string';
  throw new Error(`property ${name} is not a primitive; Genesys contracts must be flat`);
}

const DEFAULTS: Record<JsonType, string> = { string: '""', integer: '-1', number: '-1', boolean: 'false' };

export function inputSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const { name, meta } of dtoProperties(CustomActionRequest)) {
    if (!NAME_RULE.test(name) || RESERVED_INPUT_NAMES.includes(name)) throw new Error(`input property ${name} breaks Genesys's naming rules`);
    properties[name] = { type: jsonType(meta, name), description: meta.description, ...(meta.enum ? { enum: meta.enum } : {}), ...(meta.default !== undefined ? { default: meta.default } : {}) };
  }
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: 'Customer360LookupInput',
    description: 'Give customerId or phone',
    type: 'object',
    properties,
    additionalProperties: true,
  };
}

/** The flat output the flow sees: `status` plus every field of the customer view. */
function outputFields(): Array<{ name: string; type: JsonType; description?: string; path: string }> {
  return [
    { name: 'status', type: 'string' as JsonType, description: 'ok, degraded or not_found', path: '$.status' },
    ...dtoProperties(CustomerView).map(({ name, meta }) => ({ name, type: jsonType(meta, name), description: meta.description, path: `$.data.customerView.${name}` })),
  ];
}

export function outputSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: 'Customer360LookupOutput',
    type: 'object',
    properties: Object.fromEntries(outputFields().map((f) => [f.name, { type: f.type, description: f.description }])),
    additionalProperties: true,
  };
}

/**
 * The importable Genesys Cloud data action (Web Services Data Actions integration). Its contracts
 * come from the DTOs above, so the definition cannot drift from what the endpoint accepts and returns.
 */
export function dataActionDefinition(publicBaseUrl: string): Record<string, unknown> {
  const fields = outputFields();
  return {
    name: 'Customer 360 Lookup',
    integrationType: 'custom-rest-actions',
    actionType: 'custom',
    config: {
      request: {
        requestUrlTemplate: `${publicBaseUrl.replace(/\/$/, '')}/genesys/v1/customer-lookup`,
        requestType: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        requestTemplate: '${input.rawRequest}',
      },
      response: {
        translationMap: Object.fromEntries(fields.map((f) => [f.name, f.path])),
        translationMapDefaults: Object.fromEntries(fields.map((f) => [f.name, DEFAULTS[f.type]])),
        successTemplate: `{${fields.map((f) => `"${f.name}": \${${f.name}}`).join(', ')}}`,
      },
    },
    contract: {
      input: { inputSchema: inputSchema() },
      output: { successSchema: outputSchema() },
    },
    secure: false,
  };
}
