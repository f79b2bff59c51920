/**
 * The Genesys Cloud Platform SDK (`purecloud-platform-client-v2`) as a machine-readable spec: its
 * `index.d.ts` declares every API model (`Models.CreateCallResponse`, `Models.Conversation`, …)
 * with each property's name, JSON type and whether it is required. `modelViolations` checks a
 * JSON value the simulator sent against one of those models, so a shape of our own invention
 * (a property Genesys does not have, a number sent as a string, a required property missing)
 * is found by Genesys's own description of its API rather than by our reading of the docs.
 *
 * Read with the TypeScript compiler API (a dev dependency already), once per process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import ts from 'typescript';

interface ModelProperty {
  type: ts.TypeNode;
  required: boolean;
}

type Model = ReadonlyMap<string, ModelProperty>;

let models: ReadonlyMap<string, Model> | undefined;

/** Path of the SDK's `index.d.ts` as installed. */
export function genesysSdkTypings(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('purecloud-platform-client-v2/package.json')), 'index.d.ts');
}

/** Every interface of `declare namespace Models { … }`, by name. */
function loadModels(): ReadonlyMap<string, Model> {
  if (models) return models;
  const file = genesysSdkTypings();
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = new Map<string, Model>();
  for (const statement of source.statements) {
    if (!ts.isModuleDeclaration(statement) || statement.name.text !== 'Models' || !statement.body || !ts.isModuleBlock(statement.body)) continue;
    for (const declaration of statement.body.statements) {
      if (!ts.isInterfaceDeclaration(declaration)) continue;
      const properties = new Map<string, ModelProperty>();
      for (const member of declaration.members) {
        if (!ts.isPropertySignature(member) || !member.type) continue;
        const name = ts.isStringLiteral(member.name) || ts.isIdentifier(member.name) ? member.name.text : undefined;
        if (name !== undefined) properties.set(name, { type: member.type, required: member.questionToken === undefined });
      }
      found.set(declaration.name.text, properties);
    }
  }
  if (found.size === 0) throw new Error(`no Models namespace in ${file}`);
  models = found;
  return found;
}

/** True when the SDK declares a model of that name. */
export function hasModel(name: string): boolean {
  return loadModels().has(name);
}

/** The property names a model declares, in declaration order. */
export function modelProperties(name: string): string[] {
  const model = loadModels().get(name);
  if (!model) throw new Error(`the Genesys SDK has no model ${name}`);
  return [...model.keys()];
}

/**
 * Every way `value` departs from `Models.<name>`: properties the model does not declare, values of
 * the wrong JSON type (recursively, through arrays, maps and nested models) and required
 * properties that are missing. Empty when the value conforms. Genesys omits absent values rather
 * than sending null, so null is reported too. `object`-typed properties accept any non-null value.
 */
export function modelViolations(name: string, value: unknown, path = name): string[] {
  const model = loadModels().get(name);
  if (!model) throw new Error(`the Genesys SDK has no model ${name}`);
  if (!isPlainObject(value)) return [`${path}: expected an object (Models.${name}), got ${describe(value)}`];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const property = model.get(key);
    if (!property) {
      out.push(`${path}.${key}: not a property of Models.${name}`);
      continue;
    }
    out.push(...typeViolations(property.type, v, `${path}.${key}`));
  }
  for (const [key, property] of model) {
    if (property.required && !Object.hasOwn(value, key)) out.push(`${path}.${key}: required by Models.${name} but missing`);
  }
  return out;
}

function typeViolations(type: ts.TypeNode, value: unknown, path: string): string[] {
  if (value === null) return [`${path}: null (Genesys omits absent values)`];
  switch (type.kind) {
    case ts.SyntaxKind.StringKeyword:
      return typeof value === 'string' ? [] : [`${path}: expected a string, got ${describe(value)}`];
    case ts.SyntaxKind.NumberKeyword:
      return typeof value === 'number' ? [] : [`${path}: expected a number, got ${describe(value)}`];
    case ts.SyntaxKind.BooleanKeyword:
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean, got ${describe(value)}`];
    case ts.SyntaxKind.ObjectKeyword:
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return [];
    default:
      break;
  }
  if (ts.isArrayTypeNode(type)) return arrayViolations(type.elementType, value, path);
  if (ts.isTypeReferenceNode(type)) {
    const refName = ts.isIdentifier(type.typeName) ? type.typeName.text : type.typeName.right.text;
    if (refName === 'Array' && type.typeArguments?.length === 1) return arrayViolations(type.typeArguments[0], value, path);
    if (loadModels().has(refName)) return modelViolations(refName, value, path);
    throw new Error(`${path}: unsupported type ${refName} in the SDK's typings`);
  }
  if (ts.isTypeLiteralNode(type)) {
    if (!isPlainObject(value)) return [`${path}: expected an object, got ${describe(value)}`];
    const index = type.members.find(ts.isIndexSignatureDeclaration);
    if (!index) throw new Error(`${path}: unsupported object literal type in the SDK's typings`);
    return Object.entries(value).flatMap(([k, v]) => typeViolations(index.type, v, `${path}.${k}`));
  }
  if (ts.isUnionTypeNode(type)) {
    const each = type.types.map((t) => typeViolations(t, value, path));
    return each.some((v) => v.length === 0) ? [] : [`${path}: matches no member of its union type (${each.map((v) => v[0]).join(' | ')})`];
  }
  if (ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal)) {
    return value === type.literal.text ? [] : [`${path}: expected "${type.literal.text}", got ${describe(value)}`];
  }
  throw new Error(`${path}: unsupported type syntax (${ts.SyntaxKind[type.kind]}) in the SDK's typings`);
}

function arrayViolations(element: ts.TypeNode, value: unknown, path: string): string[] {
  if (!Array.isArray(value)) return [`${path}: expected an array, got ${describe(value)}`];
  return value.flatMap((v, i) => typeViolations(element, v, `${path}[${i}]`));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
}
