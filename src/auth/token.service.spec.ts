import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServerConfig } from '../config/server.config.js';
import { AuthConfig } from './auth.config.js';
import { SigningKeys } from './signing-keys.js';
import { CLOCK_TOLERANCE_SECONDS, TokenService, VERIFIED_TTL_MS } from './token.service.js';

async function service(settings: Partial<AuthConfig> = {}): Promise<{ tokens: TokenService; checks: () => number }> {
  const auth = Object.assign(new AuthConfig(), { tokenClientId: 'panel', tokenClientSecret: 'panel-secret-123', ...settings });
  const keys = new SigningKeys(auth, Object.assign(new ServerConfig(), { mode: 'development' }));
  vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined); // the ephemeral key's warning
  await keys.onModuleInit();
  const tokens = new TokenService(auth, keys);
  const check = vi.spyOn(tokens as unknown as { verifySignature: (t: string) => Promise<unknown> }, 'verifySignature');
  return { tokens, checks: () => check.mock.calls.length };
}

async function issue(tokens: TokenService): Promise<string> {
  const issued = await tokens.issue('panel', 'panel-secret-123');
  if (typeof issued === 'string') throw new Error(issued);
  return issued.access_token;
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-03-02T09:00:00Z'), toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('TokenService.verify, remembered', () => {
  it('checks a new token once, however many calls arrive at the same time', async () => {
    const { tokens, checks } = await service();
    const token = await issue(tokens);
    const answers = await Promise.all([tokens.verify(token), tokens.verify(token), tokens.verify(token)]);
    expect(answers.map((a) => a?.sub)).toEqual(['panel', 'panel', 'panel']);
    expect(await tokens.verify(token)).toMatchObject({ sub: 'panel' });
    expect(checks()).toBe(1);
  });

  it('does not remember a token that failed', async () => {
    const { tokens, checks } = await service();
    const forged = `${(await issue(tokens)).slice(0, -4)}AAAA`;
    expect(await tokens.verify(forged)).toBeUndefined();
    expect(await tokens.verify(forged)).toBeUndefined();
    expect(checks()).toBe(2);
  });

  it('checks a token again after VERIFIED_TTL_MS on the wall clock', async () => {
    const { tokens, checks } = await service();
    const token = await issue(tokens);
    await tokens.verify(token);
    vi.setSystemTime(Date.now() + VERIFIED_TTL_MS);
    await tokens.verify(token);
    expect(checks()).toBe(1);
    vi.setSystemTime(Date.now() + 1);
    expect(await tokens.verify(token)).toMatchObject({ sub: 'panel' });
    expect(checks()).toBe(2);
  });

  it('keeps a token no longer than its exp, so an expired token is refused', async () => {
    const { tokens, checks } = await service({ jwtTtlSeconds: 30 });
    const token = await issue(tokens);
    await tokens.verify(token);
    vi.setSystemTime(Date.now() + 30_000 + 1);
    // past exp, inside the clock tolerance: checked again (and still accepted)
    expect(await tokens.verify(token)).toMatchObject({ sub: 'panel' });
    expect(checks()).toBe(2);
    vi.setSystemTime(Date.now() + CLOCK_TOLERANCE_SECONDS * 1000);
    expect(await tokens.verify(token)).toBeUndefined();
    expect(checks()).toBe(3);
  });
});
