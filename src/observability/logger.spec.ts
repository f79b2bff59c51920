import { describe, expect, it } from 'vitest';

import { loadConfig } from '../app.config.js';
import { runWithCorrelation } from './correlation.js';
import { createLogger, PinoNestLogger, secretValues } from './logger.js';

const SF_SECRET = 'sf-S3cret-ConsumerKey-9f8e';
const SAP_PW = 'sap-Pa55word-Tech!';
const SN_PW = 'sn-Pa55word-"quoted"';
const REDIS_PW = 'r3dis-Passw0rd';

const ENV = {
  LOG_LEVEL: 'info',
  REDIS_URL: `redis://:${REDIS_PW}@cache.internal:6379/0`,
  SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
  SALESFORCE_CLIENT_ID: 'sf-client-id',
  SALESFORCE_CLIENT_SECRET: SF_SECRET,
  SAP_BASE_URL: 'https://s4.example.com',
  SAP_USERNAME: 'C360_TECH',
  SAP_PASSWORD: SAP_PW,
  SERVICENOW_BASE_URL: 'https://acme.service-now.com',
  SERVICENOW_USERNAME: 'c360.integration',
  SERVICENOW_PASSWORD: SN_PW,
};

function capture(env: Record<string, string> = ENV) {
  const lines: string[] = [];
  const logger = createLogger(loadConfig(env, () => ''), { write: (s: string) => void lines.push(s) });
  return { logger, lines, text: () => lines.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines at the configured level', () => {
    const { logger, lines } = capture();
    logger.debug('hidden at info');
    logger.info({ customerId: '0010100001' }, 'profile served');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', service: 'customer360', customerId: '0010100001', msg: 'profile served' });
  });

  it('every line written while serving a request carries its correlation id (trace fields only with tracing on)', async () => {
    const { logger, lines } = capture();
    logger.info('outside');
    await runWithCorrelation('corr-42', async () => {
      await Promise.resolve();
      logger.info({ source: 'sap' }, 'inside');
    });
    const [outside, inside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(outside.correlationId).toBeUndefined();
    expect(inside).toMatchObject({ correlationId: 'corr-42', source: 'sap', msg: 'inside' });
    expect(inside.trace_id).toBeUndefined();
  });

  it('starts and logs when no secret is configured at all (development)', () => {
    const { logger, lines } = capture({ LOG_LEVEL: 'info', SALESFORCE_ENABLED: 'false', SAP_ENABLED: 'false', SERVICENOW_ENABLED: 'false' });
    logger.info('hello');
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'hello' });
  });

  it('scrubs secret values from free text and redacts authorization headers', () => {
    const { logger, text } = capture();
    logger.info({ headers: { authorization: `Bearer ${SF_SECRET}` } }, `login to SAP failed with password ${SAP_PW}`);
    const out = text();
    expect(out).not.toContain(SF_SECRET);
    expect(out).not.toContain(SAP_PW);
    expect(out).toContain('[REDACTED]');
    const line = JSON.parse(out) as { headers: { authorization: string }; msg: string };
    expect(line.headers.authorization).toBe('[REDACTED]');
    expect(line.msg).toBe('login to SAP failed with password [REDACTED]');
  });

  it('scrubs a secret anywhere in a logged object, including JSON-escaped ones', () => {
    const { logger, text } = capture();
    logger.warn({ upstream: { body: `{"client_secret":"${SF_SECRET}"}`, note: `pw=${SN_PW}` } }, 'upstream said');
    const out = text();
    expect(out).not.toContain(SF_SECRET);
    expect(out).not.toContain(JSON.stringify(SN_PW).slice(1, -1));
    expect(out).not.toContain('Pa55word');
    expect(out).toContain('[REDACTED]');
  });

  it('censors a secret key one level down in any logged object, a value no setting knows included; the object logged is left as it was', () => {
    const { logger, lines } = capture();
    const token = { access_token: 'vendor-issued-0123', refresh_token: 'vendor-refresh-4567', token_type: 'Bearer' };
    const login = { username: 'C360_TECH', password: 'typed-in-elsewhere', apiKey: 'k-89ab', clientSecret: 'cs-1', client_secret: 'cs-2' };
    logger.warn({ token, login, customerId: '0010100001', tags: ['password'] }, 'vendor answer');
    const line = JSON.parse(lines[0]) as Record<string, Record<string, unknown>>;
    expect(line.token).toEqual({ access_token: '[REDACTED]', refresh_token: '[REDACTED]', token_type: 'Bearer' });
    expect(line.login).toEqual({ username: 'C360_TECH', password: '[REDACTED]', apiKey: '[REDACTED]', clientSecret: '[REDACTED]', client_secret: '[REDACTED]' });
    expect(line.customerId).toBe('0010100001');
    expect(line.tags).toEqual(['password']);
    expect(token.access_token).toBe('vendor-issued-0123');
    expect(login.password).toBe('typed-in-elsewhere');
  });

  it('an error carrying a secret key is logged as pino serializes errors, with the key censored', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new TypeError('log-in refused'), { password: 'typed-in-elsewhere', status: 401 });
    logger.error({ err }, 'log-in');
    const line = JSON.parse(lines[0]) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({ type: 'TypeError', message: 'log-in refused', password: '[REDACTED]', status: 401 });
    expect(typeof line.err.stack).toBe('string');
    expect(lines[0]).not.toContain('typed-in-elsewhere');
  });

  it('scrubs the Redis password on its own, and the whole Redis URL', () => {
    const { logger, text } = capture();
    logger.error(`auth failed: ${REDIS_PW}`);
    logger.error({ url: ENV.REDIS_URL }, 'cannot connect');
    expect(text()).not.toContain(REDIS_PW);
    expect(text()).toContain('[REDACTED]');
  });

  it('scrubs secrets carried in an error message', () => {
    const { logger, text } = capture();
    logger.error({ err: new Error(`token request failed for secret ${SF_SECRET}`) }, 'oauth');
    expect(text()).not.toContain(SF_SECRET);
    expect(text()).toContain('[REDACTED]');
  });

  it('redacts password-like fields by name', () => {
    const { logger, text } = capture();
    logger.info({ form: { password: 'not-a-configured-one', client_secret: 'another-one' } }, 'form');
    expect(text()).not.toContain('not-a-configured-one');
    expect(text()).not.toContain('another-one');
  });

  it('the Nest adapter goes through the same scrubbing', () => {
    const { logger, text } = capture();
    new PinoNestLogger(logger).log(`connecting with ${SAP_PW}`, 'Bootstrap');
    new PinoNestLogger(logger).error(new Error(`failed ${SAP_PW}`), 'stack', 'Ctx');
    expect(text()).not.toContain(SAP_PW);
    expect(text()).toContain('"context":"Bootstrap"');
  });

  it('the Nest adapter drops a disabled level before building the line, and still writes enabled ones', () => {
    const { logger, lines } = capture();
    let read = 0;
    const message = {
      get detail() {
        read++;
        return 'x';
      },
    };
    new PinoNestLogger(logger).debug(message, 'Hot');
    expect(read).toBe(0); // not even copied
    expect(lines).toHaveLength(0);
    new PinoNestLogger(logger).log(message, 'Hot');
    expect(read).toBe(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', context: 'Hot', detail: 'x' });
  });

  // BUG: the scrub pattern is an alternation in configuration order; when one secret is a prefix of another,
  // the shorter one matches first and the rest of the longer secret is written to the log.
  it('does not leak the tail of a secret that starts with another secret', () => {
    const { logger, text } = capture({ ...ENV, SAP_PASSWORD: 'shared-Prefix', SERVICENOW_PASSWORD: 'shared-Prefix-AndTail' });
    logger.info('servicenow password is shared-Prefix-AndTail');
    expect(text()).not.toContain('AndTail');
  });
});

describe('secretValues', () => {
  it('lists the configured secrets and the Redis password, and nothing else', () => {
    const values = secretValues(loadConfig(ENV, () => ''));
    expect([...values].sort()).toEqual([ENV.REDIS_URL, REDIS_PW, SF_SECRET, SAP_PW, SN_PW].sort());
  });
});
