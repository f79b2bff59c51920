import { createRequire } from 'node:module';

import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import type { MetadataStorage } from 'class-transformer/types/MetadataStorage.js';
import { getMetadataStorage } from 'class-validator';

// class-transformer keeps its decorators' metadata here (no public accessor; the CommonJS build,
// the one Nest's ValidationPipe loads); read only to decide that a class has none, in which case
// building it from a flat object is a plain property copy
const { defaultMetadataStorage } = createRequire(import.meta.url)('class-transformer/cjs/storage.js') as { defaultMetadataStorage: MetadataStorage };

/** Says a value is certainly valid (true) or leaves the decision to class-validator (false). */
type Check = (value: unknown) => boolean;

interface PropertyRule {
  name: string;
  optional: boolean;
  checks: Check[];
}

type Compiled = { properties: Map<string, PropertyRule> } | null;

type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/**
 * Each supported class-validator rule as a direct check that only ever says "certainly valid":
 * whenever it is unsure it says no, and class-validator decides (and words the error).
 */
function checkOf(m: Metadata): Check | undefined {
  const constraints = (m.constraints ?? []) as unknown[];
  switch (m.name) {
    case 'isString':
      return (v) => typeof v === 'string';
    case 'matches': {
      const [pattern, modifiers] = constraints;
      const re = pattern instanceof RegExp ? pattern : typeof pattern === 'string' ? new RegExp(pattern, typeof modifiers === 'string' ? modifiers : undefined) : undefined;
      // as validator.js matches: String.prototype.match, so a global pattern's lastIndex plays no part
      return re ? (v) => typeof v === 'string' && v.match(re) !== null : undefined;
    }
    case 'maxLength': {
      const [max] = constraints;
      // validator.js counts a surrogate pair (and a variation selector) as less than its UTF-16
      // length, never more: within the limit by UTF-16 length is within it by theirs
      return typeof max === 'number' ? (v) => typeof v === 'string' && v.length <= max : undefined;
    }
    case 'isIn': {
      const [allowed] = constraints;
      return Array.isArray(allowed) ? (v) => allowed.some((a) => a === v) : undefined;
    }
    default:
      return undefined;
  }
}

/** class-transformer's TransformationType.PLAIN_TO_CLASS. */
const PLAIN_TO_CLASS = 0;

/** Whether class-transformer would do anything but copy the properties of a flat object onto a new instance. */
function transformsItself(metatype: new () => unknown, names: Iterable<string>): boolean {
  const target = metatype as unknown as Parameters<MetadataStorage['getExposedMetadatas']>[0];
  if (defaultMetadataStorage.getExposedMetadatas(target).length > 0 || defaultMetadataStorage.getExcludedMetadatas(target).length > 0) return true;
  for (const name of names) {
    if (defaultMetadataStorage.findTypeMetadata(target, name) !== undefined) return true;
    if (defaultMetadataStorage.findTransformMetadatas(target, name, PLAIN_TO_CLASS).length > 0) return true;
    if (Object.getOwnPropertyDescriptor(metatype.prototype, name) !== undefined) return true; // an accessor or method
  }
  return false;
}

/** Rules of a flat DTO made of supported validators only; null when the class is anything else. */
function compile(metatype: new () => unknown): Compiled {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  const properties = new Map<string, PropertyRule>();
  for (const m of metadatas) {
    if (m.each || m.always || (m.groups && m.groups.length > 0)) return null;
    let rule = properties.get(m.propertyName);
    if (rule === undefined) properties.set(m.propertyName, (rule = { name: m.propertyName, optional: false, checks: [] }));
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') rule.optional = true;
    else if (m.type === 'customValidation') {
      const check = checkOf(m);
      if (check === undefined) return null;
      rule.checks.push(check);
    } else return null; // nested, whitelist-only, ValidateIf, …
  }
  if (transformsItself(metatype, properties.keys())) return null;
  return { properties };
}

const PRIMITIVE = new Set(['string', 'number', 'boolean']);

/** Prototypes seen to carry nothing: find-my-way's route parameters, for one, are `new NullObject()`. */
const EMPTY_PROTOTYPES = new WeakSet<object>();

/**
 * Whether an object with this prototype is a plain bag of its own properties: Object.prototype,
 * none, or an empty object without a prototype of its own (find-my-way gives `@Param()` objects
 * such a prototype, so that lookups never reach Object.prototype).
 */
function plainPrototype(proto: object | null): boolean {
  if (proto === Object.prototype || proto === null || EMPTY_PROTOTYPES.has(proto)) return true;
  if (Object.getPrototypeOf(proto) !== null || Reflect.ownKeys(proto).length > 0) return false;
  EMPTY_PROTOTYPES.add(proto);
  return true;
}

/**
 * Nest's ValidationPipe with a compiled fast path for the common case: a flat DTO (strings,
 * patterns, lengths, enumerations, optional fields) and a value that passes. Such a class's rules
 * are read from class-validator's metadata once and run as plain checks; a value they accept is
 * returned as the instance class-transformer would have built. Anything else — an unsupported
 * rule, a value that fails or that a check is unsure of — goes through class-validator and
 * class-transformer as before, so refusals and their wording are unchanged. Assumes the options
 * the app uses: whitelist, forbidNonWhitelisted and transform (else every value takes the full path).
 */
export class CompiledValidationPipe extends ValidationPipe {
  private readonly compiled = new WeakMap<object, Compiled>();
  private readonly fastPathAllowed: boolean;

  constructor(options: ValidationPipeOptions) {
    super(options);
    this.fastPathAllowed = options.whitelist === true && options.forbidNonWhitelisted === true && options.transform === true && !options.expectedType && !options.groups?.length && !options.always && !options.skipMissingProperties && !options.skipNullProperties && !options.skipUndefinedProperties && !options.transformOptions;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const fast = this.fastPath(value, metadata);
    return fast !== undefined ? fast : super.transform(value, metadata);
  }

  /** The instance for a value certainly valid for a compiled class; undefined to take the full path. */
  fastPath(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as (new () => unknown) | undefined;
    if (!this.fastPathAllowed || !metatype || metadata.type === 'custom' || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    if (!plainPrototype(Object.getPrototypeOf(value) as object | null)) return undefined;
    let compiled = this.compiled.get(metatype);
    if (compiled === undefined) this.compiled.set(metatype, (compiled = compile(metatype)));
    if (compiled === null) return undefined;
    const given = value as Record<string, unknown>;
    for (const key in given) {
      if (!compiled.properties.has(key)) return undefined; // not whitelisted: class-validator words the refusal
      const v = given[key];
      if (v !== null && !PRIMITIVE.has(typeof v)) return undefined;
    }
    for (const rule of compiled.properties.values()) {
      const v = given[rule.name];
      if (v === undefined || v === null) {
        if (rule.optional) continue;
        return undefined;
      }
      for (const check of rule.checks) if (!check(v)) return undefined;
    }
    return Object.assign(new metatype() as object, given);
  }
}
