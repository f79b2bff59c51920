import { describe, expect, it, vi } from 'vitest';

import { REQUIRED_SETTINGS as REQUIRED } from '../test/support/required-settings.js';
import { allBindings, CONFIG_SECTIONS, loadConfig } from './app.config.js';
import { ConfigError } from './config/config.errors.js';
import { envBindings } from './config/env.decorator.js';
import type { Environment, FileReader } from './config/load-config.js';
import { SapConfig } from './connectors/sap/sap.config.js';

function env(overrides: Record<string, string | undefined> = {}): Environment {
  return { ...REQUIRED, ...overrides };
}

function without(...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(REQUIRED).filter(([k]) => !names.includes(k)));
}

const noFiles: FileReader = (path) => {
  throw new Error(`unexpected read of ${path}`);
};

/** The ConfigError loadConfig throws for `e` (fails the test when it loads). */
function configError(e: Environment, readFile: FileReader = noFiles): ConfigError {
  try {
    loadConfig(e, readFile);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig: a complete, valid environment', () => {
  it('loads with the given values in every section', () => {
    const config = loadConfig(env(), noFiles);
    expect(config.salesforce.loginUrl).toBe('https://acme.my.salesforce.com');
    expect(config.salesforce.clientSecret).toBe('sf-client-secret-value');
    expect(config.sap.baseUrl).toBe('https://s4.example.com');
    expect(config.sap.username).toBe('C360_TECH');
    expect(config.sap.password).toBe('sap-password-value');
    expect(config.servicenow.password).toBe('servicenow-password-value');
    // sections are instances of their classes, so Nest can inject them by class
    expect(config.sap).toBeInstanceOf(SapConfig);
  });

  it('applies the documented defaults for everything not given', () => {
    const config = loadConfig(env(), noFiles);
    expect(config.server.port).toBe(3000);
    expect(config.server.logLevel).toBe('info');
    expect(config.server.mode).toBe('development');
    expect(config.sap.sapClient).toBe('100');
    expect(config.sap.enabled).toBe(true);
    expect(config.sap.timeoutMs).toBe(700);
    expect(config.salesforce.apiVersion).toBe('v66.0');
    expect(config.servicenow.authMode).toBe('basic');
    expect(config.redis.url).toBeUndefined();
    expect(config.cache.freshTtlMs).toBe(30_000);
    expect(config.aggregation.deadlineMs).toBe(800);
    expect(config.genesys.region).toBe('mypurecloud.com');
  });

  it('converts numbers and booleans to typed values', () => {
    const config = loadConfig(env({ PORT: '8080', SAP_ENABLED: 'false', CACHE_FRESH_TTL_MS: '1500' }), noFiles);
    expect(config.server.port).toBe(8080);
    expect(config.sap.enabled).toBe(false);
    expect(config.cache.freshTtlMs).toBe(1500);
  });

  it.each([
    ['false', false],
    ['0', false],
    ['no', false],
    ['OFF', false],
    ['true', true],
    ['1', true],
    ['Yes', true],
    ['on', true],
  ])('reads the boolean spelling %j as %j', (raw, expected) => {
    expect(loadConfig(env({ SALESFORCE_ENABLED: raw }), noFiles).salesforce.enabled).toBe(expected);
  });

  it('treats an empty variable as not set (the default applies)', () => {
    expect(loadConfig(env({ PORT: '' }), noFiles).server.port).toBe(3000);
  });
});

describe('loadConfig: missing settings', () => {
  it.each(Object.keys(REQUIRED))('names %s when it is missing', (name) => {
    const err = configError(without(name));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain(name);
    expect(err.problems[0]).toContain('not set');
    expect(err.message).toContain(name);
  });

  it('treats an empty required variable as missing', () => {
    const err = configError(env({ SAP_USERNAME: '' }));
    expect(err.message).toContain('SAP_USERNAME');
  });

  it('reports every problem at once, one entry per variable', () => {
    const err = configError(without('SAP_PASSWORD', 'SERVICENOW_BASE_URL'));
    expect(err.problems).toHaveLength(2);
    expect(err.problems.join('\n')).toContain('SAP_PASSWORD');
    expect(err.problems.join('\n')).toContain('SERVICENOW_BASE_URL');
  });
});

describe('loadConfig: wrong types', () => {
  it('PORT=abc names PORT and says an integer is expected', () => {
    const err = configError(env({ PORT: 'abc' }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('PORT must be an integer number');
    expect(err.problems[0]).toContain('(got "abc")');
    // the variable, not the TypeScript property, is named
    expect(err.message).not.toMatch(/\bport\b/);
  });

  it('PORT out of range says the bound', () => {
    expect(configError(env({ PORT: '70000' })).message).toContain('PORT must not be greater than 65535');
  });

  it('SAP_CLIENT=1000 names SAP_CLIENT and the expected pattern', () => {
    const err = configError(env({ SAP_CLIENT: '1000' }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('SAP_CLIENT must match');
    expect(err.problems[0]).toContain('\\d{3}');
    expect(err.problems[0]).toContain('"1000"');
    expect(err.message).not.toContain('sapClient');
  });

  it('LOG_LEVEL=loud names LOG_LEVEL and lists the allowed values', () => {
    const err = configError(env({ LOG_LEVEL: 'loud' }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('LOG_LEVEL must be one of the following values');
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(err.problems[0]).toContain(level);
  });

  it('an unknown boolean spelling is refused, naming the variable', () => {
    expect(configError(env({ SAP_ENABLED: 'maybe' })).message).toContain('SAP_ENABLED must be a boolean');
  });

  it('reports several wrong types together', () => {
    const err = configError(env({ PORT: 'abc', LOG_LEVEL: 'loud' }));
    expect(err.problems).toHaveLength(2);
  });
});

describe('loadConfig: secrets', () => {
  it("never echoes a secret's value, even when it is invalid", () => {
    const url = 'http://admin:Sup3r-S3cret-Pw@cache.internal:6379/0';
    const err = configError(env({ REDIS_URL: url }));
    expect(err.message).toContain('REDIS_URL');
    expect(err.message).toContain('redis://');
    expect(err.message).not.toContain('Sup3r-S3cret-Pw');
    expect(err.message).not.toContain('cache.internal');
    expect(err.message).not.toContain(url);
  });

  it('does echo a non-secret invalid value (so the check above is meaningful)', () => {
    expect(configError(env({ SAP_BASE_URL: 'not a url' })).message).toContain('"not a url"');
  });

  it('reads <NAME>_FILE through the injected reader and strips one trailing newline', () => {
    const readFile = vi.fn((path: string) => (path === '/run/secrets/sap' ? 'from-file-pw\n' : ''));
    const config = loadConfig(env({ SAP_PASSWORD: undefined, SAP_PASSWORD_FILE: '/run/secrets/sap' }), readFile);
    expect(config.sap.password).toBe('from-file-pw');
    expect(readFile).toHaveBeenCalledTimes(1);
    expect(readFile).toHaveBeenCalledWith('/run/secrets/sap');
  });

  it('strips only one trailing newline (CRLF counts as one) and keeps other whitespace', () => {
    const read = (content: string) => loadConfig(env({ SAP_PASSWORD: undefined, SAP_PASSWORD_FILE: '/s' }), () => content).sap.password;
    expect(read('pw\n\n')).toBe('pw\n');
    expect(read('pw\r\n')).toBe('pw');
    expect(read(' pw ')).toBe(' pw ');
    expect(read('pw')).toBe('pw');
  });

  it('refuses NAME and NAME_FILE both set, without reading the file', () => {
    const readFile = vi.fn(() => 'x');
    const err = configError(env({ SAP_PASSWORD: 'direct-pw', SAP_PASSWORD_FILE: '/run/secrets/sap' }), readFile);
    expect(err.problems).toContain('set SAP_PASSWORD or SAP_PASSWORD_FILE, not both');
    // every other problem is about SAP_PASSWORD too (no unrelated noise), and the value is never shown
    for (const p of err.problems) expect(p).toContain('SAP_PASSWORD');
    expect(err.message).not.toContain('direct-pw');
    expect(readFile).not.toHaveBeenCalled();
  });

  it('an unreadable file is an error naming NAME_FILE', () => {
    const err = configError(env({ SAP_PASSWORD: undefined, SAP_PASSWORD_FILE: '/run/secrets/missing' }), () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    });
    const fileProblem = err.problems.find((p) => p.includes('cannot be read'));
    expect(fileProblem).toBeDefined();
    expect(fileProblem).toMatch(/^SAP_PASSWORD_FILE /);
    expect(fileProblem).toContain('/run/secrets/missing');
    for (const p of err.problems) expect(p).toContain('SAP_PASSWORD');
  });

  it('does not honour _FILE for a non-secret', () => {
    const readFile = vi.fn(() => 'from-file-user');
    const err = configError(env({ SAP_USERNAME: undefined, SAP_USERNAME_FILE: '/run/secrets/user' }), readFile);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('SAP_USERNAME');
    expect(readFile).not.toHaveBeenCalled();
    // and with the variable itself set, the _FILE variable is simply ignored (no "not both" error)
    expect(loadConfig(env({ SAP_USERNAME_FILE: '/run/secrets/user' }), readFile).sap.username).toBe('C360_TECH');
  });

  it('does not echo an invalid secret read from a file', () => {
    const err = configError(env({ REDIS_URL_FILE: '/run/secrets/redis' }), () => 'http://:FileSecretPw@host:6379\n');
    expect(err.message).toContain('REDIS_URL');
    expect(err.message).not.toContain('FileSecretPw');
  });

  // regression: a secret given only through NAME_FILE used to be reported as "(not set)"
  it('does not claim a secret given through NAME_FILE is "not set"', () => {
    const err = configError(env({ REDIS_URL_FILE: '/run/secrets/redis' }), () => 'http://:FileSecretPw@host:6379\n');
    expect(err.message).not.toContain('not set');
  });
});

describe('loadConfig: connector switches', () => {
  it('disabling SAP makes its required settings optional', () => {
    const config = loadConfig({ ...without('SAP_BASE_URL', 'SAP_USERNAME', 'SAP_PASSWORD'), SAP_ENABLED: 'false' }, noFiles);
    expect(config.sap.enabled).toBe(false);
  });

  it('without disabling, the same environment is refused', () => {
    expect(configError(without('SAP_BASE_URL', 'SAP_USERNAME', 'SAP_PASSWORD')).problems).toHaveLength(3);
  });

  it('a disabled connector still validates settings that are always checked', () => {
    const err = configError({ ...without('SAP_BASE_URL', 'SAP_USERNAME', 'SAP_PASSWORD'), SAP_ENABLED: 'false', SAP_CLIENT: '1000' });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('SAP_CLIENT');
  });

  it('disabling every connector needs none of their settings', () => {
    const config = loadConfig({ SALESFORCE_ENABLED: 'false', SAP_ENABLED: 'off', SERVICENOW_ENABLED: 'no' }, noFiles);
    expect([config.salesforce.enabled, config.sap.enabled, config.servicenow.enabled]).toEqual([false, false, false]);
  });

  it('ServiceNow oauth mode needs the client, not the user', () => {
    const base = without('SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD');
    const err = configError({ ...base, SERVICENOW_AUTH: 'oauth' });
    expect(err.problems.join('\n')).toContain('SERVICENOW_CLIENT_ID');
    expect(err.problems.join('\n')).toContain('SERVICENOW_CLIENT_SECRET');
    expect(err.problems.join('\n')).not.toContain('SERVICENOW_USERNAME');
    const config = loadConfig({ ...base, SERVICENOW_AUTH: 'oauth', SERVICENOW_CLIENT_ID: 'id', SERVICENOW_CLIENT_SECRET: 'secret' }, noFiles);
    expect(config.servicenow.authMode).toBe('oauth');
  });
});

describe('allBindings', () => {
  const bindings = allBindings();

  it('lists every variable exactly once', () => {
    const names = bindings.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    const expected = Object.values(CONFIG_SECTIONS).reduce((n, cls) => n + envBindings(cls).length, 0);
    expect(names).toHaveLength(expected);
    for (const name of Object.keys(REQUIRED)) expect(names).toContain(name);
  });

  it('no variable collides with the _FILE form of a secret', () => {
    const names = new Set(bindings.map((b) => b.name));
    for (const b of bindings.filter((x) => x.secret)) expect(names.has(`${b.name}_FILE`)).toBe(false);
  });

  it('gives each variable its section, default and a doc line', () => {
    const byName = new Map(bindings.map((b) => [b.name, b]));
    expect(byName.get('PORT')).toMatchObject({ section: 'server', property: 'port', defaultValue: 3000 });
    expect(byName.get('SAP_CLIENT')).toMatchObject({ section: 'sap', property: 'sapClient', defaultValue: '100' });
    expect(byName.get('SAP_ENABLED')).toMatchObject({ section: 'sap', defaultValue: true });
    expect(byName.get('LOG_LEVEL')).toMatchObject({ section: 'server', defaultValue: 'info' });
    expect(byName.get('REDIS_URL')).toMatchObject({ section: 'redis', secret: true, defaultValue: undefined });
    const sections = Object.keys(CONFIG_SECTIONS);
    for (const b of bindings) {
      expect(sections).toContain(b.section);
      expect(b.doc.length).toBeGreaterThan(0);
    }
  });

  it('flags exactly the secrets as secret', () => {
    expect(
      bindings
        .filter((b) => b.secret)
        .map((b) => b.name)
        .sort(),
    ).toEqual(['GENESYS_API_KEY', 'GENESYS_CLIENT_SECRET', 'JWT_SIGNING_KEY', 'JWT_SIGNING_KEY_PREVIOUS', 'METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_HEADERS', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_TLS_CA', 'REDIS_TLS_CERT', 'REDIS_TLS_KEY', 'REDIS_URL', 'SALESFORCE_CLIENT_SECRET', 'SAP_OAUTH_CLIENT_SECRET', 'SAP_PASSWORD', 'SERVICENOW_CLIENT_SECRET', 'SERVICENOW_PASSWORD', 'TOKEN_CLIENT_SECRET', 'WEBHOOK_HMAC_SECRET', 'WEBHOOK_HMAC_SECRET_PREVIOUS']);
  });
});
