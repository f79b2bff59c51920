import { readFileSync } from 'node:fs';
import { validateSync, type ValidationError } from 'class-validator';
import { CONFIG_SECTIONS, type AppConfig, type SectionName } from './app-config.js';
import { ConfigError } from './config.errors.js';
import { envBindings, type EnvBinding } from './env.decorator.js';

export type Environment = Readonly<Record<string, string | undefined>>;
export type FileReader = (path: string) => string;

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Builds and validates the whole configuration from an environment. Throws a ConfigError whose
 * message names every bad variable and what is expected (never a secret's value).
 */
export function loadConfig(env: Environment, readFile: FileReader = (p) => readFileSync(p, 'utf8')): AppConfig {
  const problems: string[] = [];
  const config: Partial<Record<SectionName, object>> = {};
  for (const [section, cls] of Object.entries(CONFIG_SECTIONS) as Array<[SectionName, new () => object]>) {
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
  if (problems.length === 0) problems.push(...crossSectionProblems(config as AppConfig), ...productionProblems(config as AppConfig));
  if (problems.length > 0) throw new ConfigError(problems);
  return config as AppConfig;
}

/** Settings of different sections that only make sense together. */
function crossSectionProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  const agents = config.auth.internalAuth.includes('genesys-agent');
  if (agents && !config.genesys.orgId) problems.push('INTERNAL_AUTH genesys-agent needs GENESYS_ORG_ID (the organization whose agents are accepted)');
  if (config.widget.oauthClientId && !agents) problems.push('WIDGET_OAUTH_CLIENT_ID needs genesys-agent in INTERNAL_AUTH (the service must accept the tokens the side panel signs in with)');
  if (config.auth.jwtTtlSeconds > config.auth.jwtMaxLifetimeSeconds) {
    problems.push(`JWT_TTL_SECONDS (${config.auth.jwtTtlSeconds}) must not exceed JWT_MAX_LIFETIME_SECONDS (${config.auth.jwtMaxLifetimeSeconds}): the service would refuse its own tokens`);
  }
  return problems;
}

/** Settings that are fine in a sandbox but never in production. */
function productionProblems(config: AppConfig): string[] {
  if (config.server.mode !== 'production') return [];
  const problems: string[] = [];
  if (config.auth.genesysAuth.includes('none')) problems.push('GENESYS_AUTH must not include none when NODE_ENV=production');
  if (config.auth.internalAuth.includes('none')) problems.push('INTERNAL_AUTH must not be none when NODE_ENV=production');
  if (!config.auth.jwtSigningKey && config.auth.tokenClientId) problems.push('JWT_SIGNING_KEY is required when NODE_ENV=production and TOKEN_CLIENT_ID is set');
  return problems;
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

/** Every variable the service understands, for docs and consistency checks. */
export function allBindings(): Array<EnvBinding & { section: SectionName; defaultValue: unknown }> {
  return (Object.entries(CONFIG_SECTIONS) as Array<[SectionName, new () => object]>).flatMap(([section, cls]) => {
    const defaults = new cls() as Record<string, unknown>;
    return envBindings(cls).map((b) => ({ ...b, section, defaultValue: defaults[b.property] }));
  });
}
