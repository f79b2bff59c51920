import { readFileSync } from 'node:fs';

import { validateSync, type ValidationError } from 'class-validator';

import { ConfigError } from './config.errors.js';
import { type EnvBinding,envBindings } from './env.decorator.js';

export type Environment = Readonly<Record<string, string | undefined>>;
export type FileReader = (path: string) => string;

/** Configuration sections by name: each a class whose properties are bound with `@Env` (the registry is the composition root's). */
export type Sections = Readonly<Record<string, new () => object>>;

/** A loaded configuration: each section's validated instance under its name. */
export type ConfigOf<S extends Sections> = { readonly [K in keyof S]: InstanceType<S[K]> };

export const readFileUtf8: FileReader = (p) => readFileSync(p, 'utf8');

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Builds and validates every section from an environment. The problems found (per section, and by
 * `crossChecks` once each section is valid) are thrown together as one ConfigError whose message
 * names every bad variable and what is expected (never a secret's value).
 */
export function loadSections<S extends Sections>(sections: S, env: Environment, readFile: FileReader = readFileUtf8, crossChecks: (config: ConfigOf<S>) => string[] = () => []): ConfigOf<S> {
  const problems: string[] = [];
  const config: Record<string, object> = {};
  for (const [section, cls] of Object.entries(sections)) {
    const instance = new cls();
    const bindings = envBindings(cls);
    for (const binding of bindings) {
      const raw = readRaw(binding, env, readFile, problems);
      if (raw === undefined) continue;
      const current = (instance as Record<string, unknown>)[binding.property];
      (instance as Record<string, unknown>)[binding.property] = convert(resolveType(binding.type, current), raw);
    }
    const provided = new Set(bindings.filter((b) => readRawPresent(b, env)).map((b) => b.property));
    for (const error of validateSync(instance, { forbidUnknownValues: false })) {
      problems.push(describe(error, bindings, env, provided.has(error.property)));
    }
    config[section] = instance;
  }
  if (problems.length === 0) problems.push(...crossChecks(config as ConfigOf<S>));
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<S>;
}

function readRaw(binding: EnvBinding, env: Environment, readFile: FileReader, problems: string[]): string | undefined {
  const direct = env[binding.name];
  const filePath = binding.secret ? env[`${binding.name}_FILE`] : undefined;
  if (filePath !== undefined && filePath !== '') {
    if (direct !== undefined && direct !== '') {
      problems.push(`set ${binding.name} or ${binding.name}_FILE, not both`);
      return undefined;
    }
    try {
      return readFile(filePath).replace(/\r?\n$/, '');
    } catch {
      problems.push(`${binding.name}_FILE points to a file that cannot be read (${filePath})`);
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

function resolveType(type: EnvBinding['type'], defaultValue: unknown): Exclude<EnvBinding['type'], 'auto'> {
  if (type !== 'auto') return type;
  return typeof defaultValue === 'number' ? 'number' : typeof defaultValue === 'boolean' ? 'boolean' : Array.isArray(defaultValue) ? 'list' : 'string';
}

function convert(type: Exclude<EnvBinding['type'], 'auto'>, raw: string): unknown {
  switch (type) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      return TRUE.has(v) ? true : FALSE.has(v) ? false : raw;
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'string':
      return raw;
  }
}

function readRawPresent(binding: EnvBinding, env: Environment): boolean {
  const present = (v: string | undefined) => v !== undefined && v !== '';
  return present(env[binding.name]) || (binding.secret && present(env[`${binding.name}_FILE`]));
}

/** One problem line: the variable, what is expected, and what was given (never a secret's value). */
function describe(error: ValidationError, bindings: EnvBinding[], env: Environment, provided: boolean): string {
  const binding = bindings.find((b) => b.property === error.property);
  const name = binding?.name ?? error.property;
  const messages = Object.values(error.constraints ?? {}).map((m) => m.replaceAll(error.property, name));
  let shown = '';
  if (!provided) shown = ' (not set)';
  else if (!binding?.secret) shown = ` (got "${(env[name] ?? '').slice(0, 60)}")`;
  return `${messages.join(', ')}${shown}`;
}

/** Every variable the sections understand, in order, with its section and default (for docs and consistency checks). */
export function bindingsOf<S extends Sections>(sections: S): Array<EnvBinding & { section: keyof S & string; defaultValue: unknown }> {
  return Object.entries(sections).flatMap(([section, cls]) => {
    const defaults = new cls() as Record<string, unknown>;
    return envBindings(cls).map((b) => ({ ...b, section, defaultValue: defaults[b.property] }));
  });
}

/** The values of every secret setting of a loaded configuration (read from each section's own bindings), at least `minLength` long. */
export function secretSettingValues(config: object, minLength = 4): string[] {
  const values: string[] = [];
  for (const section of Object.values(config) as object[]) {
    for (const binding of envBindings(section.constructor as new () => object)) {
      const value = (section as Record<string, unknown>)[binding.property];
      if (binding.secret && typeof value === 'string' && value.length >= minLength) values.push(value);
    }
  }
  return values;
}
